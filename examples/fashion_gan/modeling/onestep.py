"""The paper's One-Step GAN baselines: the 8x8 constraint and the code straight to the image."""

from __future__ import annotations

from typing import ClassVar

from . import official_nets
from .stage import Stage, StepInputs, mismatched_rows, net_kwargs, register

__all__ = ["OneStep87", "OneStep84"]


class _OneStep(Stage):
    """``G(z, d, constraint) -> image`` with the stage-1 layers; D is the stage-1 D on the image."""

    kind = "onestep"
    evaluated = True
    channels: ClassVar[int]

    def build_networks(self, cfg):
        g = official_nets.one_step_generator(**net_kwargs(cfg), constraint_channels=self.channels)
        d = official_nets.one_step_discriminator(
            **net_kwargs(cfg, noise=False), constraint_channels=self.channels
        )
        return g, d

    def constraint(self, cond):
        return cond.constraint7 if self.channels == 7 else cond.constraint4

    def step_inputs(self, cond, code, z, mismatch=None):
        c = self.constraint(cond)
        other = (mismatched_rows(cond.images, mismatch), mismatched_rows(c, mismatch), code)
        return StepInputs((z, code, c), (cond.images, c, code), other, (c, code))

    def generate(self, generator, cond, code, z):
        return generator(z, code, self.constraint(cond))


@register
class OneStep87(_OneStep):
    """One-Step GAN (8-7): the unmerged 7-class segmentation at 8x8."""

    name = "onestep_87"
    model_fields = {"onestep_constraint": 7}
    title = "One-Step GAN (8-7)"
    channels = 7


@register
class OneStep84(_OneStep):
    """One-Step GAN (8-4): the merged 4-class constraint at 8x8, as stage 1 sees it."""

    name = "onestep_84"
    model_fields = {"onestep_constraint": 4}
    title = "One-Step GAN (8-4)"
    channels = 4
