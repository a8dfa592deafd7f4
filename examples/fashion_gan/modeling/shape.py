"""Stage 1, the shape generator: the 7-class segmentation from the 4x8x8 spatial constraint and the code."""

from __future__ import annotations

from . import official_nets
from .stage import Stage, StepInputs, mismatched_rows, net_kwargs, register

__all__ = ["ShapeStage"]


@register
class ShapeStage(Stage):
    """Official ``sr1``: ``G(z, d, m(S0)) -> 7 logits``; D sees softmax(seg), ``m(S0)`` at 8x8, ``d`` at 4x4.

    Trained with the matching-aware loss and 100 x cross-entropy to the person's own label map.
    """

    name = "shape"
    kind = "shape"
    title = "Stage 1 (shape)"
    evaluated = True
    in_demo = True
    reconstruction = "cross_entropy"
    benchmarked = True

    def build_networks(self, cfg):
        g = official_nets.sr1_generator(**net_kwargs(cfg))
        d = official_nets.sr1_discriminator(**net_kwargs(cfg, noise=False))
        return g, d

    def step_inputs(self, cond, code, z, mismatch=None):
        c = cond.constraint4
        other = (mismatched_rows(cond.one_hot, mismatch), mismatched_rows(c, mismatch), code)
        return StepInputs((z, code, c), (cond.one_hot, c, code), other, (c, code))

    def generate(self, generator, cond, code, z):
        return generator(z, code, cond.constraint4)
