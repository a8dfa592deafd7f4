"""The DCGAN weight initialisation with a configurable standard deviation, in place on any network.

[`init_weights`][condgan.layers.weight_init.init_weights] draws conv, transposed-conv and linear weights
from ``N(0, std^2)`` and affine norm scales from ``N(1, norm_std^2)``. The official networks use
``std = 0.02 / 16`` (``sr1`` and ``ih1``) and ``std = 0.02`` (``ih1_skip``), with BatchNorm
``gamma ~ N(1, 0.02^2)``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from condgan._checks import check_bool, check_nonneg_float

__all__ = ["init_weights"]

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
    ``ih1``) and ``std = 0.02`` (``ih1_skip``), with ``norm_std = 0.02``.

    Args:
        module: the network (every submodule is visited).
        std: standard deviation of conv and linear weights.
        norm_std: standard deviation of norm scales around 1.
        zero_bias: set conv/linear biases to zero.

    Returns:
        ``module`` itself.

    Examples:
        >>> net = init_weights(nn.Sequential(nn.Conv2d(4, 8, 3), nn.BatchNorm2d(8)), std=0.02 / 16)
        >>> bool(net[0].weight.std() < 0.002), float(net[1].bias.detach().abs().sum())
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
