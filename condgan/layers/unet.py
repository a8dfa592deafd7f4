"""The pix2pix U-Net halves used by the official ``ih1_skip`` generator.

* [`unet_channels`][condgan.layers.unet.unet_channels]: the channels of an encoder that halves ``H`` down to
  1x1 (``log2(H)`` levels, ``min(base * 2**i, max)`` channels at level ``i``).
* [`UNetEncoder`][condgan.layers.unet.UNetEncoder]: ``(B, C_in, H, W) -> [e_1 (B, c_1, H/2, W/2), ...,
  e_n (B, c_n, H/2^n, W/2^n)]``, conv 4x4 stride-2 levels.
* [`UNetDecoder`][condgan.layers.unet.UNetDecoder]: the bottleneck ``(B, C, h, w)`` and the skips, deepest
  first, ``-> (B, out_channels, 2^(n+1) h, 2^(n+1) w)``, transposed conv 4x4 stride-2 levels.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from condgan._checks import (
    check_channels_list,
    check_choice,
    check_dtype_like,
    check_nonneg_int,
    check_positive_int,
    check_rank,
)
from condgan.layers.conv_norm_act import UPSAMPLE_MODES, DownBlock, UpBlock
from condgan.layers.create_norm import NormSpec
from condgan.layers.film import FiLM

__all__ = ["unet_channels", "UNetEncoder", "UNetDecoder"]


def unet_channels(image_size: int, *, base_channels: int = 64, max_channels: int = 512) -> tuple[int, ...]:
    """Channels of a pix2pix U-Net encoder that halves ``image_size`` down to 1x1.

    Level ``i`` (0-based) has ``min(base * 2**i, max)`` channels and resolution ``image_size / 2**(i+1)``,
    so there are ``log2(image_size)`` levels: 7 at 128 (the official ``ih1_skip``: 64, 128, 256, 512, 512,
    512, 512), 6 at 64, 5 at 32.

    Examples:
        >>> unet_channels(128)
        (64, 128, 256, 512, 512, 512, 512)
        >>> unet_channels(32, base_channels=8, max_channels=32)
        (8, 16, 32, 32, 32)
    """
    check_positive_int("image_size", image_size)
    check_positive_int("base_channels", base_channels)
    check_positive_int("max_channels", max_channels)
    if image_size < 2 or image_size & (image_size - 1):
        raise ValueError(f"image_size: expected a power of two >= 2, got {image_size}")
    levels = image_size.bit_length() - 1
    return tuple(min(base_channels * 2**i, max_channels) for i in range(levels))


class UNetEncoder(nn.Module):
    """pix2pix U-Net encoder: a chain of conv 4x4 stride-2 levels, each halving the resolution.

    Level 1 is a bare conv (no activation before it, no norm after it); levels 2..n-1 are
    ``LeakyReLU(0.2) -> conv -> norm``; the innermost level n is ``LeakyReLU -> conv`` without a norm (its
    output is 1x1 when the encoder has ``log2(H)`` levels, where a batch norm sees one value per channel).

    Args:
        in_channels: input channels.
        channels: output channels of each level, outermost first (see
            [`unet_channels`][condgan.layers.unet.unet_channels]).
        norm: see [`get_norm_layer`][condgan.layers.create_norm.get_norm_layer].
        bias: conv bias (``None``: only without a norm).
        spectral_norm: spectral normalisation on every conv.

    Shapes:
        ``(B, C_in, H, W) -> [e_1 (B, c_1, H/2, W/2), ..., e_n (B, c_n, H/2^n, W/2^n)]``.

    Examples:
        >>> enc = UNetEncoder(3, channels=(8, 16, 16))
        >>> [tuple(f.shape) for f in enc(torch.randn(2, 3, 16, 16))]
        [(2, 8, 8, 8), (2, 16, 4, 4), (2, 16, 2, 2)]
    """

    def __init__(
        self,
        in_channels: int,
        *,
        channels: Sequence[int] = (64, 128, 256, 512, 512, 512, 512),
        norm: NormSpec = "batch",
        bias: bool | None = None,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        check_positive_int("in_channels", in_channels)
        channels = check_channels_list("channels", channels)
        self.in_channels = in_channels
        self.channels = channels
        blocks = []
        prev = in_channels
        for i, c in enumerate(channels):
            outer, inner = i == 0, i == len(channels) - 1 and i > 0
            blocks.append(
                DownBlock(
                    prev,
                    c,
                    norm="none" if (outer or inner) else norm,
                    act="none" if outer else "lrelu",
                    act_first=True,
                    bias=bias,
                    spectral_norm=spectral_norm,
                )
            )
            prev = c
        self.levels = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the features of every level, outermost first."""
        check_rank("x", x, 4, "(B, C, H, W)")
        need = 2 ** len(self.levels)
        if x.shape[-2] % need or x.shape[-1] % need:
            raise ValueError(
                f"x: expected H and W divisible by 2**levels = {need}, got {tuple(x.shape[-2:])}"
            )
        if min(x.shape[-2:]) < need:
            raise ValueError(f"x: expected H and W >= 2**levels = {need}, got {tuple(x.shape[-2:])}")
        check_dtype_like("x", x, self)
        feats = []
        for level in self.levels:
            x = level(x)
            feats.append(x)
        return feats


class UNetDecoder(nn.Module):
    """pix2pix U-Net decoder: transposed conv 4x4 stride-2 levels with skip connections.

    Level i is ``ReLU -> deconv -> norm [-> Dropout]`` producing ``channels[i]`` channels, then concatenated
    with the encoder feature ``skips[i]`` of the same resolution; a last ``ReLU -> deconv`` (no norm, no
    activation) gives ``out_channels``. The caller applies the output activation (``tanh`` for images).
    The first ``num_dropout`` levels use dropout (pix2pix: 3, with p = 0.5).

    Args:
        in_channels: channels of the bottleneck input (the innermost encoder feature, plus any code
            concatenated to it).
        skip_channels: channels of the skip features, deepest first (the encoder's ``channels[-2::-1]``).
        channels: output channels of each decoder level, same length as ``skip_channels``.
        out_channels: channels of the final output.
        norm: see [`get_norm_layer`][condgan.layers.create_norm.get_norm_layer].
        dropout: dropout probability of the first ``num_dropout`` levels.
        num_dropout: how many levels (from the innermost) use dropout.
        bias: conv bias (``None``: only without a norm, i.e. on the last deconv).
        spectral_norm: spectral normalisation on every deconv.
        upsample: ``"deconv"`` (official) or ``"resize"`` (nearest-neighbour upsampling + conv 3x3) in every
            level and the last one: see [`UpBlock`][condgan.layers.conv_norm_act.UpBlock].
        final_upsample: the last level's own choice (``None``: ``upsample``). ``"deconv"`` there with
            ``"resize"`` elsewhere keeps a transposed convolution's pixel-fine patterns at full resolution
            only, without its checkerboard at the coarser levels.
        code_dim: when > 0, every level's output is modulated by a code of this width
            ([`FiLM`][condgan.layers.film.FiLM], zero-initialised) before the skip is concatenated, and
            ``forward`` needs ``code``.

    Shapes:
        ``x (B, in_channels, h, w)``, ``skips[i] (B, skip_channels[i], 2^(i+1) h, 2^(i+1) w)``, with
        ``code_dim``: ``code (B, code_dim)`` ``-> (B, out_channels, 2^(n+1) h, 2^(n+1) w)`` with
        ``n = len(skips)``.

    Examples:
        >>> dec = UNetDecoder(in_channels=16, skip_channels=(16, 8), channels=(16, 8), out_channels=3)
        >>> x, skips = torch.randn(2, 16, 2, 2), [torch.randn(2, 16, 4, 4), torch.randn(2, 8, 8, 8)]
        >>> dec(x, skips).shape
        torch.Size([2, 3, 16, 16])
    """

    def __init__(
        self,
        *,
        in_channels: int,
        skip_channels: Sequence[int],
        channels: Sequence[int],
        out_channels: int,
        norm: NormSpec = "batch",
        dropout: float = 0.5,
        num_dropout: int = 3,
        bias: bool | None = None,
        spectral_norm: bool = False,
        code_dim: int = 0,
        upsample: str = "deconv",
        final_upsample: str | None = None,
    ) -> None:
        super().__init__()
        check_positive_int("in_channels", in_channels)
        check_positive_int("out_channels", out_channels)
        self.code_dim = check_nonneg_int("code_dim", code_dim)
        skip_channels = check_channels_list("skip_channels", skip_channels, allow_empty=True)
        channels = check_channels_list("channels", channels, allow_empty=True)
        if len(skip_channels) != len(channels):
            raise ValueError(
                f"channels: expected {len(skip_channels)} entries (one per skip), got {len(channels)}"
            )
        check_nonneg_int("num_dropout", num_dropout)
        if final_upsample is not None:
            check_choice("final_upsample", final_upsample, UPSAMPLE_MODES)
        self.in_channels = in_channels
        self.skip_channels = skip_channels
        self.channels = channels
        self.out_channels = out_channels
        levels = []
        prev = in_channels
        for i, (c, s) in enumerate(zip(channels, skip_channels, strict=True)):
            levels.append(
                UpBlock(
                    prev,
                    c,
                    norm=norm,
                    act="relu",
                    act_first=True,
                    dropout=dropout if i < num_dropout else 0.0,
                    bias=bias,
                    spectral_norm=spectral_norm,
                    mode=upsample,
                )
            )
            prev = c + s
        self.levels = nn.ModuleList(levels)
        self.films = None
        if code_dim:
            self.films = nn.ModuleList(FiLM(code_dim=code_dim, channels=c) for c in channels)
        self.final = UpBlock(
            prev,
            out_channels,
            norm="none",
            act="relu",
            act_first=True,
            bias=bias,
            spectral_norm=spectral_norm,
            mode=upsample if final_upsample is None else final_upsample,
        )

    def forward(
        self, x: torch.Tensor, skips: Sequence[torch.Tensor], code: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Decode ``x`` with ``skips`` (deepest first), modulated by ``code`` when ``code_dim``."""
        check_rank("x", x, 4, "(B, C, h, w)")
        check_dtype_like("x", x, self)
        if (code is None) != (self.films is None):
            raise ValueError(
                f"code: this decoder has code_dim={self.code_dim}, so expected "
                f"{'a (B, code_dim) code' if self.films is not None else 'None'}, got "
                f"{'None' if code is None else type(code).__name__}"
            )
        if isinstance(skips, torch.Tensor) or not isinstance(skips, Sequence):
            raise TypeError(f"skips: expected a sequence of tensors, got {type(skips).__name__}")
        if len(skips) != len(self.levels):
            raise ValueError(f"skips: expected {len(self.levels)} skip tensors, got {len(skips)}")
        for i, (level, skip) in enumerate(zip(self.levels, skips, strict=True)):
            x = level(x)
            if self.films is not None:
                x = self.films[i](x, code)
            check_dtype_like(f"skips[{i}]", skip, x)
            if (
                skip.ndim != 4
                or skip.shape[0] != x.shape[0]
                or skip.shape[1:]
                != (
                    self.skip_channels[i],
                    *x.shape[-2:],
                )
            ):
                raise ValueError(
                    f"skips[{i}]: expected shape ({x.shape[0]}, {self.skip_channels[i]}, {x.shape[-2]}, "
                    f"{x.shape[-1]}), got {tuple(skip.shape)}"
                )
            x = torch.cat([x, skip], dim=1)
        return self.final(x)
