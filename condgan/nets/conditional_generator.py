"""DCGAN-style conditional generator: noise + code projected to 4x4, up-sampled, fused with a condition.

This one class builds both official FashionGAN DCGAN-style generators, ``sr1`` and ``ih1`` (their layer
tables: [the official networks](../nets.md#the-official-networks)), and their variants:

* stage 1 ``sr1``: fusion at 8x8 with the 4x8x8 spatial constraint encoded by two 3x3 conv blocks, 3x3 "mid"
  blocks at 16x16, 7-channel logits at 128x128;
* stage 2 ``ih1``: fusion at 16x16 with the 3x128x128 colour-coded segmentation encoded by a strided conv
  stream, mid blocks at 32x32, a tanh RGB image;
* the paper's render generator: the same with ``output="regions"``, one RGB rendering per region for the
  compositional mapping layer (paper §3.2);
* the paper's One-Step GAN baseline: the stage-1 shape with ``output="image"``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from condgan._checks import check_bool, check_positive_int
from condgan.layers.conv_norm_act import ConvNormAct, UpBlock
from condgan.layers.create_norm import NormSpec
from condgan.nets._common import (
    CONDITION_ENCODERS,
    CodeReduction,
    build_condition_branch,
    build_mid_blocks,
    check_batch,
    check_channels_list,
    check_choice,
    check_map_input,
    check_nonneg_int,
    check_optional_bool,
    check_optional_int,
    check_vector_input,
    first_weight,
    resolve_mid_at,
)

__all__ = ["ConditionalGenerator", "GENERATOR_OUTPUTS"]

GENERATOR_OUTPUTS = ("logits", "image", "regions")


def _check_num_regions(output: str, num_regions: object) -> None:
    """``num_regions`` is required for, and only for, ``output="regions"``."""
    if output == "regions":
        if num_regions is None:
            raise ValueError("num_regions: expected a positive int with output='regions', got None")
        check_positive_int("num_regions", num_regions)
    elif num_regions is not None:
        raise ValueError(f"num_regions: expected None unless output='regions', got {num_regions!r}")


def _check_input_dim(in_dim: int) -> int:
    """The size of ``[z, reduce(code)]``, which the stem projects to 4x4: at least 1."""
    if in_dim == 0:
        raise ValueError(
            "noise_dim: expected noise_dim + code_dim > 0 (the projection needs an input), got 0"
        )
    return in_dim


class ConditionalGenerator(nn.Module):
    """Conditional DCGAN generator ``G(z, code, condition)``.

    Data flow (``r`` is the resolution, ``up_channels[i]`` lives at ``r = 4 * 2**i``)::

        h = [z, reduce(code)]                      (B, noise_dim + code_reduced_dim)
        x = ReLU(BN(deconv4x4_s1_p0(h)))           (B, up_channels[0], 4, 4)
        for each level r = 4, 8, ..., image_size / 2:
            if r == fuse_at: x = [x, encode(condition)]           concatenation on channels
            if r == mid_at:  x = mid blocks (3x3 conv, BN, LReLU)(x)
            x = UpBlock (deconv 4x4 s2 p1, BN, ReLU)(x)            except after the last level
        y = deconv4x4_s2_p1(x)                     (B, out, image_size, image_size)

    followed by the output activation: none for ``"logits"``, ``tanh`` for ``"image"`` and ``"regions"``.
    The image size is ``4 * 2**len(up_channels)``: one more ``up_channels`` entry doubles it.

    The spatial condition is encoded either at its own resolution by 3x3 conv blocks
    (``condition_encoder="conv3x3"``, which needs ``condition_size == fuse_at``; stage 1: 4x8x8 -> 64 -> 128)
    or by a stream of conv-4 stride-2 blocks from a higher resolution (``"strided"``, which needs
    ``condition_size == fuse_at * 2**len(condition_encoder_channels)``; ``ih1``: 3x128x128 -> 64 -> 128 ->
    256 at 16x16). Every condition block is ``conv -> BN -> LReLU(0.2)``.

    The defaults build the stage-1 layout at 128 with an RGB output (the paper's One-Step GAN 8-4) and
    PyTorch's default init; ``fashion_gan.official_nets`` builds the official networks with their init.

    Args:
        output: ``"logits"`` (no activation, e.g. 7 segmentation classes), ``"image"`` (tanh) or
            ``"regions"`` (tanh, ``num_regions`` renderings of ``out_channels`` channels each).
        out_channels: channels of the output (per region for ``"regions"``).
        num_regions: number of regions ``K``, required for (and only for) ``output="regions"``.
        noise_dim: size of ``z`` (0: no noise input).
        code_dim: size of the code (0: no code input).
        code_reduced_dim: output size of the learned code reduction ``Linear -> LReLU`` (no norm, like the
            official text branch 100 -> 20); ``None`` feeds the code unchanged.
        up_channels: channels at 4x4, 8x8, ...; the first is the projection of ``[z, code]``.
        condition_channels: channels of the spatial condition (0: no spatial condition).
        condition_size: its height = width.
        condition_encoder: ``"conv3x3"`` or ``"strided"`` (see above).
        condition_encoder_channels: output channels of the condition blocks.
        fuse_at: resolution at which the encoded condition is concatenated.
        mid_at: resolution of the 3x3 mid blocks (after the fusion when equal to ``fuse_at``).
        mid_channels: output channels of the mid blocks (empty: none).
        norm: normalisation of every block but the last (see
            [`condgan.layers.create_norm.get_norm_layer`][condgan.layers.create_norm.get_norm_layer]).
        bias: conv and linear biases (``None``: only where no norm follows; the official ``sr1``/``ih1`` use
            ``False`` everywhere).
        spectral_norm: spectral normalisation on every conv.

    Shapes:
        ``z (B, noise_dim)``, ``code (B, code_dim)``, ``condition (B, condition_channels, S, S)`` ->
        ``(B, out_channels, H, W)``, or ``(B, num_regions, out_channels, H, W)`` for ``"regions"``.

    Examples:
        >>> g = ConditionalGenerator(
        ...     output="logits", out_channels=7, noise_dim=8, code_dim=10, code_reduced_dim=4,
        ...     up_channels=(32, 16, 8), condition_channels=4, condition_size=8,
        ...     condition_encoder_channels=(8,), fuse_at=8, mid_at=16, mid_channels=(8,))
        >>> g(torch.randn(2, 8), torch.randn(2, 10), torch.rand(2, 4, 8, 8)).shape
        torch.Size([2, 7, 32, 32])
    """

    def __init__(
        self,
        *,
        output: str = "image",
        out_channels: int = 3,
        num_regions: int | None = None,
        noise_dim: int = 80,
        code_dim: int = 100,
        code_reduced_dim: int | None = 20,
        up_channels: Sequence[int] = (1024, 512, 256, 128, 64),
        condition_channels: int = 4,
        condition_size: int = 8,
        condition_encoder: str = "conv3x3",
        condition_encoder_channels: Sequence[int] = (64, 128),
        fuse_at: int = 8,
        mid_at: int | None = 16,
        mid_channels: Sequence[int] = (512, 512, 256),
        norm: NormSpec = "batch",
        bias: bool | None = None,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        check_choice("output", output, GENERATOR_OUTPUTS)
        check_positive_int("out_channels", out_channels)
        _check_num_regions(output, num_regions)
        check_nonneg_int("noise_dim", noise_dim)
        check_nonneg_int("code_dim", code_dim)
        up_channels = check_channels_list("up_channels", up_channels)
        check_nonneg_int("condition_channels", condition_channels)
        check_choice("condition_encoder", condition_encoder, CONDITION_ENCODERS)
        check_optional_int("fuse_at", fuse_at)
        check_optional_int("mid_at", mid_at)
        check_optional_bool("bias", bias)
        check_bool("spectral_norm", spectral_norm)
        mid_channels = check_channels_list("mid_channels", mid_channels, allow_empty=True)
        resolutions = [4 * 2**i for i in range(len(up_channels))]
        self.image_size = 4 * 2 ** len(up_channels)
        block = {"norm": norm, "bias": bias, "spectral_norm": spectral_norm}  # every conv block's options

        self.code_branch = CodeReduction(code_dim, code_reduced_dim, norm=False, bias=bias)
        in_dim = _check_input_dim(noise_dim + self.code_branch.out_dim)
        self.condition_encoder, fuse_at, cond_out = build_condition_branch(
            condition_encoder,
            condition_channels,
            condition_size,
            condition_encoder_channels,
            fuse_at=fuse_at,
            resolutions=resolutions,
            first_norm=True,
            **block,
        )
        mid_at = resolve_mid_at(mid_at, mid_channels, resolutions)
        if mid_at is not None and fuse_at is not None and mid_at < fuse_at:
            raise ValueError(f"mid_at: expected a resolution >= fuse_at={fuse_at}, got {mid_at}")

        self.output = output
        self.out_channels = out_channels
        self.num_regions = num_regions
        self.noise_dim = noise_dim
        self.code_dim = code_dim
        self.condition_channels = condition_channels
        self.condition_size = condition_size if condition_channels else None
        self.fuse_at = fuse_at
        self.mid_at = mid_at

        self.stem = ConvNormAct(
            in_dim, up_channels[0], kernel_size=4, stride=1, padding=0, transposed=True, act="relu", **block
        )
        self.mid, self.ups, prev = self._build_levels(
            up_channels, resolutions, cond_out, mid_channels, **block
        )
        final_out = out_channels * (num_regions or 1)
        self.final = UpBlock(prev, final_out, norm="none", act="none", bias=bias, spectral_norm=spectral_norm)

    def _build_levels(
        self,
        up_channels: tuple[int, ...],
        resolutions: list[int],
        cond_out: int,
        mid_channels: tuple[int, ...],
        *,
        norm: NormSpec,
        bias: bool | None,
        spectral_norm: bool,
    ) -> tuple[nn.Sequential | None, nn.ModuleList, int]:
        """The mid blocks and the UpBlocks after the stem, built level by level (4, 8, ...) in the order
        [`forward`][condgan.nets.conditional_generator.ConditionalGenerator.forward] runs them; returns
        ``(mid, ups, channels of the last level)``."""
        mid, ups, prev = None, [], up_channels[0]
        for i, res in enumerate(resolutions):
            if res == self.fuse_at:
                prev += cond_out
            if res == self.mid_at:
                mid = build_mid_blocks(prev, mid_channels, norm=norm, bias=bias, spectral_norm=spectral_norm)
                prev = mid_channels[-1]
            if i + 1 < len(up_channels):
                ups.append(
                    UpBlock(prev, up_channels[i + 1], norm=norm, bias=bias, spectral_norm=spectral_norm)
                )
                prev = up_channels[i + 1]
        return mid, nn.ModuleList(ups), prev

    def forward(
        self, z: torch.Tensor | None, code: torch.Tensor | None, condition: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Generate from noise ``z``, ``code`` and the spatial ``condition`` (see the class docstring)."""
        weight = first_weight(self)
        z = check_vector_input("z", z, self.noise_dim, "noise_dim", like=weight)
        code = check_vector_input("code", code, self.code_dim, "code_dim", like=weight)
        condition = check_map_input(
            "condition", condition, self.condition_channels, self.condition_size, like=weight
        )
        batch = check_batch(z=z, code=code, condition=condition)
        parts = [t for t in (z, self.code_branch(code) if code is not None else None) if t is not None]
        h = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
        x = self.stem(h.reshape(batch, -1, 1, 1))
        res = 4
        for i in range(len(self.ups) + 1):
            if res == self.fuse_at:
                x = torch.cat([x, self.condition_encoder(condition)], dim=1)
            if res == self.mid_at:
                x = self.mid(x)
            if i < len(self.ups):
                x = self.ups[i](x)
                res *= 2
        y = self.final(x)
        if self.output == "logits":
            return y
        y = torch.tanh(y)
        if self.output == "regions":
            y = y.unflatten(1, (self.num_regions, self.out_channels))
        return y
