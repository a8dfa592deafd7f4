"""Conv -> norm -> activation blocks of DCGAN- and pix2pix-style conditional GANs.

Every block is a `torch.nn.Sequential` of named children (``pre_act``, ``conv``, ``norm``, ``dropout``,
``act``; absent ones are skipped), so state-dict keys stay readable and forward hooks see each step.

* [`ConvNormAct`][condgan.layers.conv_norm_act.ConvNormAct] is the general block: ``act(norm(conv(x)))``, or
  ``norm(conv(act(x)))`` with ``act_first=True`` (the pix2pix order):
  ``(B, C_in, H, W) -> (B, C_out, H', W')``.
* [`DownBlock`][condgan.layers.conv_norm_act.DownBlock] (conv 4x4, stride 2, padding 1: ``H -> H / 2``),
  [`UpBlock`][condgan.layers.conv_norm_act.UpBlock] (transposed conv 4x4, stride 2, padding 1: ``H -> 2 H``)
  and [`Conv3x3Block`][condgan.layers.conv_norm_act.Conv3x3Block] (``H -> H``) are the three shapes the
  official FashionGAN networks (``sr1``, ``ih1``, ``ih1_skip``) are made of (see
  [Heads and losses](../nets.md#blocks)).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from condgan._checks import (
    check_bool,
    check_choice,
    check_dtype_like,
    check_nonneg_int,
    check_positive_int,
    check_rank,
)
from condgan.layers.create_act import ActSpec, get_activation
from condgan.layers.create_norm import NormSpec, get_norm_layer

__all__ = ["ConvNormAct", "DownBlock", "UpBlock", "UPSAMPLE_MODES", "Conv3x3Block"]


class ConvNormAct(nn.Sequential):
    """``act(norm(conv(x)))``, the basic block of every condgan network.

    With ``act_first=True`` the order is ``norm(conv(act(x)))`` (pix2pix U-Net). Dropout, when asked for,
    follows the norm. Output size of a convolution: ``floor((H + 2p - k) / s) + 1``; of a transposed one:
    ``(H - 1) s - 2p + k``.

    Args:
        in_channels: input channels ``C_in``.
        out_channels: output channels ``C_out``.
        kernel_size: square kernel size ``k``.
        stride: stride ``s``.
        padding: padding ``p``; ``None`` means ``(k - 1) // 2`` (``same`` for odd k at stride 1, halving for
            k = 4 at stride 2, doubling for a transposed k = 4 at stride 2).
        norm: see [`get_norm_layer`][condgan.layers.create_norm.get_norm_layer].
        act: see [`get_activation`][condgan.layers.create_act.get_activation].
        bias: conv bias; ``None`` means a bias only when there is no norm (a norm cancels it).
        transposed: use `ConvTranspose2d`.
        spectral_norm: wrap the conv weight in spectral normalisation (Miyato et al. 2018).
        dropout: dropout probability after the norm (0 disables it).
        act_first: apply the activation before the convolution.
        upsample: when > 1, a nearest-neighbour upsampling by this factor precedes the convolution (the
            resize-convolution of Odena et al. 2016, which has none of the checkerboard pattern of a strided
            transposed convolution).

    Shapes:
        ``(B, C_in, H, W) -> (B, C_out, H', W')``.

    Examples:
        >>> block = ConvNormAct(4, 8, kernel_size=3, norm="batch", act="lrelu")
        >>> block(torch.randn(2, 4, 16, 16)).shape
        torch.Size([2, 8, 16, 16])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        norm: NormSpec = "batch",
        act: ActSpec = "lrelu",
        bias: bool | None = None,
        transposed: bool = False,
        spectral_norm: bool = False,
        dropout: float = 0.0,
        act_first: bool = False,
        upsample: int = 1,
    ) -> None:
        check_positive_int("in_channels", in_channels)
        check_positive_int("upsample", upsample)
        check_positive_int("out_channels", out_channels)
        check_positive_int("kernel_size", kernel_size)
        check_positive_int("stride", stride)
        if padding is None:
            padding = (kernel_size - 1) // 2
        check_nonneg_int("padding", padding)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout!r}")
        if bias is not None and not isinstance(bias, bool):
            raise TypeError(f"bias: expected a bool or None, got {type(bias).__name__}")
        check_bool("transposed", transposed)
        check_bool("spectral_norm", spectral_norm)
        check_bool("act_first", act_first)
        norm_factory = get_norm_layer(norm)
        act_factory = get_activation(act)
        if bias is None:
            bias = norm_factory is None
        conv_cls = nn.ConvTranspose2d if transposed else nn.Conv2d
        conv = conv_cls(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias)
        if spectral_norm:
            conv = _spectral_norm(conv)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if act_first and act_factory is not None:
            layers["pre_act"] = act_factory()
        if upsample > 1:
            layers["upsample"] = nn.Upsample(scale_factor=upsample, mode="nearest")
        layers["conv"] = conv
        if norm_factory is not None:
            layers["norm"] = norm_factory(out_channels)
        if dropout > 0:
            layers["dropout"] = nn.Dropout(dropout)
        if not act_first and act_factory is not None:
            layers["act"] = act_factory()
        super().__init__(layers)
        self.in_channels = in_channels
        self.out_channels = out_channels
        # The smallest input side giving an output of at least 1 pixel.
        if transposed:  # (H - 1) s - 2p + k >= 1
            self.min_size = max(1, -(-(2 * padding + 1 - kernel_size) // stride) + 1)
        else:  # H + 2p >= k
            self.min_size = max(1, kernel_size - 2 * padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C_in, H, W) -> (B, C_out, H', W')``; ``x`` has the weights' dtype (or autocast is on)."""
        check_rank("x", x, 4, "(B, C, H, W)")
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"x: expected {self.in_channels} channels in dim 1, got {x.shape[1]} (shape {tuple(x.shape)})"
            )
        conv = self.conv
        weight = conv._parameters.get("weight")  # plain conv; under spectral norm: the raw weight
        check_dtype_like("x", x, conv.parametrizations.weight.original if weight is None else weight)
        if min(x.shape[-2:]) < self.min_size:
            raise ValueError(
                f"x: expected H and W >= {self.min_size} (kernel {conv.kernel_size[0]}, "
                f"stride {conv.stride[0]}, padding {conv.padding[0]}), got {tuple(x.shape[-2:])}"
            )
        return super().forward(x)


class DownBlock(ConvNormAct):
    """DCGAN down-sampling block: conv 4x4, stride 2, padding 1, then norm and activation; ``H -> H / 2``.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        norm: see [`get_norm_layer`][condgan.layers.create_norm.get_norm_layer] (the first block of a DCGAN
            discriminator uses ``"none"``).
        act: see [`get_activation`][condgan.layers.create_act.get_activation] (default LeakyReLU 0.2).
        **kwargs: the other keywords of [`ConvNormAct`][condgan.layers.conv_norm_act.ConvNormAct] (``bias``,
            ``spectral_norm``, ``dropout``, ``act_first``).

    Examples:
        >>> DownBlock(3, 8, norm="none")(torch.randn(1, 3, 32, 32)).shape
        torch.Size([1, 8, 16, 16])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        norm: NormSpec = "batch",
        act: ActSpec = "lrelu",
        **kwargs,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size=4, stride=2, padding=1, norm=norm, act=act, **kwargs
        )


#: How an [`UpBlock`][condgan.layers.conv_norm_act.UpBlock] doubles the resolution.
UPSAMPLE_MODES = ("deconv", "resize")


class UpBlock(ConvNormAct):
    """DCGAN up-sampling block: deconv 4x4, stride 2, padding 1, then norm and activation; ``H -> 2 H``.

    With ``mode="resize"`` the deconv is a nearest-neighbour upsampling followed by a conv 3x3, padding 1 (not
    official): the same output size, without the checkerboard a strided deconv leaves when nothing else
    (a pixel L1) holds the high frequencies down.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        norm: see [`get_norm_layer`][condgan.layers.create_norm.get_norm_layer].
        act: see [`get_activation`][condgan.layers.create_act.get_activation] (default ReLU, as in DCGAN
            generators).
        mode: ``"deconv"`` (official) or ``"resize"``.
        **kwargs: the other keywords of [`ConvNormAct`][condgan.layers.conv_norm_act.ConvNormAct].

    Examples:
        >>> UpBlock(8, 4)(torch.randn(2, 8, 8, 8)).shape
        torch.Size([2, 4, 16, 16])
        >>> UpBlock(8, 4, mode="resize")(torch.randn(2, 8, 8, 8)).shape
        torch.Size([2, 4, 16, 16])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        norm: NormSpec = "batch",
        act: ActSpec = "relu",
        mode: str = "deconv",
        **kwargs,
    ) -> None:
        check_choice("mode", mode, UPSAMPLE_MODES)
        if mode == "resize":
            shape = dict(kernel_size=3, stride=1, padding=1, upsample=2)
        else:
            shape = dict(kernel_size=4, stride=2, padding=1, transposed=True)
        super().__init__(in_channels, out_channels, norm=norm, act=act, **shape, **kwargs)
        self.mode = mode


class Conv3x3Block(ConvNormAct):
    """Resolution-preserving block: conv 3x3, stride 1, padding 1, then norm and activation; ``H -> H``.

    Examples:
        >>> Conv3x3Block(4, 8)(torch.randn(2, 4, 8, 8)).shape
        torch.Size([2, 8, 8, 8])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        norm: NormSpec = "batch",
        act: ActSpec = "lrelu",
        **kwargs,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size=3, stride=1, padding=1, norm=norm, act=act, **kwargs
        )
