"""Adversarial losses as functions of discriminator logits (no sigmoid inside the networks).

Three kinds, each a pair of discriminator terms (real, fake) and a generator term; every term is the mean over
all logits, so per-sample logits ``(B,)`` and PatchGAN maps ``(B, 1, h, w)`` are treated alike:

| kind    | D, real term                | D, fake term                   | G term                          |
|---------|-----------------------------|--------------------------------|---------------------------------|
| `bce`   | `softplus(-l) = -log s(l)`  | `softplus(l) = -log(1 - s(l))` | `softplus(-l)` (non-saturating) |
| `hinge` | `relu(1 - l)`               | `relu(1 + l)`                  | `-l`                            |
| `lsgan` | `(l - 1)^2`                 | `l^2`                          | `(l - 1)^2`                     |

``s`` is the logistic sigmoid. ``bce`` equals the official ``nn.BCECriterion`` on sigmoid outputs (both
stages of the official code, zhusz/ICCV17-fashionGAN: ``sr1/train.lua`` and ``ih1/train.lua``), computed
stably from logits. ``lsgan`` uses the plain mean squared error of ``nn.MSELoss`` (no 1/2 factor).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from condgan._checks import check_floating, check_tensor

__all__ = [
    "ADVERSARIAL_KINDS",
    "d_real_loss",
    "d_fake_loss",
    "d_loss",
    "g_loss",
    "DiscriminatorLoss",
    "GeneratorLoss",
]

ADVERSARIAL_KINDS = ("bce", "hinge", "lsgan")


def check_kind(kind: object) -> str:
    """Check ``kind`` is one of `ADVERSARIAL_KINDS`."""
    if kind not in ADVERSARIAL_KINDS:
        raise ValueError(f"kind: expected one of {list(ADVERSARIAL_KINDS)}, got {kind!r}")
    return kind


def check_logits(name: str, logits: object) -> torch.Tensor:
    """Check ``logits`` is a non-empty floating tensor with a batch dimension ``(B, ...)``."""
    check_tensor(name, logits)
    check_floating(name, logits)
    if logits.ndim == 0 or logits.numel() == 0:
        raise ValueError(
            f"{name}: expected a non-empty tensor of shape (B,) or (B, ...), got {tuple(logits.shape)}"
        )
    return logits


def batch_layout(logits: torch.Tensor) -> str:
    """``"(B, 1, 14, 14)"`` for logits of shape ``(N, 1, 14, 14)``: the shape with the batch left free."""
    return "(B,)" if logits.ndim == 1 else "(" + ", ".join(["B", *map(str, logits.shape[1:])]) + ")"


def d_real_loss(logits: torch.Tensor, *, kind: str = "bce") -> torch.Tensor:
    """Discriminator term pushing ``logits`` of real (matching) samples up; see the module table.

    Args:
        logits: ``(B,)`` or ``(B, ...)`` discriminator logits.
        kind: ``"bce"``, ``"hinge"`` or ``"lsgan"``.

    Returns:
        A scalar, the mean over all logits.

    Examples:
        >>> float(d_real_loss(torch.tensor([0.0, 0.0])))  # -log(1/2)
        0.6931...
    """
    check_logits("logits", logits)
    check_kind(kind)
    if kind == "bce":
        return F.softplus(-logits).mean()
    if kind == "hinge":
        return F.relu(1.0 - logits).mean()
    return (logits - 1.0).square().mean()


def d_fake_loss(logits: torch.Tensor, *, kind: str = "bce") -> torch.Tensor:
    """Discriminator term pushing ``logits`` of fake (or mismatched) samples down; see the module table.

    Examples:
        >>> float(d_fake_loss(torch.tensor([-1.0, 3.0]), kind="hinge"))  # (0 + 4) / 2
        2.0
    """
    check_logits("logits", logits)
    check_kind(kind)
    if kind == "bce":
        return F.softplus(logits).mean()
    if kind == "hinge":
        return F.relu(1.0 + logits).mean()
    return logits.square().mean()


def _check_pair(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> None:
    check_logits("real_logits", real_logits)
    check_logits("fake_logits", fake_logits)
    if real_logits.shape[1:] != fake_logits.shape[1:]:
        raise ValueError(
            f"fake_logits: expected shape {batch_layout(real_logits)} like real_logits, "
            f"got {tuple(fake_logits.shape)}"
        )


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, *, kind: str = "bce") -> torch.Tensor:
    """Discriminator loss ``d_real_loss(real_logits) + d_fake_loss(fake_logits)``.

    Args:
        real_logits: ``(B_r, ...)`` logits of real samples.
        fake_logits: ``(B_f, ...)`` logits of generated samples, same per-sample shape (batches may differ).
        kind: ``"bce"``, ``"hinge"`` or ``"lsgan"``.

    Returns:
        A scalar.

    Examples:
        >>> float(d_loss(torch.tensor([2.0]), torch.tensor([-2.0]), kind="lsgan"))  # (2-1)^2 + (-2)^2
        5.0
    """
    _check_pair(real_logits, fake_logits)
    return d_real_loss(real_logits, kind=kind) + d_fake_loss(fake_logits, kind=kind)


def g_loss(fake_logits: torch.Tensor, *, kind: str = "bce") -> torch.Tensor:
    """Generator loss on the discriminator's logits of generated samples (BCE: non-saturating).

    Examples:
        >>> float(g_loss(torch.tensor([0.5, -0.5]), kind="hinge"))
        -0.0
    """
    check_logits("fake_logits", fake_logits)
    check_kind(kind)
    if kind == "bce":
        return F.softplus(-fake_logits).mean()
    if kind == "hinge":
        return -fake_logits.mean()
    return (fake_logits - 1.0).square().mean()


class DiscriminatorLoss(nn.Module):
    """Module form of [`d_loss`][condgan.losses.adversarial.d_loss].

    Examples:
        >>> DiscriminatorLoss(kind="hinge")(torch.tensor([1.0]), torch.tensor([-1.0]))
        tensor(0.)
    """

    def __init__(self, *, kind: str = "bce") -> None:
        super().__init__()
        self.kind = check_kind(kind)

    def forward(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return d_loss(real_logits, fake_logits, kind=self.kind)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"


class GeneratorLoss(nn.Module):
    """Module form of [`g_loss`][condgan.losses.adversarial.g_loss].

    Examples:
        >>> GeneratorLoss(kind="lsgan")(torch.tensor([1.0, 1.0]))
        tensor(0.)
    """

    def __init__(self, *, kind: str = "bce") -> None:
        super().__init__()
        self.kind = check_kind(kind)

    def forward(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return g_loss(fake_logits, kind=self.kind)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"
