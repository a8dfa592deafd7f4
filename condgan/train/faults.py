"""Faults a long training run must survive: non-finite numbers and stop signals.

Two tools live here:

- [`NonFiniteError`][condgan.train.faults.NonFiniteError] and
  [`check_finite`][condgan.train.faults.check_finite] turn a NaN/Inf loss or gradient into an error that names
  the training stage, the step and the quantity, instead of a silently diverged run.
  [`check_finite`][condgan.train.faults.check_finite] costs one device-to-host synchronisation for any number
  of values (they are stacked and fetched together).
- [`GracefulExit`][condgan.train.faults.GracefulExit] turns SIGINT/SIGTERM into a flag that the loop checks
  after each step, so that a preempted job writes a checkpoint and exits cleanly instead of dying mid-step.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Iterable, Mapping
from types import FrameType
from typing import Any

import torch

from condgan._checks import check_tensor

__all__ = ["NonFiniteError", "check_finite", "fetch_values", "first_nonfinite_tensor", "GracefulExit"]


class NonFiniteError(FloatingPointError):
    """A loss, gradient norm or weight became NaN or infinite.

    Attributes:
        stage: Free-form name of the training stage (e.g. ``"shape"``, ``"render"``, ``"checkpoint"``).
        step: The training step at which the value was seen.
        name: The quantity that is not finite (``"d_real"``, ``"g_grad_norm"``, ``"generator.fc.weight"``).
        value: The offending value (a float, or a short description for a tensor).

    Examples:
        >>> err = NonFiniteError("shape", 12, "d_fake", float("nan"))
        >>> str(err)
        "non-finite d_fake = nan at stage 'shape', step 12"
    """

    def __init__(self, stage: str, step: int, name: str, value: Any) -> None:
        self.stage = stage
        self.step = step
        self.name = name
        self.value = value
        super().__init__(f"non-finite {name} = {value} at stage {stage!r}, step {step}")

    def __reduce__(self) -> tuple[Any, ...]:  # keep the four fields when pickled across processes
        return (type(self), (self.stage, self.step, self.name, self.value))


def fetch_values(values: Mapping[str, torch.Tensor | float]) -> dict[str, float]:
    """Fetch many scalars to Python floats with ONE device synchronisation.

    Tensors are detached, cast to float32 and stacked; ``.tolist()`` is the only sync. Python numbers pass
    through.

    Args:
        values: Names mapped to 0-d (or one-element) tensors or Python numbers.

    Returns:
        The same names mapped to floats, in the same order.

    Examples:
        >>> fetch_values({"a": torch.tensor(1.5), "b": 2})
        {'a': 1.5, 'b': 2.0}
    """
    if not isinstance(values, Mapping):
        raise TypeError(f"values: expected a mapping of names to scalars, got {type(values).__name__}")
    tensor_names: list[str] = []
    tensors: list[torch.Tensor] = []
    out: dict[str, float] = {}
    for name, value in values.items():
        if isinstance(value, torch.Tensor):
            if value.numel() != 1:
                shape = tuple(value.shape)
                raise ValueError(f"values[{name!r}]: expected a scalar tensor, got shape {shape}")
            tensor_names.append(name)
            tensors.append(value.detach().reshape(()).float())
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
        else:
            got = type(value).__name__
            raise TypeError(f"values[{name!r}]: expected a scalar tensor or a number, got {got}")
    if tensors:
        device = tensors[0].device
        stacked = torch.stack([t.to(device) for t in tensors])
        out.update(zip(tensor_names, stacked.tolist(), strict=True))
    return {name: out[name] for name in values}


def check_finite(
    values: Mapping[str, torch.Tensor | float], *, stage: str = "", step: int = 0, raise_error: bool = True
) -> tuple[dict[str, float], str | None]:
    """Fetch named scalars with one sync and check each is finite.

    Args:
        values: Names mapped to scalar tensors or numbers (losses, gradient norms).
        stage: Stage name for the error message.
        step: Step number for the error message.
        raise_error: If True, raise [`NonFiniteError`][condgan.train.faults.NonFiniteError] on the first
            non-finite value; otherwise return its name.

    Returns:
        ``(floats, bad_name)``: every value as a float and the name of the first non-finite one (or None).

    Raises:
        NonFiniteError: If ``raise_error`` and a value is NaN or infinite.

    Examples:
        >>> check_finite({"loss": torch.tensor(0.5)}, stage="s", step=3)
        ({'loss': 0.5}, None)
        >>> check_finite({"loss": torch.tensor(float("inf"))}, stage="s", step=3, raise_error=False)[1]
        'loss'
    """
    if not isinstance(stage, str):
        raise TypeError(f"stage: expected a str, got {type(stage).__name__}")
    if isinstance(step, bool) or not isinstance(step, int):
        raise TypeError(f"step: expected an int, got {type(step).__name__}")
    floats = fetch_values(values)
    bad = next((name for name, value in floats.items() if not math.isfinite(value)), None)
    if bad is not None and raise_error:
        raise NonFiniteError(stage, step, bad, floats[bad])
    return floats, bad


def first_nonfinite_tensor(named_tensors: Iterable[tuple[str, torch.Tensor]]) -> tuple[str, str] | None:
    """Return ``(name, description)`` of the first floating tensor holding NaN/Inf, or ``None``.

    One synchronisation per device for all tensors: per-tensor finiteness flags are computed on the device and
    fetched together. Integer tensors are skipped (they cannot hold NaN).

    Args:
        named_tensors: ``(name, tensor)`` pairs, e.g. ``module.state_dict().items()``.

    Returns:
        ``None`` when all are finite, else the first bad name and a count of its NaN/Inf entries.

    Examples:
        >>> first_nonfinite_tensor([("w", torch.ones(3)), ("b", torch.tensor([0.0, float("nan")]))])
        ('b', '1 NaN and 0 Inf of 2 values')
    """
    names: list[str] = []
    tensors: list[torch.Tensor] = []
    for name, tensor in named_tensors:
        check_tensor(name, tensor)
        if (tensor.is_floating_point() or tensor.is_complex()) and tensor.numel() > 0:
            names.append(name)
            tensors.append(tensor.detach())
    if not tensors:
        return None
    by_device: dict[torch.device, list[int]] = {}
    for i, tensor in enumerate(tensors):
        by_device.setdefault(tensor.device, []).append(i)
    ok = [True] * len(tensors)
    for indices in by_device.values():  # one sync per device, not per tensor
        flags = torch.stack([torch.isfinite(tensors[i]).all() for i in indices]).tolist()
        for i, flag in zip(indices, flags, strict=True):
            ok[i] = bool(flag)
    for name, tensor, good in zip(names, tensors, ok, strict=True):
        if not good:
            t = tensor.detach()
            n_nan = int(torch.isnan(t).sum())
            n_inf = int(torch.isinf(t).sum())
            return name, f"{n_nan} NaN and {n_inf} Inf of {t.numel()} values"
    return None


class GracefulExit:
    """Context manager turning SIGINT/SIGTERM into a "stop requested" flag.

    Inside the ``with`` block the first signal only sets
    [`stop_requested`][condgan.train.faults.GracefulExit.stop_requested]; the loop checks it after each step,
    writes a checkpoint and leaves. A second signal of the same kind restores the previous handler and
    re-raises the signal, so pressing Ctrl-C twice still kills a stuck job. The previous handlers are restored
    on exit. Signal handlers can only be installed from the main thread; elsewhere a ``RuntimeError`` is
    raised.

    Args:
        signals: The signals to catch (default SIGINT and SIGTERM).

    Examples:
        >>> with GracefulExit() as stopper:
        ...     for step in range(100):
        ...         if step == 3:
        ...             stopper.request_stop()  # what a SIGTERM would do
        ...         if stopper.stop_requested:
        ...             break  # save a checkpoint here, then leave
        >>> step, stopper.signal_name
        (3, 'request_stop')
    """

    def __init__(self, signals: Iterable[int] = (signal.SIGINT, signal.SIGTERM)) -> None:
        sigs = tuple(signals)
        if not sigs:
            raise ValueError("signals: expected at least one signal, got none")
        for sig in sigs:
            if not isinstance(sig, int):
                got = type(sig).__name__
                raise TypeError(f"signals: expected signal numbers (signal.Signals), got {got}")
        self._signals = tuple(signal.Signals(s) for s in sigs)
        self._old: dict[signal.Signals, Any] = {}
        self._stop = threading.Event()
        self._received: str | None = None
        self._active = False

    @property
    def stop_requested(self) -> bool:
        """True once a caught signal arrived (or
        [`request_stop`][condgan.train.faults.GracefulExit.request_stop] was called)."""
        return self._stop.is_set()

    @property
    def signal_name(self) -> str | None:
        """Name of the first signal received (e.g. ``"SIGTERM"``), ``"request_stop"``, or ``None``."""
        return self._received

    def request_stop(self) -> None:
        """Ask the loop to stop, exactly as a caught signal does."""
        if self._received is None:
            self._received = "request_stop"
        self._stop.set()

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        sig = signal.Signals(signum)
        if self._stop.is_set() and self._received == sig.name:
            # Second identical signal: give up gracefulness, behave as if we were not installed.
            self._restore()
            signal.raise_signal(sig)
            return
        if self._received is None:
            self._received = sig.name
        self._stop.set()

    def _restore(self) -> None:
        if not self._active:
            return
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()
        self._active = False

    def __enter__(self) -> GracefulExit:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("GracefulExit: signal handlers can only be installed from the main thread")
        if self._active:
            raise RuntimeError("GracefulExit: already entered; use one instance per with-block")
        self._stop.clear()
        self._received = None
        for sig in self._signals:
            self._old[sig] = signal.getsignal(sig)
            signal.signal(sig, self._handler)
        self._active = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._restore()
