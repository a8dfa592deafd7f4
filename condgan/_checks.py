"""Input validation shared by condgan's public functions.

Every check raises a ``ValueError`` or ``TypeError`` whose message names the argument, what was expected and what
was got, so that a wrong input never turns into an obscure error deep inside torch. The checks here are cheap
(shape, dtype, rank); whole-tensor scans (label range, NaN) are done only where the caller asks for them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = [
    "check_tensor",
    "check_rank",
    "check_floating",
    "check_integer",
    "check_same_batch",
    "check_channels",
    "check_label_range",
    "check_positive_int",
]


def check_tensor(name: str, value: object) -> torch.Tensor:
    """Return ``value`` if it is a tensor, else raise ``TypeError`` naming ``name``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    return value


def check_rank(name: str, value: torch.Tensor, ranks: int | Sequence[int], layout: str) -> torch.Tensor:
    """Check ``value.ndim`` is one of ``ranks``; ``layout`` (e.g. ``"(B, K, H, W)"``) goes into the message."""
    check_tensor(name, value)
    allowed = (ranks,) if isinstance(ranks, int) else tuple(ranks)
    if value.ndim not in allowed:
        raise ValueError(f"{name}: expected shape {layout}, got {tuple(value.shape)} ({value.ndim}-d)")
    return value


def check_floating(name: str, value: torch.Tensor) -> torch.Tensor:
    """Check ``value`` has a floating dtype."""
    check_tensor(name, value)
    if not value.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {value.dtype}")
    return value


def check_integer(name: str, value: torch.Tensor) -> torch.Tensor:
    """Check ``value`` has an integer (not bool, not floating) dtype."""
    check_tensor(name, value)
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise TypeError(f"{name}: expected an integer tensor (e.g. torch.int64), got dtype {value.dtype}")
    return value


def check_same_batch(**tensors: torch.Tensor) -> int:
    """Check all tensors share the first (batch) dimension; return it."""
    sizes = {name: t.shape[0] for name, t in tensors.items()}
    if len(set(sizes.values())) > 1:
        got = ", ".join(f"{name}={size}" for name, size in sizes.items())
        raise ValueError(f"batch size mismatch: expected equal first dimensions, got {got}")
    return next(iter(sizes.values()))


def check_channels(name: str, value: torch.Tensor, expected: int, dim: int = 1) -> torch.Tensor:
    """Check ``value.shape[dim] == expected``."""
    if value.shape[dim] != expected:
        raise ValueError(
            f"{name}: expected {expected} channels in dim {dim}, got {value.shape[dim]} (shape {tuple(value.shape)})"
        )
    return value


def check_label_range(
    name: str, labels: torch.Tensor, num_classes: int, ignore_index: int | None = None
) -> torch.Tensor:
    """Check every label lies in ``[0, num_classes)`` (``ignore_index`` excepted); scans the tensor once."""
    if labels.numel() == 0:
        return labels
    valid = labels if ignore_index is None else labels[labels != ignore_index]
    if valid.numel() == 0:
        return labels
    low, high = int(valid.min()), int(valid.max())
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        extra = "" if ignore_index is None else f" or ignore_index={ignore_index}"
        raise ValueError(f"{name}: expected labels in [0, {num_classes - 1}]{extra}, got a label {bad}")
    return labels


def check_positive_int(name: str, value: object) -> int:
    """Check ``value`` is an ``int`` greater than zero (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected a positive int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name}: expected a positive int, got {value}")
    return value
