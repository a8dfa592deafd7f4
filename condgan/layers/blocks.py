"""Convolution blocks of DCGAN- and pix2pix-style conditional GANs, and the official weight initialisation.

Every block is a `torch.nn.Sequential` of named children (``pre_act``, ``conv``, ``norm``, ``dropout``,
``act``; absent ones are skipped), so state-dict keys stay readable and forward hooks see each step.

* [`ConvNormAct`][condgan.layers.blocks.ConvNormAct] is the general block: ``act(norm(conv(x)))``, or
  ``norm(conv(act(x)))`` with ``act_first=True`` (the pix2pix order).
* [`DownBlock`][condgan.layers.blocks.DownBlock] (conv 4x4, stride 2, padding 1: ``H -> H / 2``),
  [`UpBlock`][condgan.layers.blocks.UpBlock] (transposed conv 4x4, stride 2, padding 1: ``H -> 2 H``) and
  [`Conv3x3Block`][condgan.layers.blocks.Conv3x3Block] (``H -> H``) are the three shapes the FashionGAN
  networks are made of (reference doc §2.3-2.4).
* [`UNetEncoder`][condgan.layers.blocks.UNetEncoder] / [`UNetDecoder`][condgan.layers.blocks.UNetDecoder] are
  the pix2pix U-Net halves used by the official ``ih1_skip`` generator.
* [`init_weights`][condgan.layers.blocks.init_weights] is the DCGAN initialisation with a configurable
  standard deviation (the official ``sr1`` and ``ih1`` networks use ``0.02 / 16``, ``ih1_skip`` uses ``0.02``;
  BatchNorm ``gamma ~ N(1, 0.02)``).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from condgan._checks import (
    check_bool,
    check_dtype_like,
    check_nonneg_float,
    check_positive_int,
    check_rank,
)

__all__ = [
    "get_norm_layer",
    "get_activation",
    "ConvNormAct",
    "DownBlock",
    "UpBlock",
    "Conv3x3Block",
    "UNetEncoder",
    "UNetDecoder",
    "init_weights",
    "unet_channels",
]

NormSpec = str | type | Callable[[int], nn.Module] | None
ActSpec = str | type | None

_NORMS: dict[str, Callable[[int], nn.Module] | None] = {
    "batch": nn.BatchNorm2d,
    "instance": functools.partial(nn.InstanceNorm2d, affine=True),
    "none": None,
}

_ACTIVATIONS: dict[str, Callable[[], nn.Module] | None] = {
    "relu": nn.ReLU,
    "lrelu": functools.partial(nn.LeakyReLU, 0.2),
    "leaky_relu": functools.partial(nn.LeakyReLU, 0.2),
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "none": None,
}


def get_norm_layer(name_or_class: NormSpec) -> Callable[[int], nn.Module] | None:
    """Return a factory ``num_features -> nn.Module`` for a 2-D normalisation layer, or ``None`` for no norm.

    Args:
        name_or_class: ``"batch"`` (`BatchNorm2d`), ``"instance"`` (affine
            `InstanceNorm2d`), ``"none"`` or ``None``, or a class / callable taking the
            number of channels (for group norm: ``lambda c: nn.GroupNorm(4, c)``).

    Returns:
        The factory, or ``None`` when no normalisation is wanted.

    Examples:
        >>> get_norm_layer("batch")(8)
        BatchNorm2d(8, ...)
        >>> get_norm_layer("none") is None
        True
    """
    if name_or_class is None:
        return None
    if isinstance(name_or_class, str):
        key = name_or_class.lower()
        if key not in _NORMS:
            raise ValueError(f"norm: expected one of {sorted(_NORMS)} or a class, got {name_or_class!r}")
        return _NORMS[key]
    if callable(name_or_class):
        return name_or_class
    raise TypeError(f"norm: expected a str, a class or None, got {type(name_or_class).__name__}")


def get_activation(name_or_class: ActSpec) -> nn.Module | None:
    """Return a new activation module, or ``None`` for no activation.

    Args:
        name_or_class: ``"relu"``, ``"lrelu"`` / ``"leaky_relu"`` (slope 0.2), ``"tanh"``, ``"sigmoid"``,
            ``"gelu"``, ``"silu"``, ``"elu"``, ``"none"`` or ``None``, or an ``nn.Module`` subclass built
            without arguments.

    Examples:
        >>> get_activation("lrelu")
        LeakyReLU(negative_slope=0.2)
        >>> get_activation("none") is None
        True
    """
    if name_or_class is None:
        return None
    if isinstance(name_or_class, str):
        key = name_or_class.lower()
        if key not in _ACTIVATIONS:
            raise ValueError(f"act: expected one of {sorted(_ACTIVATIONS)} or a class, got {name_or_class!r}")
        factory = _ACTIVATIONS[key]
        return None if factory is None else factory()
    if isinstance(name_or_class, type) and issubclass(name_or_class, nn.Module):
        return name_or_class()
    raise TypeError(f"act: expected a str, an nn.Module subclass or None, got {type(name_or_class).__name__}")


def _check_nonneg_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected a non-negative int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name}: expected a non-negative int, got {value}")
    return value


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
        norm: see [`get_norm_layer`][condgan.layers.blocks.get_norm_layer].
        act: see [`get_activation`][condgan.layers.blocks.get_activation].
        bias: conv bias; ``None`` means a bias only when there is no norm (a norm cancels it).
        transposed: use `ConvTranspose2d`.
        spectral_norm: wrap the conv weight in spectral normalisation (Miyato et al. 2018).
        dropout: dropout probability after the norm (0 disables it).
        act_first: apply the activation before the convolution.

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
    ) -> None:
        check_positive_int("in_channels", in_channels)
        check_positive_int("out_channels", out_channels)
        check_positive_int("kernel_size", kernel_size)
        check_positive_int("stride", stride)
        if padding is None:
            padding = (kernel_size - 1) // 2
        _check_nonneg_int("padding", padding)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout!r}")
        if bias is not None and not isinstance(bias, bool):
            raise TypeError(f"bias: expected a bool or None, got {type(bias).__name__}")
        check_bool("transposed", transposed)
        check_bool("spectral_norm", spectral_norm)
        check_bool("act_first", act_first)
        norm_factory = get_norm_layer(norm)
        activation = get_activation(act)
        if bias is None:
            bias = norm_factory is None
        conv_cls = nn.ConvTranspose2d if transposed else nn.Conv2d
        conv = conv_cls(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias)
        if spectral_norm:
            conv = _spectral_norm(conv)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if act_first and activation is not None:
            layers["pre_act"] = activation
        layers["conv"] = conv
        if norm_factory is not None:
            layers["norm"] = norm_factory(out_channels)
        if dropout > 0:
            layers["dropout"] = nn.Dropout(dropout)
        if not act_first and activation is not None:
            layers["act"] = activation
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
        norm: see [`get_norm_layer`][condgan.layers.blocks.get_norm_layer] (the first block of a DCGAN
            discriminator uses ``"none"``).
        act: see [`get_activation`][condgan.layers.blocks.get_activation] (default LeakyReLU 0.2).
        **kwargs: the other keywords of [`ConvNormAct`][condgan.layers.blocks.ConvNormAct] (``bias``,
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


class UpBlock(ConvNormAct):
    """DCGAN up-sampling block: deconv 4x4, stride 2, padding 1, then norm and activation; ``H -> 2 H``.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        norm: see [`get_norm_layer`][condgan.layers.blocks.get_norm_layer].
        act: see [`get_activation`][condgan.layers.blocks.get_activation] (default ReLU, as in DCGAN
            generators).
        **kwargs: the other keywords of [`ConvNormAct`][condgan.layers.blocks.ConvNormAct].

    Examples:
        >>> UpBlock(8, 4)(torch.randn(2, 8, 8, 8)).shape
        torch.Size([2, 4, 16, 16])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        norm: NormSpec = "batch",
        act: ActSpec = "relu",
        **kwargs,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size=4,
            stride=2,
            padding=1,
            norm=norm,
            act=act,
            transposed=True,
            **kwargs,
        )


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


def _check_channel_list(name: str, channels: object, *, allow_empty: bool = False) -> tuple[int, ...]:
    if isinstance(channels, (str, bytes)) or not isinstance(channels, Sequence):
        raise TypeError(f"{name}: expected a sequence of positive ints, got {type(channels).__name__}")
    out = tuple(channels)
    if not out and not allow_empty:
        raise ValueError(f"{name}: expected at least one channel count, got an empty sequence")
    for i, c in enumerate(out):
        check_positive_int(f"{name}[{i}]", c)
    return out


class UNetEncoder(nn.Module):
    """pix2pix U-Net encoder: a chain of conv 4x4 stride-2 levels, each halving the resolution.

    Level 1 is a bare conv (no activation before it, no norm after it); levels 2..n-1 are
    ``LeakyReLU(0.2) -> conv -> norm``; the innermost level n is ``LeakyReLU -> conv`` without a norm (its
    output is 1x1 when the encoder has ``log2(H)`` levels, where a batch norm sees one value per channel).

    Args:
        in_channels: input channels.
        channels: output channels of each level, outermost first (see
            [`unet_channels`][condgan.layers.blocks.unet_channels]).
        norm: see [`get_norm_layer`][condgan.layers.blocks.get_norm_layer].
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
        channels = _check_channel_list("channels", channels)
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
        norm: see [`get_norm_layer`][condgan.layers.blocks.get_norm_layer].
        dropout: dropout probability of the first ``num_dropout`` levels.
        num_dropout: how many levels (from the innermost) use dropout.
        bias: conv bias (``None``: only without a norm, i.e. on the last deconv).
        spectral_norm: spectral normalisation on every deconv.

    Shapes:
        ``x (B, in_channels, h, w)``, ``skips[i] (B, skip_channels[i], 2^(i+1) h, 2^(i+1) w)``
        ``-> (B, out_channels, 2^(n+1) h, 2^(n+1) w)`` with ``n = len(skips)``.

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
    ) -> None:
        super().__init__()
        check_positive_int("in_channels", in_channels)
        check_positive_int("out_channels", out_channels)
        skip_channels = _check_channel_list("skip_channels", skip_channels, allow_empty=True)
        channels = _check_channel_list("channels", channels, allow_empty=True)
        if len(skip_channels) != len(channels):
            raise ValueError(
                f"channels: expected {len(skip_channels)} entries (one per skip), got {len(channels)}"
            )
        _check_nonneg_int("num_dropout", num_dropout)
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
                )
            )
            prev = c + s
        self.levels = nn.ModuleList(levels)
        self.final = UpBlock(
            prev,
            out_channels,
            norm="none",
            act="relu",
            act_first=True,
            bias=bias,
            spectral_norm=spectral_norm,
        )

    def forward(self, x: torch.Tensor, skips: Sequence[torch.Tensor]) -> torch.Tensor:
        """Decode ``x`` with ``skips`` (deepest first) into ``(B, out_channels, H, W)``."""
        check_rank("x", x, 4, "(B, C, h, w)")
        check_dtype_like("x", x, self)
        if isinstance(skips, torch.Tensor) or not isinstance(skips, Sequence):
            raise TypeError(f"skips: expected a sequence of tensors, got {type(skips).__name__}")
        if len(skips) != len(self.levels):
            raise ValueError(f"skips: expected {len(self.levels)} skip tensors, got {len(skips)}")
        for i, (level, skip) in enumerate(zip(self.levels, skips, strict=True)):
            x = level(x)
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


_CONV_TYPES = (
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.Linear,
)
_NORM_TYPES = (
    nn.modules.batchnorm._BatchNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.GroupNorm,
    nn.LayerNorm,
)


def init_weights(
    module: nn.Module, *, std: float = 0.02, norm_std: float = 0.02, zero_bias: bool = True
) -> nn.Module:
    """DCGAN initialisation, in place: ``W ~ N(0, std)`` for convs and linears, ``gamma ~ N(1, norm_std)``.

    Conv, transposed-conv and linear weights (the unnormalised weight under spectral norm) are drawn from
    ``N(0, std^2)``; their biases are set to 0 when ``zero_bias``. Affine norm layers get ``gamma ~ N(1,
    norm_std^2)`` and ``beta = 0``. The official FashionGAN networks use ``std = 0.02 / 16`` (``sr1``,
    ``ih1``) and ``std = 0.02`` (``ih1_skip``), with ``norm_std = 0.02`` (reference doc §2.3, §3.3).

    Args:
        module: the network (every submodule is visited).
        std: standard deviation of conv and linear weights.
        norm_std: standard deviation of norm scales around 1.
        zero_bias: set conv/linear biases to zero.

    Returns:
        ``module`` itself.

    Examples:
        >>> net = init_weights(ConvNormAct(4, 8), std=0.02 / 16)
        >>> bool(net.conv.weight.std() < 0.002), float(net.norm.bias.detach().abs().sum())
        (True, 0.0)
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected an nn.Module, got {type(module).__name__}")
    std = check_nonneg_float("std", std)
    norm_std = check_nonneg_float("norm_std", norm_std)
    check_bool("zero_bias", zero_bias)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, _CONV_TYPES):
                weight = (
                    m.parametrizations.weight.original
                    if parametrize.is_parametrized(m, "weight")
                    else m.weight
                )
                nn.init.normal_(weight, 0.0, std)
                if zero_bias and m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, _NORM_TYPES) and getattr(m, "weight", None) is not None:
                nn.init.normal_(m.weight, 1.0, norm_std)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
    return module
