"""Tests of condgan.train.faults: non-finite detection and graceful stop on signals."""

from __future__ import annotations

import math
import pickle
import signal
import threading

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.train import GracefulExit, NonFiniteError, check_finite, fetch_values, first_nonfinite_tensor


def test_nonfinite_error_fields_message_and_pickling():
    err = NonFiniteError("shape", 12, "d_fake", float("inf"))
    assert str(err) == "non-finite d_fake = inf at stage 'shape', step 12"
    assert isinstance(err, FloatingPointError)
    copy = pickle.loads(pickle.dumps(err))  # crosses process boundaries (DDP workers) intact
    assert (copy.stage, copy.step, copy.name, copy.value) == ("shape", 12, "d_fake", float("inf"))


@settings(deadline=None, max_examples=25)
@given(
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=6),
    as_tensor=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_check_finite_finds_the_first_bad_value(values, as_tensor):
    named = {f"v{i}": (torch.tensor(v) if as_tensor[i] else v) for i, v in enumerate(values)}
    floats, bad = check_finite(named, stage="s", step=1, raise_error=False)
    assert list(floats) == list(named)
    expected_bad = next((f"v{i}" for i, v in enumerate(values) if not math.isfinite(v)), None)
    assert bad == expected_bad
    if expected_bad is None:
        assert floats == pytest.approx({k: float(v) for k, v in named.items()})
    else:
        with pytest.raises(NonFiniteError, match=rf"non-finite {expected_bad} = .* at stage 's', step 1"):
            check_finite(named, stage="s", step=1)


def test_fetch_values_validation():
    with pytest.raises(TypeError, match="values: expected a mapping of names to scalars, got list"):
        fetch_values([1.0])
    with pytest.raises(ValueError, match=r"values\['a'\]: expected a scalar tensor, got shape \(2,\)"):
        fetch_values({"a": torch.zeros(2)})
    with pytest.raises(TypeError, match=r"values\['a'\]: expected a scalar tensor or a number, got str"):
        fetch_values({"a": "1"})
    with pytest.raises(TypeError, match="step: expected an int, got str"):
        check_finite({"a": 1.0}, step="1")


def test_first_nonfinite_tensor():
    tensors = [("ints", torch.arange(3)), ("ok", torch.ones(2)), ("bad", torch.tensor([1.0, float("-inf")]))]
    assert first_nonfinite_tensor(tensors) == ("bad", "0 NaN and 1 Inf of 2 values")
    assert first_nonfinite_tensor(tensors[:2]) is None
    assert first_nonfinite_tensor([]) is None
    with pytest.raises(TypeError, match="x: expected a torch.Tensor, got list"):
        first_nonfinite_tensor([("x", [1.0])])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_graceful_exit_sets_the_flag_and_restores_handlers(sig):
    previous = signal.getsignal(sig)
    steps = 0
    with GracefulExit() as stopper:
        assert signal.getsignal(sig) != previous
        for step in range(50):
            steps += 1
            if step == 4:
                signal.raise_signal(sig)  # delivered to this (main) thread before raise_signal returns
            if stopper.stop_requested:
                break
    assert steps == 5 and stopper.signal_name == sig.name
    assert signal.getsignal(sig) == previous


def test_second_signal_falls_back_to_the_previous_handler():
    # Set up the state asserted below: under `nohup` or `&` SIGINT starts ignored, not at Python's default.
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _second_sigint_raises()
    finally:
        signal.signal(signal.SIGINT, before)


def _second_sigint_raises():
    with pytest.raises(KeyboardInterrupt):
        with GracefulExit(signals=[signal.SIGINT]) as stopper:
            signal.raise_signal(signal.SIGINT)
            assert stopper.stop_requested
            signal.raise_signal(signal.SIGINT)  # the default SIGINT handler raises KeyboardInterrupt
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_graceful_exit_validation_and_threads():
    with pytest.raises(ValueError, match="signals: expected at least one signal, got none"):
        GracefulExit(signals=[])
    with pytest.raises(TypeError, match="signals: expected signal numbers"):
        GracefulExit(signals=["SIGTERM"])
    errors = []

    def enter_in_thread():
        try:
            with GracefulExit():
                pass
        except RuntimeError as err:
            errors.append(str(err))

    worker = threading.Thread(target=enter_in_thread)
    worker.start()
    worker.join()
    assert errors == ["GracefulExit: signal handlers can only be installed from the main thread"]
    stopper = GracefulExit()
    with stopper, pytest.raises(RuntimeError, match="already entered"):
        stopper.__enter__()
