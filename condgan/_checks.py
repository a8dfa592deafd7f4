"""Input validation shared by condgan's public functions.

Every check raises a ``ValueError`` or ``TypeError`` whose message names the argument, what was expected and
what was got, so that a wrong input never turns into an obscure error deep inside torch. The checks here are
cheap (shape, dtype, rank); whole-tensor scans (label range, NaN) run only where the caller asks for them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch

__all__ = [
    "check_tensor",
    "check_rank",
    "check_channels_list",
    "check_floating",
    "check_integer",
    "check_same_batch",
    "check_channels",
    "check_label_range",
    "check_positive_int",
    "check_bool",
    "check_nonneg_float",
    "check_dtype_like",
    "check_int",
    "check_nonneg_int",
    "check_optional_int",
    "check_optional_bool",
    "check_number",
    "check_choice",
    "check_int_sequence",
    "check_power_of_two",
    "check_heads",
]


def check_tensor(name: str, value: object) -> torch.Tensor:
    """Return ``value`` if it is a tensor, else raise ``TypeError`` naming ``name``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    return value


def check_rank(name: str, value: torch.Tensor, ranks: int | Sequence[int], layout: str) -> torch.Tensor:
    """Check ``value.ndim`` is one of ``ranks``; ``layout`` (e.g. ``"(B, K, H, W)"``) goes in the message."""
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
            f"{name}: expected {expected} channels in dim {dim}, got {value.shape[dim]} "
            f"(shape {tuple(value.shape)})"
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


def check_bool(name: str, value: object) -> bool:
    """Check ``value`` is a ``bool`` (a tensor, an int or a string is refused, never truth-tested).

    Examples:
        >>> check_bool("input_softmax", True)
        True
    """
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected a bool, got {type(value).__name__} {_short(value)}")
    return value


def check_nonneg_float(name: str, value: object) -> float:
    """Check ``value`` is a finite real number ``>= 0`` (bools rejected); return it as a ``float``.

    Examples:
        >>> check_nonneg_float("std", 0.02)
        0.02
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected a non-negative float, got {type(value).__name__} {_short(value)}")
    if not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite non-negative float, got {value!r}")
    if value < 0:
        raise ValueError(f"{name}: expected a non-negative float, got {value!r}")
    return float(value)


def _autocast_dtypes(device_type: str) -> tuple[torch.dtype, ...]:
    """The dtypes autocast on ``device_type`` mixes freely: float32 and its low dtype (none when off)."""
    if torch.amp.is_autocast_available(device_type) and torch.is_autocast_enabled(device_type):
        return (torch.float32, torch.get_autocast_dtype(device_type))
    return ()


def check_dtype_like(
    name: str, value: torch.Tensor, reference: torch.Tensor | torch.nn.Module | None
) -> torch.Tensor:
    """Check ``value`` is floating and has the dtype of ``reference`` (a weight, or a module's first weight).

    Cheap (a dtype comparison), for the first line of a ``forward``. Under ``torch.autocast`` for
    ``value``'s device, the input and the weights may each be float32 or the autocast dtype (autocast casts
    them per op); any other mismatch (float64, float16 under bfloat16 autocast) fails inside torch and is
    refused here. A module without parameters, or ``reference=None``, accepts any floating dtype.

    Raises:
        TypeError: ``value`` is not a floating tensor, or its dtype differs from the reference's in a way
            autocast (if on) does not cover.

    Examples:
        >>> net = torch.nn.Linear(2, 2)
        >>> check_dtype_like("x", torch.zeros(1, 2), net).dtype
        torch.float32
        >>> check_dtype_like("x", torch.zeros(1, 2, dtype=torch.float64), net)
        Traceback (most recent call last):
        ...
        TypeError: x: expected dtype torch.float32 (the dtype of the weights; ...), got dtype torch.float64
    """
    check_floating(name, value)
    if isinstance(reference, torch.nn.Module):
        reference = next(reference.parameters(), None)
    if reference is None or value.dtype == reference.dtype:
        return value
    mixable = _autocast_dtypes(value.device.type)
    if value.dtype in mixable and reference.dtype in mixable:
        return value  # autocast casts these operands per op
    raise TypeError(
        f"{name}: expected dtype {reference.dtype} (the dtype of the weights; cast the input or the module; "
        f"under torch.autocast, float32 or the autocast dtype), got dtype {value.dtype}"
    )


def check_int(name: str, value: object, *, low: int | None = None, high: int | None = None) -> int:
    """Check ``value`` is an ``int`` (bools and NumPy bools rejected, NumPy ints accepted) in ``[low, high]``.

    The message says the whole expectation, e.g. ``"train.steps: expected an int >= 1, got 0"``.

    Examples:
        >>> check_int("steps", 3, low=1)
        3
        >>> check_int("steps", 0, low=1)
        Traceback (most recent call last):
        ...
        ValueError: steps: expected an int >= 1, got 0
    """
    import numpy as np

    if low is not None and high is not None:
        what = f"an int in [{low}, {high}]"
    elif low is not None:
        what = f"an int >= {low}"
    elif high is not None:
        what = f"an int <= {high}"
    else:
        what = "an int"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected {what}, got {type(value).__name__} {_short(value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name}: expected {what}, got {value}")
    return int(value)


def check_nonneg_int(name: str, value: object) -> int:
    """Check ``value`` is an ``int >= 0`` (bools rejected).

    Examples:
        >>> check_nonneg_int("padding", 0)
        0
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected a non-negative int, got {type(value).__name__} {_short(value)}")
    if value < 0:
        raise ValueError(f"{name}: expected a non-negative int, got {value}")
    return value


def check_optional_int(name: str, value: object) -> int | None:
    """Check ``value`` is ``None`` or an ``int`` (bools, floats, tensors rejected) before any comparison."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"{name}: expected an int or None, got {type(value).__name__} {_short(value)}")
    return value


def check_optional_bool(name: str, value: object) -> bool | None:
    """Check ``value`` is ``None`` or a ``bool``."""
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{name}: expected a bool or None, got {type(value).__name__} {_short(value)}")
    return value


def check_number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = True,
) -> float:
    """Check ``value`` is a finite real number (bools rejected) in the interval from ``low`` to ``high``.

    ``open_low`` / ``open_high`` exclude the ends; the message writes the interval the usual way, e.g.
    ``"train.lr: expected a finite number in (0.0, 3.4e+36), got -1.0"``.

    Examples:
        >>> check_number("lr", 1e-3, low=0.0, open_low=True)
        0.001
        >>> check_number("lr", 0.0, low=0.0, open_low=True)
        Traceback (most recent call last):
        ...
        ValueError: lr: expected a finite number in (0.0, inf), got 0.0
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__} {_short(value)}")
    too_low = low is not None and (value <= low if open_low else value < low)
    too_high = high is not None and (value >= high if open_high else value > high)
    if not math.isfinite(value) or too_low or too_high:
        left = ("(" if open_low else "[") + (f"{low}" if low is not None else "-inf")
        right = (f"{high}" if high is not None else "inf") + (")" if open_high or high is None else "]")
        raise ValueError(f"{name}: expected a finite number in {left}, {right}, got {value!r}")
    return float(value)


def check_choice(name: str, value: object, choices: Sequence[object]) -> object:
    """Check ``value`` is one of ``choices`` (compared with ``==``; bools never pass for ints).

    Examples:
        >>> check_choice("mode", "area", ("area", "bicubic"))
        'area'
        >>> check_choice("mode", "cubic", ("area", "bicubic"))
        Traceback (most recent call last):
        ...
        ValueError: mode: expected one of ['area', 'bicubic'], got 'cubic'
    """
    # A tensor's == is element-wise, and True == 1: neither may pass as a choice.
    found = not isinstance(value, torch.Tensor) and any(
        value is c or (value == c and isinstance(value, bool) == isinstance(c, bool)) for c in choices
    )
    if not found:
        raise ValueError(f"{name}: expected one of {list(choices)}, got {_short(value)}")
    return value


def check_int_sequence(
    name: str, value: object, *, low: int = 1, allow_empty: bool = False
) -> tuple[int, ...]:
    """Check ``value`` is a sequence (not a string) of ints ``>= low``; return it as a tuple.

    Examples:
        >>> check_int_sequence("channels", [8, 16])
        (8, 16)
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        what = "positive ints" if low == 1 else f"ints >= {low}"
        raise TypeError(f"{name}: expected a sequence of {what}, got {type(value).__name__}")
    out = tuple(value)
    if not out and not allow_empty:
        raise ValueError(f"{name}: expected at least one value, got an empty sequence")
    for i, v in enumerate(out):
        if low == 1:
            check_positive_int(f"{name}[{i}]", v)
        else:
            check_int(f"{name}[{i}]", v, low=low)
    return tuple(int(v) for v in out)


def check_power_of_two(name: str, value: object, *, minimum: int = 1) -> int:
    """Check ``value`` is a power-of-two int ``>= minimum``.

    Examples:
        >>> check_power_of_two("image_size", 64, minimum=16)
        64
    """
    check_positive_int(name, value)
    if value < minimum or value & (value - 1):
        raise ValueError(f"{name}: expected a power of two >= {minimum}, got {value}")
    return value


def check_channels_list(name: str, channels: object, *, allow_empty: bool = False) -> tuple[int, ...]:
    """Check ``channels`` is a sequence of positive ints; return it as a tuple.

    Examples:
        >>> check_channels_list("channels", [64, 128])
        (64, 128)
    """
    if isinstance(channels, (str, bytes)) or not isinstance(channels, Sequence):
        raise TypeError(f"{name}: expected a sequence of positive ints, got {type(channels).__name__}")
    out = tuple(channels)
    if not out and not allow_empty:
        raise ValueError(f"{name}: expected at least one channel count, got an empty sequence")
    for i, c in enumerate(out):
        check_positive_int(f"{name}[{i}]", c)
    return out


def check_heads(name: str, heads: object) -> dict[str, int]:
    """``heads`` as a dict ``attribute name -> number of classes (>= 2)``; errors name ``name``.

    Examples:
        >>> check_heads("heads", {"color": 17, "sleeve": 4})
        {'color': 17, 'sleeve': 4}
    """
    if not isinstance(heads, Mapping) or not heads:
        raise TypeError(
            f"{name}: expected a non-empty mapping attribute name -> number of classes, got {_short(heads)}"
        )
    out: dict[str, int] = {}
    for key, classes in heads.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(f"{name}: expected attribute names that are identifiers, got {key!r}")
        if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
            raise ValueError(
                f"{name}[{key!r}]: expected an int number of classes >= 2, got {_short(classes)}"
            )
        out[key] = classes
    return out


def _short(value: object) -> str:
    """``repr(value)`` cut to 60 characters (a big tensor's repr is long)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
