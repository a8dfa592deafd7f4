"""Tests of condgan.losses.matching_aware."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from condgan.losses import (
    MatchingAwareDLoss,
    d_fake_loss,
    d_real_loss,
    derangement,
    matching_aware_d_loss,
    split_logits,
)

arrays = hnp.arrays("float32", 4, elements=st.floats(-10, 10, allow_nan=False, width=32))


def test_values_by_hand():
    real, mismatched, fake = torch.tensor([0.0]), torch.tensor([0.0]), torch.tensor([math.log(3.0)])
    out = matching_aware_d_loss(real, mismatched, fake)
    assert out.real.item() == pytest.approx(math.log(2.0))
    assert out.mismatched.item() == pytest.approx(math.log(2.0))
    assert out.fake.item() == pytest.approx(math.log(4.0))  # -log(1 - 3/4)
    assert out.total.item() == pytest.approx(2 * math.log(2.0) + math.log(4.0))
    weighted = matching_aware_d_loss(real, mismatched, fake, weights=(1.0, 0.1, 0.9))
    assert weighted.total.item() == pytest.approx(math.log(2.0) * 1.1 + 0.9 * math.log(4.0))
    assert weighted.fake.item() == pytest.approx(math.log(4.0))  # terms are reported unweighted


@settings(deadline=None, max_examples=25)
@given(real=arrays, mismatched=arrays, fake=arrays, kind=st.sampled_from(["bce", "hinge", "lsgan"]))
def test_weights_select_terms(real, mismatched, fake, kind):
    r, m, f = (torch.from_numpy(a) for a in (real, mismatched, fake))
    only_real = matching_aware_d_loss(r, m, f, kind=kind, weights=(1.0, 0.0, 0.0))
    torch.testing.assert_close(only_real.total, d_real_loss(r, kind=kind))
    only_mismatch = matching_aware_d_loss(r, m, f, kind=kind, weights=(0, 1, 0))
    torch.testing.assert_close(only_mismatch.total, d_fake_loss(m, kind=kind))
    full = matching_aware_d_loss(r, m, f, kind=kind, weights=(0.5, 2.0, 3.0))
    torch.testing.assert_close(full.total, 0.5 * full.real + 2.0 * full.mismatched + 3.0 * full.fake)


def test_module_form():
    loss = MatchingAwareDLoss(kind="hinge", weights=(1, 0.1, 0.9))
    out = loss(torch.zeros(2), torch.zeros(2), torch.zeros(2))
    assert out.total.item() == pytest.approx(1.0 + 0.1 + 0.9)
    assert "weights=(1.0, 0.1, 0.9)" in repr(loss)


@settings(deadline=None, max_examples=20)
@given(n=st.integers(2, 40), seed=st.integers(0, 10_000))
def test_derangement_has_no_fixed_points(n, seed):
    perm = derangement(n, generator=torch.Generator().manual_seed(seed))
    assert perm.dtype == torch.long and sorted(perm.tolist()) == list(range(n))
    assert (perm != torch.arange(n)).all()


def test_derangement_is_random_and_seeded():
    a = derangement(8, generator=torch.Generator().manual_seed(1))
    b = derangement(8, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)
    assert len({tuple(derangement(8).tolist()) for _ in range(20)}) > 1


def test_split_logits_undoes_concatenation():
    real, mismatched, fake = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2), torch.randn(2, 1, 2, 2)
    parts = split_logits(torch.cat([real, mismatched, fake]), (3, 3, 2))
    for got, want in zip(parts, (real, mismatched, fake), strict=True):
        torch.testing.assert_close(got, want)


def test_errors():
    z = torch.zeros(2)
    with pytest.raises(
        ValueError, match=r"weights: expected three floats \(real, mismatched, fake\), got \(1.0, 1.0\)"
    ):
        matching_aware_d_loss(z, z, z, weights=(1.0, 1.0))
    with pytest.raises(ValueError, match=r"weights: expected three non-negative floats, got \(1, -1, 1\)"):
        matching_aware_d_loss(z, z, z, weights=(1, -1, 1))
    with pytest.raises(
        ValueError, match=r"mismatched_logits: expected shape \(B,\) like real_logits, got \(2, 1\)"
    ):
        matching_aware_d_loss(z, torch.zeros(2, 1), z)
    with pytest.raises(ValueError, match="kind: expected one of"):
        matching_aware_d_loss(z, z, z, kind="wgan")
    with pytest.raises(
        ValueError, match=r"n: expected at least 2 \(one sample has no other to mismatch with\), got 1"
    ):
        derangement(1)
    with pytest.raises(
        ValueError, match=r"sizes: expected sizes summing to the batch of logits \(6\), got \(2, 2\)"
    ):
        split_logits(torch.zeros(6), (2, 2))
    with pytest.raises(ValueError, match=r"sizes\[1\]: expected a positive int, got 0"):
        split_logits(torch.zeros(6), (6, 0))
