"""Tests of condgan.losses.regularizers."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from condgan.losses import R1Penalty, r1_penalty


@settings(deadline=None, max_examples=10)
@given(seed=st.integers(0, 1000), batch=st.integers(1, 4))
def test_linear_discriminator_penalty_is_weight_norm(seed, batch):
    torch.manual_seed(seed)
    d = nn.Linear(5, 1)
    x = torch.randn(batch, 5, requires_grad=True)
    penalty = r1_penalty(d(x).squeeze(1), x)
    assert penalty.item() == pytest.approx(float(d.weight.detach().square().sum()), rel=1e-5)


def test_quadratic_discriminator_by_hand():
    x = torch.tensor([[1.0, 2.0], [0.0, 3.0]], requires_grad=True)
    logits = x.square().sum(dim=1)  # grad = 2x: |2x|^2 = 4 * (5, 9)
    assert r1_penalty(logits, x).item() == pytest.approx((20.0 + 36.0) / 2)


def test_penalty_is_differentiable_wrt_discriminator():
    torch.manual_seed(0)
    d = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Tanh(), nn.Flatten(), nn.LazyLinear(1))
    x = torch.randn(2, 3, 6, 6, requires_grad=True)
    d(x)  # materialise the lazy layer
    penalty = r1_penalty(d(x).squeeze(1), x)
    penalty.backward()
    assert d[0].weight.grad is not None and d[0].weight.grad.abs().sum() > 0


def test_several_inputs_and_patch_logits():
    image = torch.ones(2, 1, 2, 2, requires_grad=True)
    condition = torch.ones(2, 1, 2, 2, requires_grad=True)
    logits = 2.0 * image + 3.0 * condition  # (B, 1, 2, 2) patch logits, one pixel each
    # per sample: 4 pixels * (2^2 + 3^2) = 52
    assert r1_penalty(logits, [image, condition]).item() == pytest.approx(52.0)
    assert R1Penalty(gamma=10.0)(logits, (image, condition)).item() == pytest.approx(5.0 * 52.0)


def test_unused_input_contributes_zero():
    x = torch.ones(2, 3, requires_grad=True)
    unused = torch.ones(2, 3, requires_grad=True)
    assert r1_penalty(x.sum(dim=1), [x, unused]).item() == pytest.approx(3.0)


def test_errors():
    x = torch.ones(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match=r"real_inputs: expected a tensor with requires_grad=True"):
        r1_penalty(x.sum(dim=1), torch.ones(2, 3))
    with pytest.raises(
        ValueError, match=r"real_inputs\[1\]: expected the batch size of real_logits \(2\) in dim 0"
    ):
        r1_penalty(x.sum(dim=1), [x, torch.ones(3, 3, requires_grad=True)])
    with pytest.raises(ValueError, match="real_logits: expected logits computed from real_inputs"):
        r1_penalty(torch.ones(2), x)
    with pytest.raises(ValueError, match=r"real_logits: expected shape \(B,\) or \(B, ...\), got \(\)"):
        r1_penalty(x.sum(), x)
    with pytest.raises(TypeError, match="real_inputs: expected a tensor or a non-empty sequence of tensors"):
        r1_penalty(x.sum(dim=1), [])
    with pytest.raises(ValueError, match="gamma: expected a non-negative float, got -1"):
        R1Penalty(gamma=-1)


def test_r1_penalty_rejects_an_empty_batch():
    inputs = torch.zeros(0, 3, 4, 4, requires_grad=True)
    with pytest.raises(ValueError, match=r"real_logits: expected a non-empty batch, got shape \(0,\)"):
        r1_penalty(torch.zeros(0), inputs)
