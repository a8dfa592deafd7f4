"""Stage 2, the render generators: the image from a (ground-truth or generated) segmentation and the code.

=================  ==========================================  ===========================================
model              generator                                   discriminator
=================  ==========================================  ===========================================
compositional      U-Net -> 7 region renderings composed with  ih1_skip PatchGAN on (image, colour-coded
                   the segmentation (paper section 3.3)        segmentation)
plain              the same U-Net, 3-channel output (the       ih1_skip PatchGAN
                   paper's Non-Compositional ablation)
ih1_skip           the official U-Net (plain image)            ih1_skip PatchGAN
ih1                the official original generator             ih1 two-stream D
=================  ==========================================  ===========================================

Every render model sees the official stage-2 condition (the colour-coded, blurred label map); the
compositional one also gets the one-hot map its renderings are composed with.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from condgan.layers import (
    CompositionalMapping,
    RegionColors,
    add_region_colors,
    color_code_segmentation,
    compose_regions,
    one_hot_labels,
)

from . import official_nets
from .conditions import APPEARANCE_DIM, ARMS, FACE, HAIR, LEGS, NUM_LABELS
from .stage import Stage, StepInputs, mismatched_rows, net_kwargs, register

__all__ = ["ComposedRenderer", "RenderStage", "RenderFromLabels"]


#: Regions whose base colour is the person's measured colour: anchor slot 0 = skin, 1 = hair.
SKIN_AND_HAIR_ANCHORS = {FACE: 0, LEGS: 0, ARMS: 0, HAIR: 1}


class ComposedRenderer(nn.Module):
    """A render generator that emits one texture per region, composed with the segmentation.

    ``forward(z, code, seg_code, masks, source=None, keep=())``: the wrapped generator maps
    ``(z, code, seg_code)`` to renderings ``(B, K, 3, H, W)``; with ``region_colors`` each rendering is the
    region's base colour plus that residual ([`RegionColors`][condgan.layers.RegionColors]: the measured skin
    and hair colour from the appearance part of the code for face, arms, legs and hair, a colour predicted
    from the code for the others); [`CompositionalMapping`][condgan.layers.CompositionalMapping] returns
    ``sum_k masks_k * T_k``; regions in ``keep`` come from ``source`` instead (hair and face of the input).

    Args:
        generator: ``(z, code, seg_code) -> (B, K, 3, H, W)``.
        num_regions: ``K``.
        region_colors: add base colours (needs the design code to end with the appearance vector).
        code_dim: width of the design code (for ``region_colors``).
        antialias: Gaussian sigma (pixels) that softens the masks' edges before composing (0: hard edges).
    """

    def __init__(
        self,
        generator: nn.Module,
        *,
        num_regions: int = NUM_LABELS,
        region_colors: bool = False,
        code_dim: int | None = None,
        antialias: float = 0.0,
    ):
        super().__init__()
        self.generator = generator
        self.compose = CompositionalMapping(
            num_regions=num_regions, channels=3, mask="probabilities", antialias=antialias
        )
        self.colors = None
        if region_colors:
            self.colors = RegionColors(
                code_dim=code_dim, num_regions=num_regions, anchors=SKIN_AND_HAIR_ANCHORS
            )

    def forward(self, z, code, seg_code, masks, source=None, keep: tuple[int, ...] = ()):
        renderings = self.generator(z, code, seg_code)
        if self.colors is not None:
            renderings = add_region_colors(renderings, self.colors(code, measured_colors(code)))
        if not keep:
            return self.compose(renderings, masks)
        return compose_regions(
            renderings,
            masks,
            mask="probabilities",
            keep=keep,
            source=source,
            antialias=self.compose.antialias,
        )


def measured_colors(code: torch.Tensor) -> torch.Tensor:
    """The person's skin and hair RGB ``(B, 2, 3)``: the appearance vector at the end of the design code."""
    appearance = code[:, -APPEARANCE_DIM:]
    return appearance[:, :6].reshape(-1, 2, 3)


class RenderStage(Stage):
    """A stage-2 model: trained on ground-truth label maps, chained after stage 1 when redressing."""

    kind = "render"
    two_stage = True
    #: The generator takes the one-hot segmentation too (its renderings are composed with it).
    composes: ClassVar[bool] = False

    def step_inputs(self, cond, code, z, mismatch=None):
        s = cond.seg_code
        g_inputs = (z, code, s, cond.one_hot) if self.composes else (z, code, s)
        other = (mismatched_rows(cond.images, mismatch), mismatched_rows(s, mismatch), code)
        return StepInputs(g_inputs, (cond.images, s, code), other, (s, code))

    def generate(self, generator, cond, code, z):
        return self.render(generator, cond.labels, code, z)

    def render(self, generator, labels, code, z, *, source=None, keep: tuple[int, ...] = ()):
        """The image from a label map (B, H, W): colour code, then render (and compose).

        ``keep`` (compositional models only) takes those regions' pixels from ``source`` (the input person).
        """
        seg_code = color_code_segmentation(labels)
        if self.composes:
            return generator(z, code, seg_code, one_hot_labels(labels, NUM_LABELS), source, keep)
        if keep:
            raise ValueError(f"keep: only the compositional render model keeps regions, this is {self.name}")
        return generator(z, code, seg_code)


class RenderFromLabels(nn.Module):
    """``forward(z, code, labels, source=None, keep=())``: one render stage as a module of label maps.

    This is stage 2 of the two-stage chain ([`StackedPipeline`][condgan.nets.StackedPipeline]): it takes the
    label map that stage 1's argmax produced.
    """

    def __init__(self, stage: RenderStage, generator: nn.Module):
        super().__init__()
        self.stage = stage
        self.generator = generator

    def forward(self, z, code, labels, source=None, keep: tuple[int, ...] = ()):
        return self.stage.render(self.generator, labels, code, z, source=source, keep=keep)


def _unofficial_options(cfg) -> dict:
    """The U-Net options of the compositional and plain render models. The official networks (``ih1_skip``,
    ``ih1``) do not take them: they are built from the official tables whatever these say, so a preset that
    sets them (the demo's resize-convolutions) still trains the official networks unchanged."""
    m = cfg.model
    final = None if m.final_upsample == "same" else m.final_upsample
    return {"code_film": m.code_film, "upsample": m.upsample, "final_upsample": final}


@register
class CompositionalRender(RenderStage):
    """The paper's render generator: the U-Net with one rendering per region, composed with the segmentation.

    The code is tiled over the U-Net's input as well as given at its bottleneck: with the code at the
    bottleneck only (official ih1_skip), a briefly trained U-Net ignored it entirely (docs/fashiongan.md).
    """

    name = "render_compositional"
    model_fields = {"render": "compositional"}
    title = "FashionGAN (compositional)"
    evaluated = True
    composes = True
    in_demo = True
    benchmarked = True

    def build_networks(self, cfg):
        kwargs = net_kwargs(cfg)
        g = official_nets.ih1_skip_generator(
            **kwargs, num_regions=NUM_LABELS, code_at_input=True, **_unofficial_options(cfg)
        )
        colors = cfg.model.region_colors
        if colors and not cfg.model.wearer:
            raise ValueError("model.region_colors: needs model.wearer (the measured skin and hair colours)")
        renderer = ComposedRenderer(
            g, region_colors=colors, code_dim=kwargs["code_dim"], antialias=cfg.model.antialias
        )
        return renderer, official_nets.ih1_skip_discriminator(**net_kwargs(cfg, noise=False))


@register
class PlainRender(RenderStage):
    """The paper's Non-Compositional ablation: the same generator with a plain 3-channel output."""

    name = "render_plain"
    model_fields = {"render": "plain"}
    title = "Non-Compositional"
    evaluated = True

    def build_networks(self, cfg):
        g = official_nets.ih1_skip_generator(
            **net_kwargs(cfg), code_at_input=True, **_unofficial_options(cfg)
        )
        return g, official_nets.ih1_skip_discriminator(**net_kwargs(cfg, noise=False))


@register
class Ih1SkipRender(RenderStage):
    """The official released stage 2, ``ih1_skip``: a pix2pix U-Net with the code at its bottleneck."""

    name = "render_ih1_skip"
    model_fields = {"render": "ih1_skip"}
    title = "Two-stage, official ih1_skip"
    benchmarked = True

    def build_networks(self, cfg):
        g = official_nets.ih1_skip_generator(**net_kwargs(cfg))
        return g, official_nets.ih1_skip_discriminator(**net_kwargs(cfg, noise=False))


@register
class Ih1Render(RenderStage):
    """The official originally submitted stage 2, ``ih1``, with its two-stream discriminator."""

    name = "render_ih1"
    model_fields = {"render": "ih1"}
    title = "Two-stage, official ih1"

    def build_networks(self, cfg):
        g = official_nets.ih1_generator(**net_kwargs(cfg))
        return g, official_nets.ih1_discriminator(**net_kwargs(cfg, noise=False))
