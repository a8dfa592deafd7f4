"""Pieces shared by the generators and discriminators: input checks, code reduction, condition encoders."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from condgan._checks import _short, check_dtype_like, check_positive_int, check_rank, check_tensor

# The nets import these two from here; they live with the other checks.
from condgan._checks import check_channels_list as check_channels_list
from condgan._checks import check_nonneg_int as check_nonneg_int
from condgan.layers.conv_norm_act import Conv3x3Block, DownBlock
from condgan.layers.create_norm import NormSpec

CONDITION_ENCODERS = ("conv3x3", "strided")


def check_power_of_two(name: str, value: object, *, minimum: int = 1) -> int:
    """Check ``value`` is a power-of-two int ``>= minimum``."""
    check_positive_int(name, value)
    if value < minimum or value & (value - 1):
        raise ValueError(f"{name}: expected a power of two >= {minimum}, got {value}")
    return value


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Check ``value`` is one of the strings in ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")
    return value


def check_vector_input(
    name: str, value: object, dim: int, dim_name: str, *, like: torch.Tensor | nn.Module | None = None
) -> torch.Tensor | None:
    """Check a per-sample vector input (noise or code) of size ``dim``; ``dim == 0`` requires ``None``.

    Accepts ``(B, dim)`` and, for the official ``nz x 1 x 1`` layout, ``(B, dim, 1, 1)``; returns
    ``(B, dim)``. With ``like`` (a weight or the network), the dtype must match it outside autocast
    (`condgan._checks.check_dtype_like`).
    """
    if dim == 0:
        if value is not None:
            raise ValueError(
                f"{name}: expected None (this network was built with {dim_name}=0), got a tensor"
            )
        return None
    if value is None:
        raise ValueError(f"{name}: expected a tensor of shape (B, {dim}), got None")
    check_tensor(name, value)
    check_dtype_like(name, value, like)
    if value.ndim == 4 and value.shape[2:] == (1, 1):
        value = value.flatten(1)
    if value.ndim != 2 or value.shape[1] != dim:
        raise ValueError(f"{name}: expected shape (B, {dim}), got {tuple(value.shape)}")
    return value


def check_map_input(
    name: str,
    value: object,
    channels: int,
    size: int | None,
    *,
    like: torch.Tensor | nn.Module | None = None,
) -> torch.Tensor | None:
    """Check a spatial input ``(B, channels, size, size)``; ``channels == 0`` requires ``None``.

    With ``like`` (a weight or the network), the dtype must match it outside autocast
    (`condgan._checks.check_dtype_like`).
    """
    if channels == 0:
        if value is not None:
            raise ValueError(f"{name}: expected None (this network was built without a {name}), got a tensor")
        return None
    layout = f"(B, {channels}, H, W)" if size is None else f"(B, {channels}, {size}, {size})"
    if value is None:
        raise ValueError(f"{name}: expected a tensor of shape {layout}, got None")
    check_rank(name, value, 4, layout)
    check_dtype_like(name, value, like)
    if value.shape[1] != channels or (size is not None and value.shape[2:] != (size, size)):
        raise ValueError(f"{name}: expected shape {layout}, got {tuple(value.shape)}")
    return value


def check_optional_int(name: str, value: object) -> int | None:
    """Check ``value`` is ``None`` or an ``int`` (bools, floats, tensors rejected) before any comparison."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"{name}: expected an int or None, got {type(value).__name__} {_short(value)}")
    return value


def check_optional_bool(name: str, value: object) -> bool | None:
    """Check ``value`` is ``None`` or a ``bool`` (``bias``: ``None`` means "only where no norm follows")."""
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{name}: expected a bool or None, got {type(value).__name__} {_short(value)}")
    return value


def first_weight(module: nn.Module) -> torch.Tensor | None:
    """The module's first parameter (the dtype reference of its inputs), or ``None`` without parameters."""
    return next(module.parameters(), None)


def check_batch(**tensors: torch.Tensor | None) -> int:
    """Check the given tensors (``None`` skipped) share their batch size; return it."""
    sizes = {k: v.shape[0] for k, v in tensors.items() if v is not None}
    if len(set(sizes.values())) > 1:
        got = ", ".join(f"{k}={v}" for k, v in sizes.items())
        raise ValueError(f"batch size mismatch: expected equal first dimensions, got {got}")
    return next(iter(sizes.values()))


class CodeReduction(nn.Module):
    """Learned reduction of a code: ``Linear(dim -> reduced) [-> BatchNorm] -> LeakyReLU(0.2)``.

    The official generators use it without a norm (a 1x1 conv 100 -> 20 + LReLU), the discriminators with one
    (1x1 conv -> BN -> LReLU). A linear layer on ``(B, D)`` equals a 1x1 conv on ``(B, D, 1, 1)``, weights
    included. With ``reduced_dim=None`` the code passes through unchanged.
    """

    def __init__(
        self,
        code_dim: int,
        reduced_dim: int | None,
        *,
        norm: bool,
        bias: bool | None,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        self.code_dim = code_dim
        self.out_dim = code_dim if reduced_dim is None else reduced_dim
        if reduced_dim is None or code_dim == 0:
            self.out_dim = code_dim
            self.body = nn.Identity()
            return
        check_positive_int("code_reduced_dim", reduced_dim)
        if bias is None:
            bias = not norm
        linear = nn.Linear(code_dim, reduced_dim, bias=bias)
        layers: list[nn.Module] = [_spectral_norm(linear) if spectral_norm else linear]
        if norm:
            layers.append(nn.BatchNorm1d(reduced_dim))
        layers.append(nn.LeakyReLU(0.2))
        self.body = nn.Sequential(*layers)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.body(code)


def build_condition_encoder(
    kind: str,
    in_channels: int,
    channels: Sequence[int],
    *,
    first_norm: bool,
    norm: NormSpec,
    bias: bool | None,
    spectral_norm: bool,
) -> nn.Sequential:
    """Encode a spatial condition: 3x3 conv blocks (same resolution) or conv-4 stride-2 blocks (halving each).

    Every block is ``conv -> norm -> LeakyReLU(0.2)``; the first has no norm when ``first_norm`` is False.
    """
    block = Conv3x3Block if kind == "conv3x3" else DownBlock
    layers = []
    prev = in_channels
    for i, c in enumerate(channels):
        layers.append(
            block(
                prev,
                c,
                norm=norm if (i > 0 or first_norm) else "none",
                bias=bias,
                spectral_norm=spectral_norm,
            )
        )
        prev = c
    return nn.Sequential(*layers)


def build_condition_branch(
    kind: str,
    in_channels: int,
    size: int,
    channels: object,
    *,
    fuse_at: int | None,
    resolutions: Sequence[int],
    first_norm: bool,
    norm: NormSpec,
    bias: bool | None,
    spectral_norm: bool,
) -> tuple[nn.Sequential | None, int | None, int]:
    """Check and build the encoder of a spatial condition that joins the image stream at ``fuse_at``.

    The ``(B, in_channels, size, size)`` condition must reach ``fuse_at`` exactly: ``size == fuse_at`` for
    ``"conv3x3"``, ``size == fuse_at * 2**len(channels)`` for ``"strided"``; ``fuse_at`` must be one of the
    image stream's ``resolutions``.

    Returns:
        ``(encoder, fuse_at, out_channels)``; ``(None, None, 0)`` without a condition (``in_channels == 0``).
    """
    if not in_channels:
        return None, None, 0
    check_power_of_two("condition_size", size)
    channels = check_channels_list("condition_encoder_channels", channels)
    if fuse_at not in resolutions:
        raise ValueError(f"fuse_at: expected one of the resolutions {list(resolutions)}, got {fuse_at!r}")
    reach = fuse_at if kind == "conv3x3" else fuse_at * 2 ** len(channels)
    if size != reach:
        raise ValueError(
            f"condition_size: expected {reach} (the {kind!r} encoder with "
            f"{len(channels)} blocks meets the image stream at fuse_at={fuse_at}), "
            f"got {size}"
        )
    encoder = build_condition_encoder(
        kind, in_channels, channels, first_norm=first_norm, norm=norm, bias=bias, spectral_norm=spectral_norm
    )
    return encoder, fuse_at, channels[-1]


def resolve_mid_at(mid_at: int | None, mid_channels: Sequence[int], resolutions: Sequence[int]) -> int | None:
    """``mid_at`` checked against the ``resolutions``, or ``None`` when there are no mid blocks."""
    if not mid_channels:
        return None
    if mid_at not in resolutions:
        raise ValueError(f"mid_at: expected one of the resolutions {list(resolutions)}, got {mid_at!r}")
    return mid_at


def build_mid_blocks(
    in_channels: int, channels: Sequence[int], *, norm: NormSpec, bias: bool | None, spectral_norm: bool
) -> nn.Sequential:
    """The 3x3 "mid" blocks (conv 3x3 -> norm -> LeakyReLU(0.2)) at one resolution: ``in_channels ->
    channels[-1]``."""
    blocks = []
    for c in channels:
        blocks.append(Conv3x3Block(in_channels, c, norm=norm, bias=bias, spectral_norm=spectral_norm))
        in_channels = c
    return nn.Sequential(*blocks)
