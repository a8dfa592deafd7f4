"""Tests of condgan.train.lr_schedule: the decay shapes, their properties, and validation."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.train import LR_DECAYS, lr_factor, set_lr

totals = st.integers(1, 500)
starts = st.floats(0.0, 0.99)


@settings(deadline=None, max_examples=60)
@given(total=totals, start=starts, decay=st.sampled_from(LR_DECAYS))
def test_factor_is_one_then_falls_monotonically_and_stays_positive(total, start, decay):
    factors = [lr_factor(s, total, decay, start) for s in range(1, total + 1)]
    assert all(0.0 < f <= 1.0 for f in factors)
    assert all(b <= a for a, b in zip(factors, factors[1:], strict=False))
    # Every step before the start fraction runs at the full rate.
    for s in range(1, total + 1):
        if (s - 1) / total < start:
            assert factors[s - 1] == 1.0


@settings(deadline=None, max_examples=40)
@given(total=st.integers(2, 500), start=starts)
def test_linear_falls_by_equal_steps_to_one_step_above_zero(total, start):
    decaying = [lr_factor(s, total, "linear", start) for s in range(1, total + 1) if (s - 1) / total >= start]
    if len(decaying) < 2:
        return
    diffs = [a - b for a, b in zip(decaying, decaying[1:], strict=False)]
    assert max(diffs) - min(diffs) < 1e-9
    # The last step's factor is one more such step above zero.
    assert decaying[-1] == pytest.approx(diffs[0], rel=1e-6)


def test_cosine_is_half_way_at_the_middle_of_its_decay():
    assert lr_factor(1, 100, "cosine", 0.0) == 1.0
    assert lr_factor(51, 100, "cosine", 0.0) == pytest.approx(0.5)
    assert lr_factor(76, 100, "cosine", 0.5) == pytest.approx(0.5)
    assert lr_factor(100, 100, "cosine", 0.0) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.99)))


def test_none_is_constant():
    assert {lr_factor(s, 10, "none", 0.0) for s in range(1, 11)} == {1.0}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"step": 0, "total": 5}, ValueError, r"step: expected an int in \[1, 5\], got 0"),
        ({"step": 6, "total": 5}, ValueError, r"step: expected an int in \[1, 5\], got 6"),
        ({"step": 1, "total": 0}, ValueError, r"total"),
        ({"step": 1, "total": 5, "decay": "step"}, ValueError, r"decay: expected one of"),
        (
            {"step": 1, "total": 5, "start": 1.0},
            ValueError,
            r"start: expected a finite number in \[0.0, 1.0\)",
        ),
        ({"step": 1, "total": 5, "start": -0.1}, ValueError, r"start"),
        ({"step": 1.5, "total": 5}, TypeError, r"step"),
    ],
)
def test_bad_arguments_name_what_was_expected(kwargs, error, match):
    with pytest.raises(error, match=match):
        lr_factor(**kwargs)


def test_set_lr_sets_every_group_of_every_optimizer():
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    first = torch.optim.Adam([{"params": [a]}, {"params": [b], "lr": 5.0}], lr=1.0)
    second = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=1.0)
    set_lr([first, second], 0.125)
    assert [g["lr"] for g in first.param_groups + second.param_groups] == [0.125, 0.125, 0.125]


def test_set_lr_refuses_what_is_not_an_optimizer_or_a_rate():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(TypeError, match="expected torch.optim.Optimizer items, got Tensor"):
        set_lr([torch.zeros(1)], 0.1)
    with pytest.raises(ValueError, match="lr"):
        set_lr([opt], -1.0)
    assert opt.param_groups[0]["lr"] == 1.0
