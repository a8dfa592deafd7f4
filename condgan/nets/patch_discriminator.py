"""PatchGAN discriminator with a tiled code (the official ``ih1_skip`` D, the released stage-2 default)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from condgan._checks import check_bool, check_positive_int
from condgan.layers.conditioning import concat_code
from condgan.layers.conv_norm_act import ConvNormAct, DownBlock
from condgan.layers.create_norm import NormSpec
from condgan.nets._common import (
    CodeReduction,
    check_batch,
    check_channels_list,
    check_choice,
    check_map_input,
    check_nonneg_int,
    check_optional_bool,
    check_vector_input,
    first_weight,
)
from condgan.nets.conditional_discriminator import DISCRIMINATOR_HEADS
from condgan.nets.projection import ProjectionHead

__all__ = ["PatchDiscriminator"]


class PatchDiscriminator(nn.Module):
    """PatchGAN ``D(x, condition, code) -> (B, 1, h, w)`` logits, one per overlapping patch.

    Data flow::

        x = [x, condition]                                   concatenated on channels at full resolution
        x = DownBlocks (conv 4x4 s2 p1 -> BN -> LReLU; no BN on the first)   (B, channels[-1], H/2^n, ...)
        x = [x, tile(LReLU(BN(Linear(code))))]                the reduced code at the last strided level
        x = LReLU(BN(conv4x4_s1_p1(x)))                       (B, head_channels, H/2^n - 1, ...)
        head="concat":     logits = conv4x4_s1_p1(x)          (B, 1, H/2^n - 2, H/2^n - 2)
        head="projection": logits = ProjectionHead(x, code)   (B, 1, H/2^n - 1, H/2^n - 1), code not tiled

    The official ``ih1_skip`` D at 128: 6 -> 64 (no BN) -> 128 -> 256 at 16x16, + 20-d text, -> 512 at 15x15
    -> 1 at 14x14. Each output logit sees a 70x70 receptive field at three strided levels.

    Args:
        in_channels: channels of ``x`` (3 for images).
        condition_channels: channels of the full-resolution condition (0: none).
        channels: output channels of the DownBlocks.
        first_norm: normalise the first DownBlock.
        input_softmax: softmax over the channels of ``x`` first (for segmentation inputs).
        code_dim: size of the code (0: none).
        code_reduced_dim: output of the ``Linear -> BN -> LReLU`` code reduction (``None``: the raw code).
        head: ``"concat"`` or ``"projection"`` (per-patch projection, see
            [`condgan.nets.projection.ProjectionHead`][condgan.nets.projection.ProjectionHead]).
        head_channels: channels of the stride-1 conv before the output.
        norm: see [`condgan.layers.create_norm.get_norm_layer`][condgan.layers.create_norm.get_norm_layer].
        bias: conv biases (``None``: only where no norm follows; official ``ih1_skip``: ``True``).
        spectral_norm: spectral normalisation on every conv and linear layer.

    In training mode the batch norm of the code reduction needs a batch of at least 2.

    Shapes:
        ``x (B, in_channels, H, W)``, ``condition (B, condition_channels, H, W)``, ``code (B, code_dim)`` ->
        ``(B, 1, h, w)``; H and W must be divisible by ``2**len(channels)`` and leave at least 3 pixels.

    Examples:
        >>> d = PatchDiscriminator(channels=(8, 16, 16), code_dim=10, code_reduced_dim=4, head_channels=16)
        >>> d(torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32), torch.randn(2, 10)).shape
        torch.Size([2, 1, 2, 2])
    """

    def __init__(
        self,
        *,
        in_channels: int = 3,
        condition_channels: int = 3,
        channels: Sequence[int] = (64, 128, 256),
        first_norm: bool = False,
        input_softmax: bool = False,
        code_dim: int = 100,
        code_reduced_dim: int | None = 20,
        head: str = "concat",
        head_channels: int = 512,
        norm: NormSpec = "batch",
        bias: bool | None = True,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        check_positive_int("in_channels", in_channels)
        check_nonneg_int("condition_channels", condition_channels)
        channels = check_channels_list("channels", channels)
        check_nonneg_int("code_dim", code_dim)
        check_choice("head", head, DISCRIMINATOR_HEADS)
        check_positive_int("head_channels", head_channels)
        check_bool("first_norm", first_norm)
        check_bool("input_softmax", input_softmax)
        check_optional_bool("bias", bias)
        check_bool("spectral_norm", spectral_norm)
        if head == "projection" and code_dim == 0:
            raise ValueError(
                "head: expected 'concat' when code_dim=0 (a projection needs a code), got 'projection'"
            )
        self.in_channels = in_channels
        self.condition_channels = condition_channels
        self.input_softmax = input_softmax
        self.code_dim = code_dim
        self.head_kind = head
        self.num_levels = len(channels)

        blocks = []
        prev = in_channels + condition_channels
        for i, c in enumerate(channels):
            norm_i = norm if (i > 0 or first_norm) else "none"
            blocks.append(DownBlock(prev, c, norm=norm_i, bias=bias, spectral_norm=spectral_norm))
            prev = c
        self.blocks = nn.Sequential(*blocks)
        self.code_branch = CodeReduction(
            code_dim, code_reduced_dim, norm=True, bias=bias, spectral_norm=spectral_norm
        )
        code_out = self.code_branch.out_dim
        tiled = 0 if head == "projection" else code_out
        self.penultimate = ConvNormAct(
            prev + tiled, head_channels, kernel_size=4, stride=1, padding=1, norm=norm, bias=bias,
            spectral_norm=spectral_norm,
        )  # fmt: skip
        if head == "projection":
            self.head = ProjectionHead(
                in_channels=head_channels, code_dim=code_out, pool="none", spectral_norm=spectral_norm
            )
        else:
            self.head = ConvNormAct(
                head_channels, 1, kernel_size=4, stride=1, padding=1, norm="none", act="none", bias=bias,
                spectral_norm=spectral_norm,
            )  # fmt: skip

    def forward(
        self, x: torch.Tensor, condition: torch.Tensor | None = None, code: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Score every patch of ``x`` under ``condition`` and ``code``; returns logits ``(B, 1, h, w)``."""
        weight = first_weight(self)
        check_map_input("x", x, self.in_channels, None, like=weight)
        need = 2**self.num_levels
        if x.shape[-2] % need or x.shape[-1] % need or min(x.shape[-2:]) // need < 3:
            raise ValueError(
                f"x: expected H and W divisible by 2**{self.num_levels} = {need} and at least {3 * need}, "
                f"got {tuple(x.shape[-2:])}"
            )
        condition = check_map_input("condition", condition, self.condition_channels, None, like=weight)
        if condition is not None and condition.shape[-2:] != x.shape[-2:]:
            raise ValueError(
                f"condition: expected the spatial size of x {tuple(x.shape[-2:])}, "
                f"got {tuple(condition.shape[-2:])}"
            )
        code = check_vector_input("code", code, self.code_dim, "code_dim", like=weight)
        check_batch(x=x, condition=condition, code=code)
        if self.input_softmax:
            x = torch.softmax(x, dim=1)
        h = self.blocks(x if condition is None else torch.cat([x, condition], dim=1))
        c = self.code_branch(code) if code is not None else None
        if self.head_kind == "projection":
            return self.head(self.penultimate(h), c)
        if c is not None:
            h = concat_code(h, c)
        return self.head(self.penultimate(h))
