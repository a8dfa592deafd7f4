"""Tests of condgan.losses.adversarial."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from condgan.losses import (
    ADVERSARIAL_KINDS,
    DiscriminatorLoss,
    GeneratorLoss,
    d_fake_loss,
    d_loss,
    d_real_loss,
    g_loss,
)

logit_arrays = hnp.arrays(
    "float64", st.integers(1, 6), elements=st.floats(-20, 20, allow_nan=False, allow_infinity=False)
)


def test_bce_by_hand():
    real, fake = torch.tensor([0.0, 2.0]), torch.tensor([-1.0])
    # -log s(0) = log 2; -log s(2) = log(1 + e^-2); -log(1 - s(-1)) = log(1 + e^-1)
    expected_real = (math.log(2.0) + math.log1p(math.exp(-2.0))) / 2
    expected_fake = math.log1p(math.exp(-1.0))
    assert d_real_loss(real).item() == pytest.approx(expected_real, rel=1e-6)
    assert d_fake_loss(fake).item() == pytest.approx(expected_fake, rel=1e-6)
    assert d_loss(real, fake).item() == pytest.approx(expected_real + expected_fake, rel=1e-6)
    assert g_loss(fake).item() == pytest.approx(math.log1p(math.exp(1.0)), rel=1e-6)  # -log s(-1)


def test_bce_matches_official_criterion_on_sigmoid():
    torch.manual_seed(0)
    real, fake = torch.randn(8), torch.randn(8)
    official = F.binary_cross_entropy(torch.sigmoid(real), torch.ones(8)) + F.binary_cross_entropy(
        torch.sigmoid(fake), torch.zeros(8)
    )
    torch.testing.assert_close(d_loss(real, fake), official)
    torch.testing.assert_close(g_loss(fake), F.binary_cross_entropy(torch.sigmoid(fake), torch.ones(8)))


def test_bce_is_stable_for_large_logits():
    huge = torch.tensor([200.0, -200.0])
    assert torch.isfinite(d_loss(huge, huge)) and d_real_loss(torch.tensor([200.0])).item() == 0.0
    assert d_fake_loss(torch.tensor([200.0])).item() == pytest.approx(200.0)


def test_hinge_and_lsgan_by_hand():
    real, fake = torch.tensor([0.5, 2.0]), torch.tensor([-3.0, 0.0])
    assert d_loss(real, fake, kind="hinge").item() == pytest.approx((0.5 + 0.0) / 2 + (0.0 + 1.0) / 2)
    assert g_loss(fake, kind="hinge").item() == pytest.approx(1.5)
    assert d_loss(real, fake, kind="lsgan").item() == pytest.approx((0.25 + 1.0) / 2 + (9.0 + 0.0) / 2)
    assert g_loss(fake, kind="lsgan").item() == pytest.approx((16.0 + 1.0) / 2)


def test_patch_logits_are_averaged():
    real = torch.zeros(2, 1, 3, 3)
    assert d_real_loss(real, kind="hinge").item() == pytest.approx(1.0)
    assert d_loss(real, torch.zeros(5, 1, 3, 3), kind="lsgan").item() == pytest.approx(1.0)


@settings(deadline=None, max_examples=30)
@given(real=logit_arrays, fake=logit_arrays)
def test_hinge_d_loss_is_non_negative(real, fake):
    assert d_loss(torch.from_numpy(real), torch.from_numpy(fake), kind="hinge").item() >= 0.0


@settings(deadline=None, max_examples=20)
@given(n=st.integers(1, 5), m=st.integers(1, 5))
def test_lsgan_is_zero_at_targets(n, m):
    assert d_loss(torch.ones(n), torch.zeros(m), kind="lsgan").item() == 0.0
    assert g_loss(torch.ones(m), kind="lsgan").item() == 0.0


@settings(deadline=None, max_examples=20)
@given(logits=logit_arrays)
def test_bce_terms_relate_by_symmetry(logits):
    x = torch.from_numpy(logits)
    # -log s(l) = -log(1 - s(-l)): the real term of l is the fake term of -l, and G's term is D's real term
    torch.testing.assert_close(d_real_loss(x), d_fake_loss(-x))
    torch.testing.assert_close(g_loss(x), d_real_loss(x))


@pytest.mark.parametrize("kind", ADVERSARIAL_KINDS)
def test_modules_match_functions(kind):
    real, fake = torch.randn(4), torch.randn(4)
    torch.testing.assert_close(DiscriminatorLoss(kind=kind)(real, fake), d_loss(real, fake, kind=kind))
    torch.testing.assert_close(GeneratorLoss(kind=kind)(fake), g_loss(fake, kind=kind))
    assert repr(GeneratorLoss(kind=kind)) == f"GeneratorLoss(kind={kind!r})"


def test_gradients_push_the_right_way():
    for kind in ADVERSARIAL_KINDS:
        real = torch.full((3,), 0.5, requires_grad=True)
        fake = torch.full((3,), 0.5, requires_grad=True)
        d_loss(real, fake, kind=kind).backward()
        assert (real.grad < 0).all() and (fake.grad > 0).all()  # descent raises real, lowers fake
        fake_g = torch.full((3,), 0.5, requires_grad=True)
        g_loss(fake_g, kind=kind).backward()
        assert (fake_g.grad < 0).all()


def test_errors():
    with pytest.raises(ValueError, match=r"kind: expected one of \['bce', 'hinge', 'lsgan'\], got 'wgan'"):
        d_loss(torch.zeros(2), torch.zeros(2), kind="wgan")
    with pytest.raises(ValueError, match=r"kind: expected one of"):
        GeneratorLoss(kind="mse")
    with pytest.raises(
        ValueError, match=r"fake_logits: expected shape \(B, 1, 4, 4\) like real_logits, got \(2,\)"
    ):
        d_loss(torch.zeros(2, 1, 4, 4), torch.zeros(2))
    with pytest.raises(
        TypeError, match="real_logits: expected a floating-point tensor, got dtype torch.int64"
    ):
        d_loss(torch.zeros(2, dtype=torch.long), torch.zeros(2))
    with pytest.raises(
        ValueError, match=r"fake_logits: expected a non-empty tensor of shape \(B,\) or \(B, ...\), got \(\)"
    ):
        g_loss(torch.tensor(1.0))
    with pytest.raises(ValueError, match=r"logits: expected a non-empty tensor"):
        d_real_loss(torch.zeros(0))
    with pytest.raises(TypeError, match="logits: expected a torch.Tensor, got list"):
        d_fake_loss([1.0])
