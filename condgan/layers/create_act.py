"""The activation factory: a name or class -> a callable building a fresh activation module, or ``None``.

Like [`get_norm_layer`][condgan.layers.create_norm.get_norm_layer],
[`get_activation`][condgan.layers.create_act.get_activation] returns a factory, not a module: every call of
the factory builds a new, shape-preserving module (``(B, C, H, W) -> (B, C, H, W)``), so blocks never share
one instance.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from torch import nn

__all__ = ["get_activation", "ActSpec"]

#: What an ``act=`` argument accepts: a name, an ``nn.Module`` subclass built without arguments, or ``None``.
ActSpec = str | type | None

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


def get_activation(name_or_class: ActSpec) -> Callable[[], nn.Module] | None:
    """Return a factory ``() -> nn.Module`` building a new activation module, or ``None`` for no activation.

    Args:
        name_or_class: ``"relu"``, ``"lrelu"`` / ``"leaky_relu"`` (slope 0.2), ``"tanh"``, ``"sigmoid"``,
            ``"gelu"``, ``"silu"``, ``"elu"``, ``"none"`` or ``None``, or an ``nn.Module`` subclass built
            without arguments (returned as is).

    Returns:
        The factory (a class or a `functools.partial`), or ``None`` when no activation is wanted.

    Examples:
        >>> get_activation("lrelu")()
        LeakyReLU(negative_slope=0.2)
        >>> get_activation("relu") is nn.ReLU
        True
        >>> get_activation("none") is None
        True
    """
    if name_or_class is None:
        return None
    if isinstance(name_or_class, str):
        key = name_or_class.lower()
        if key not in _ACTIVATIONS:
            raise ValueError(f"act: expected one of {sorted(_ACTIVATIONS)} or a class, got {name_or_class!r}")
        return _ACTIVATIONS[key]
    if isinstance(name_or_class, type) and issubclass(name_or_class, nn.Module):
        return name_or_class
    raise TypeError(f"act: expected a str, an nn.Module subclass or None, got {type(name_or_class).__name__}")
