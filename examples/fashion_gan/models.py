"""FashionGAN's models, assembled from condgan parts; the one place where configs become keyword arguments.

=================  ==========================================  ===========================================
model              generator                                   discriminator
=================  ==========================================  ===========================================
shape (stage 1)    sr1: (z, d, 4x8x8 constraint) -> 7 logits   sr1: softmax(seg), constraint at 8x8, d at 4x4
render (stage 2)   compositional: U-Net -> 7 region renderings ih1_skip PatchGAN on (image, colour-coded seg)
                   composed with the segmentation (paper 3.3)
                   plain: the same U-Net, 3-channel output     ih1_skip PatchGAN
                   (the paper's Non-Compositional ablation)
                   ih1_skip: the official U-Net (plain image)  ih1_skip PatchGAN
                   ih1: the official original generator        ih1 two-stream D
onestep            sr1-shaped: (z, d, 7 or 4 x 8x8) -> image   sr1-shaped D on the image
=================  ==========================================  ===========================================

The design code d is the frozen text code (100-d), with the wearer's appearance appended when
``model.wearer`` is on (:func:`fashion_gan.conditions.appearance_code`); every network reduces d with its own
learned 1x1 layer, as the official text branch does (100 -> 20).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from condgan.layers.compositional import CompositionalMapping, compose_regions
from condgan.layers.label_maps import one_hot_labels
from condgan.layers.seg_encoding import color_code_segmentation

from . import official_nets
from .conditions import APPEARANCE_DIM, NUM_LABELS, Conditions
from .config import RENDER_KINDS, RunConfig

__all__ = [
    "StageModels",
    "StepInputs",
    "ComposedRenderer",
    "build_stage",
    "design_code",
    "code_dim",
    "stage_inputs",
    "generate_stage",
    "render_from_labels",
]


class ComposedRenderer(nn.Module):
    """A render generator that emits one texture per region, composed with the segmentation.

    ``forward(z, code, seg_code, masks, source=None)``: the wrapped generator maps ``(z, code, seg_code)`` to
    renderings ``(B, K, 3, H, W)``; :class:`condgan.layers.CompositionalMapping` returns
    ``sum_k masks_k * T_k``; regions in ``keep`` come from ``source`` instead (hair and face of
    the input person).
    """

    def __init__(self, generator: nn.Module, *, num_regions: int = NUM_LABELS):
        super().__init__()
        self.generator = generator
        self.compose = CompositionalMapping(num_regions=num_regions, channels=3, mask="probabilities")

    def forward(self, z, code, seg_code, masks, source=None, keep: tuple[int, ...] = ()):
        renderings = self.generator(z, code, seg_code)
        if not keep:
            return self.compose(renderings, masks)
        return compose_regions(renderings, masks, mask="probabilities", keep=keep, source=source)


@dataclass
class StageModels:
    kind: str  # shape | render | onestep
    name: str
    generator: nn.Module
    discriminator: nn.Module
    render: str | None = None
    onestep_constraint: int | None = None


class StepInputs(NamedTuple):
    g_inputs: tuple
    real: tuple
    mismatched: tuple | None
    fake_conditions: tuple


def code_dim(text_dim: int, model_cfg) -> int:
    """Size of the design code: the text code, plus the appearance vector when ``model.wearer``."""
    return text_dim + (APPEARANCE_DIM if model_cfg.wearer else 0)


def design_code(text_encoder, word_ids: torch.Tensor, appearance: torch.Tensor, model_cfg) -> torch.Tensor:
    """d = [text code, appearance] (paper 3.1: d = (text encoding, wearer attributes))."""
    text_code, _ = text_encoder(word_ids)
    if not model_cfg.wearer:
        return text_code
    return torch.cat([text_code, appearance.to(text_code.dtype)], dim=1)


def build_stage(cfg: RunConfig, stage: str) -> StageModels:
    """Build the generator and discriminator of ``stage`` from ``cfg`` (official layer tables at width 1)."""
    m = cfg.model
    common = dict(
        image_size=cfg.data.image_size,
        width=m.width,
        noise_dim=m.z_dim,
        code_dim=code_dim(cfg.text.hidden_size, m),
        code_reduced_dim=m.code_reduced,
    )
    if stage == "shape":
        return StageModels(
            "shape",
            "shape",
            official_nets.sr1_generator(**common),
            official_nets.sr1_discriminator(**_d(common)),
        )
    if stage == "render":
        if m.render not in RENDER_KINDS:
            raise ValueError(f"model.render: expected one of {RENDER_KINDS}, got {m.render!r}")
        if m.render == "compositional":
            # The paper's render generator: the U-Net with one rendering per region, the code tiled over its
            # input as well as at the bottleneck (see condgan.nets.UNetGenerator's code_at_input).
            g = ComposedRenderer(
                official_nets.ih1_skip_generator(**common, num_regions=NUM_LABELS, code_at_input=True)
            )
            d = official_nets.ih1_skip_discriminator(**_d(common))
        elif m.render == "plain":
            # The paper's Non-Compositional ablation: the same generator with a plain 3-channel output.
            g = official_nets.ih1_skip_generator(**common, code_at_input=True)
            d = official_nets.ih1_skip_discriminator(**_d(common))
        elif m.render == "ih1_skip":
            g = official_nets.ih1_skip_generator(**common)
            d = official_nets.ih1_skip_discriminator(**_d(common))
        else:
            g = official_nets.ih1_generator(**common)
            d = official_nets.ih1_discriminator(**_d(common))
        return StageModels("render", f"render_{m.render}", g, d, render=m.render)
    if stage == "onestep":
        if m.onestep_constraint not in (4, 7):
            raise ValueError(f"model.onestep_constraint: expected 4 or 7, got {m.onestep_constraint!r}")
        return StageModels(
            "onestep",
            f"onestep_8{m.onestep_constraint}",
            official_nets.one_step_generator(**common, constraint_channels=m.onestep_constraint),
            official_nets.one_step_discriminator(**_d(common), constraint_channels=m.onestep_constraint),
            onestep_constraint=m.onestep_constraint,
        )
    raise ValueError(f"stage: expected 'shape', 'render' or 'onestep', got {stage!r}")


def _d(common: dict) -> dict:
    return {k: v for k, v in common.items() if k != "noise_dim"}


def _roll(t: torch.Tensor) -> torch.Tensor:
    # The mismatched pair: another person's image and condition with this sentence (official: a random other
    # training image). Rolling the batch by one gives every row a different person at no extra data cost.
    return torch.roll(t, shifts=1, dims=0)


def stage_inputs(models: StageModels, cond: Conditions, code: torch.Tensor, z: torch.Tensor) -> StepInputs:
    """The generator inputs and the discriminator's real / mismatched / fake conditions for one step."""
    if models.kind == "shape":
        c = cond.constraint4
        return StepInputs(
            (z, code, c), (cond.one_hot, c, code), (_roll(cond.one_hot), _roll(c), code), (c, code)
        )
    if models.kind == "render":
        s = cond.seg_code
        g_inputs = (z, code, s, cond.one_hot) if models.render == "compositional" else (z, code, s)
        return StepInputs(g_inputs, (cond.images, s, code), (_roll(cond.images), _roll(s), code), (s, code))
    c = cond.constraint7 if models.onestep_constraint == 7 else cond.constraint4
    return StepInputs((z, code, c), (cond.images, c, code), (_roll(cond.images), _roll(c), code), (c, code))


def render_from_labels(
    models: StageModels, generator, labels: torch.Tensor, code, z, *, source=None, keep: tuple[int, ...] = ()
) -> torch.Tensor:
    """Stage 2 from a label map (ground truth or stage 1's argmax): colour code, then render (and compose).

    ``keep`` (compositional model only) takes those regions' pixels from ``source`` (the input person).
    """
    seg_code = color_code_segmentation(labels)
    if models.render == "compositional":
        return generator(z, code, seg_code, one_hot_labels(labels, NUM_LABELS), source, keep)
    if keep:
        raise ValueError(f"keep: only the compositional render model keeps regions, this is {models.name}")
    return generator(z, code, seg_code)


def generate_stage(models: StageModels, generator, cond: Conditions, code, z) -> torch.Tensor:
    """One model's output for conditions of real people: logits (shape) or an image in [-1, 1]."""
    if models.kind == "shape":
        return generator(z, code, cond.constraint4)
    if models.kind == "render":
        return render_from_labels(models, generator, cond.labels, code, z)
    c = cond.constraint7 if models.onestep_constraint == 7 else cond.constraint4
    return generator(z, code, c)
