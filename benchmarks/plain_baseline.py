"""The plain baseline: one FashionGAN training iteration written the straightforward way.

This is what the benchmarks compare condgan's step against. It trains the SAME networks (a registered stage's
``build``) on the SAME inputs ([`prepare_inputs`][fashion_gan.training.step.prepare_inputs]) with the same
losses, but without any of the speed features:

- float32 everywhere (no autocast), eager (no ``torch.compile``), NCHW tensors (no channels_last);
- three separate discriminator calls in the D step (real, mismatched, fake.detach());
- ``torch.optim.Adam`` with its per-parameter loop (``foreach=False``, ``fused=False``);
- the G step back-propagates through D without freezing it (as in PyTorch's DCGAN example), so D's weight
  gradients are computed and thrown away by the next ``zero_grad``;
- every loss is read back with ``.item()`` for logging.

The math is the matching-aware objective of the official code (all three D terms with weight 1):
``L_D = BCE(D(x, c), 1) + BCE(D(x', c'), 0) + BCE(D(G(z), c), 0)`` and
``L_G = BCE(D(G(z), c), 1) + 100 * rec(G(z))`` (cross-entropy to the labels in stage 1, L1 to the image in
stage 2).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from fashion_gan.modeling import Stage, StepInputs
from torch import nn

__all__ = ["PlainStep", "plain_adam"]


def plain_adam(params, *, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999)) -> torch.optim.Adam:
    """``torch.optim.Adam`` with the per-parameter loop implementation (no foreach, no fused kernels)."""
    return torch.optim.Adam(params, lr=lr, betas=betas, foreach=False, fused=False)


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


class PlainStep:
    """A straightforward D step + G step over one stage's networks.

    Args:
        stage: The registered stage whose networks these are (it says which reconstruction to use).
        generator: Its generator (trained in place).
        discriminator: Its discriminator (trained in place).
        reconstruction_weight: Weight of the supervised term (official 100).
        lr: Adam learning rate (official 2e-4, beta1 0.5).
    """

    def __init__(
        self,
        stage: Stage,
        generator: nn.Module,
        discriminator: nn.Module,
        *,
        reconstruction_weight: float = 100.0,
        lr: float = 2e-4,
    ) -> None:
        if not isinstance(stage, Stage):
            raise TypeError(f"stage: expected a fashion_gan.modeling.Stage, got {type(stage).__name__}")
        self.stage = stage
        self.generator = generator
        self.discriminator = discriminator
        self.g_opt = plain_adam(self.generator.parameters(), lr=lr)
        self.d_opt = plain_adam(self.discriminator.parameters(), lr=lr)
        self.reconstruction_weight = float(reconstruction_weight)

    def reconstruction(self, fake: torch.Tensor, labels: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        """Stage 1: per-pixel cross-entropy to the labels; otherwise L1 to the real image."""
        if self.stage.reconstruction == "cross_entropy":
            return F.cross_entropy(fake, labels)
        return F.l1_loss(fake, images)

    def __call__(self, inputs: StepInputs, labels: torch.Tensor, images: torch.Tensor) -> dict[str, float]:
        """One iteration; returns the losses as floats."""
        g, d = self.generator, self.discriminator
        fake = g(*inputs.g_inputs)

        # D step: three separate calls.
        self.d_opt.zero_grad()
        d_real = _bce(d(*inputs.real), 1.0)
        d_mismatch = _bce(d(*inputs.mismatched), 0.0)
        d_fake = _bce(d(fake.detach(), *inputs.fake_conditions), 0.0)
        d_total = d_real + d_mismatch + d_fake
        d_total.backward()
        self.d_opt.step()

        # G step: D is called again after its update, not frozen.
        self.g_opt.zero_grad()
        g_adv = _bce(d(fake, *inputs.fake_conditions), 1.0)
        g_rec = self.reconstruction(fake, labels, images)
        g_total = g_adv + self.reconstruction_weight * g_rec
        g_total.backward()
        self.g_opt.step()
        return {
            "d_total": d_total.item(),
            "d_real": d_real.item(),
            "d_mismatch": d_mismatch.item(),
            "d_fake": d_fake.item(),
            "g_adv": g_adv.item(),
            "g_rec": g_rec.item(),
            "g_total": g_total.item(),
        }
