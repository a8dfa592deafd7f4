"""Tests of condgan.layers.film: the modulation maths, the zero start, gradients and bad input."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.layers import FiLM, film


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 3),
    channels=st.integers(1, 5),
    size=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_film_is_a_per_channel_affine_map(batch, channels, size, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, channels, size, size, generator=g)
    gamma, beta = torch.randn(batch, channels, generator=g), torch.randn(batch, channels, generator=g)
    out = film(x, gamma, beta)
    for b in range(batch):
        for c in range(channels):
            torch.testing.assert_close(out[b, c], x[b, c] * (1 + gamma[b, c]) + beta[b, c])
    torch.testing.assert_close(film(x, torch.zeros_like(gamma), torch.zeros_like(beta)), x)


def test_film_keeps_the_feature_dtype():
    x = torch.randn(2, 3, 2, 2, dtype=torch.float64)
    out = film(x, torch.zeros(2, 3), torch.ones(2, 3))
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, x + 1)


def test_film_module_starts_as_identity_and_learns():
    torch.manual_seed(0)
    layer = FiLM(code_dim=4, channels=3)
    x, code = torch.randn(2, 3, 5, 5), torch.randn(2, 4)
    assert torch.equal(layer(x, code), x)
    layer(x, code).square().sum().backward()
    assert layer.proj.weight.grad.abs().sum() > 0  # zero weights still receive a gradient
    with torch.no_grad():
        layer.proj.weight.normal_()
    out = layer(x, code)
    other = layer(x, code.flip(0))
    assert not torch.allclose(out[0], other[0])  # the code now changes the output
    assert "code_dim=4, channels=3" in repr(layer)


def test_film_gradcheck():
    x = torch.randn(2, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    gamma = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    beta = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(film, (x, gamma, beta))


def test_film_errors():
    x = torch.randn(2, 3, 4, 4)
    with pytest.raises(ValueError, match=r"features: expected .*\(B, C, H, W\)"):
        film(torch.randn(2, 3), torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"gamma: expected 3 channels in dim 1, got 2"):
        film(x, torch.zeros(2, 2), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="batch size mismatch"):
        film(x, torch.zeros(1, 3), torch.zeros(1, 3))
    with pytest.raises(TypeError, match="beta"):
        film(x, torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long))
    layer = FiLM(code_dim=4, channels=3)
    with pytest.raises(ValueError, match=r"code: expected 4 channels in dim 1, got 5"):
        layer(x, torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"features: expected 3 channels in dim 1, got 2"):
        layer(torch.randn(2, 2, 4, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"code: expected .*\(B, D\)"):
        layer(x, torch.zeros(2, 4, 1, 1))
    with pytest.raises(ValueError, match="code_dim: expected a positive int, got 0"):
        FiLM(code_dim=0, channels=3)
