"""The normalisation factory: a name or class -> a callable ``num_features -> nn.Module``, or ``None``.

[`get_norm_layer`][condgan.layers.create_norm.get_norm_layer] is what every block's ``norm=`` argument goes
through: ``get_norm_layer("batch")(C)`` is a ``BatchNorm2d(C)`` acting on ``(B, C, H, W)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from torch import nn

__all__ = ["get_norm_layer", "NormSpec"]

#: What a ``norm=`` argument accepts: a name, a class, a callable ``num_features -> nn.Module``, or ``None``.
NormSpec = str | type | Callable[[int], nn.Module] | None

_NORMS: dict[str, Callable[[int], nn.Module] | None] = {
    "batch": nn.BatchNorm2d,
    "instance": functools.partial(nn.InstanceNorm2d, affine=True),
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
