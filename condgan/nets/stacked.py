"""Two-stage (stacked) generation: a shape generator, a condition encoding, then a render generator.

FashionGAN (paper §3) generates a segmentation first (stage 1, ``G_shape``), encodes it, and renders the image
from it (stage 2, ``G_image``). The official code trains the two stages independently on ground-truth
segmentations and chains them only at test time (see
[the FashionGAN recipe](../fashiongan.md#stage-2-render));
[`StackedPipeline`][condgan.nets.stacked.StackedPipeline] supports both uses: each stage stays a plain
submodule that can be trained alone, and ``forward`` chains them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import torch
from torch import nn

from condgan._checks import check_bool, check_tensor

__all__ = ["StackedPipeline", "StackedOutput"]


class StackedOutput(NamedTuple):
    """What [`StackedPipeline.forward`][condgan.nets.stacked.StackedPipeline.forward] returns."""

    segmentation: torch.Tensor
    """Stage-1 output, e.g. ``(B, K, H, W)`` segmentation logits."""
    condition: torch.Tensor
    """The encoded stage-2 condition, ``encode(segmentation)``."""
    image: torch.Tensor
    """Stage-2 output, e.g. ``(B, 3, H, W)``."""


class StackedPipeline(nn.Module):
    """Chain ``stage1 -> encode -> stage2``.

    ``segmentation = stage1(z_shape, code, constraint)``; ``condition = encode(segmentation)``;
    ``image = stage2(z_image, code_image or code, condition)`` (plus ``segmentation`` as a fourth argument
    when ``pass_segmentation``, e.g. for a render generator whose regions are composed with it).

    Args:
        stage1: the shape generator, called as ``stage1(z, code, constraint)``.
        stage2: the render generator, called as ``stage2(z, code, condition)``.
        encode: turns the stage-1 output into the stage-2 condition, e.g. argmax then one-hot, or softmax then
            the official colour code (an ``nn.Module`` is registered as a submodule).
        detach_between: stop gradients from stage 2 reaching stage 1 (the official stages are trained apart;
            an argmax passes no gradient anyway).
        pass_segmentation: also give stage 2 the (possibly detached) stage-1 output.

    Examples:
        >>> from condgan.nets import ConditionalGenerator
        >>> shape = ConditionalGenerator(output="logits", out_channels=3, noise_dim=2, code_dim=4,
        ...     code_reduced_dim=None, up_channels=(8, 8), condition_channels=2, condition_size=8,
        ...     condition_encoder_channels=(4,), fuse_at=8, mid_at=None, mid_channels=())
        >>> render = ConditionalGenerator(noise_dim=2, code_dim=4, code_reduced_dim=None, up_channels=(8, 8),
        ...     condition_channels=3, condition_size=16, condition_encoder="strided",
        ...     condition_encoder_channels=(4, 4), fuse_at=4, mid_at=None, mid_channels=())
        >>> pipe = StackedPipeline(shape, render, lambda s: torch.softmax(s, dim=1))
        >>> out = pipe(torch.randn(2, 2), torch.randn(2, 4), torch.rand(2, 2, 8, 8), torch.randn(2, 2))
        >>> out.segmentation.shape, out.image.shape
        (torch.Size([2, 3, 16, 16]), torch.Size([2, 3, 16, 16]))
    """

    def __init__(
        self,
        stage1: nn.Module,
        stage2: nn.Module,
        encode: Callable[[torch.Tensor], torch.Tensor],
        *,
        detach_between: bool = True,
        pass_segmentation: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (("stage1", stage1), ("stage2", stage2)):
            if not isinstance(value, nn.Module):
                raise TypeError(f"{name}: expected an nn.Module, got {type(value).__name__}")
        if not callable(encode):
            raise TypeError(f"encode: expected a callable tensor -> tensor, got {type(encode).__name__}")
        self.stage1 = stage1
        self.stage2 = stage2
        if isinstance(encode, nn.Module):
            self.encode = encode
        else:
            self._encode_fn = encode
        self.detach_between = check_bool("detach_between", detach_between)
        self.pass_segmentation = check_bool("pass_segmentation", pass_segmentation)

    def _encode(self, segmentation: torch.Tensor) -> torch.Tensor:
        fn = self.encode if "encode" in self._modules else self._encode_fn
        condition = fn(segmentation)
        check_tensor("encode(segmentation)", condition)
        return condition

    def render(
        self,
        z: torch.Tensor | None,
        code: torch.Tensor | None,
        segmentation: torch.Tensor,
        **stage2_kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Stage 2 alone from a segmentation (stage-1 output or ground truth): returns (condition, image).

        ``stage2_kwargs`` go to ``stage2`` as keyword arguments (e.g. a source image for kept regions).
        """
        check_tensor("segmentation", segmentation)
        if self.detach_between:
            segmentation = segmentation.detach()
        condition = self._encode(segmentation)
        if self.pass_segmentation:
            return condition, self.stage2(z, code, condition, segmentation, **stage2_kwargs)
        return condition, self.stage2(z, code, condition, **stage2_kwargs)

    def forward(
        self,
        z_shape: torch.Tensor | None,
        code: torch.Tensor | None,
        constraint: torch.Tensor | None,
        z_image: torch.Tensor | None,
        *,
        code_image: torch.Tensor | None = None,
        stage2_kwargs: Mapping[str, Any] | None = None,
    ) -> StackedOutput:
        """Run both stages; ``code_image`` (default: ``code``) conditions stage 2.

        ``stage2_kwargs`` are passed to ``stage2`` as keyword arguments.
        """
        segmentation = self.stage1(z_shape, code, constraint)
        check_tensor("stage1 output", segmentation)
        code2 = code if code_image is None else code_image
        condition, image = self.render(z_image, code2, segmentation, **dict(stage2_kwargs or {}))
        return StackedOutput(segmentation, condition, image)
