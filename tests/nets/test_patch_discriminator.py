"""Tests of condgan.nets.patch_discriminator."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.nets import PatchDiscriminator, ProjectionHead

CFG = dict(channels=(4, 8, 8), code_dim=10, code_reduced_dim=3, head_channels=8)


@settings(deadline=None, max_examples=5)
@given(size=st.sampled_from([24, 32, 48]), batch=st.integers(2, 3))
def test_output_is_one_logit_per_patch(size, batch):
    d = PatchDiscriminator(**CFG)
    out = d(torch.randn(batch, 3, size, size), torch.randn(batch, 3, size, size), torch.randn(batch, 10))
    assert out.shape == (batch, 1, size // 8 - 2, size // 8 - 2)


def test_structure():
    d = PatchDiscriminator(**CFG)
    assert d.blocks[0].conv.in_channels == 6 and not hasattr(d.blocks[0], "norm")
    assert d.penultimate.conv.in_channels == 8 + 3  # the tiled reduced code at the last strided level
    assert d.penultimate.conv.stride == (1, 1) and d.penultimate.conv.padding == (1, 1)
    assert d.head.conv.out_channels == 1 and not hasattr(d.head, "act")
    assert d.blocks[0].conv.bias is not None  # official ih1_skip keeps biases


@torch.no_grad()
def test_code_and_condition_matter():
    torch.manual_seed(0)
    d = PatchDiscriminator(**CFG).eval()
    x, c, code = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32), torch.randn(2, 10)
    base = d(x, c, code)
    assert not torch.allclose(base, d(x, c + 1, code))
    assert not torch.allclose(base, d(x, c, code + 1))


def test_projection_head_per_patch():
    d = PatchDiscriminator(**dict(CFG, head="projection"))
    assert isinstance(d.head, ProjectionHead) and d.head.pool == "none"
    assert d.penultimate.conv.in_channels == 8  # no tiled code
    out = d(torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32), torch.randn(2, 10))
    assert out.shape == (2, 1, 3, 3)


def test_unconditional_variant():
    d = PatchDiscriminator(**dict(CFG, code_dim=0, condition_channels=0))
    assert d(torch.randn(2, 3, 32, 32)).shape == (2, 1, 2, 2)


def test_errors():
    d = PatchDiscriminator(**CFG)
    x, c, code = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32), torch.randn(2, 10)
    with pytest.raises(
        ValueError, match=r"x: expected H and W divisible by 2\*\*3 = 8 and at least 24, got \(16, 16\)"
    ):
        d(torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16), code)
    with pytest.raises(
        ValueError, match=r"condition: expected the spatial size of x \(32, 32\), got \(64, 64\)"
    ):
        d(x, torch.randn(2, 3, 64, 64), code)
    with pytest.raises(ValueError, match=r"condition: expected shape \(B, 3, H, W\), got \(2, 1, 32, 32\)"):
        d(x, torch.randn(2, 1, 32, 32), code)
    with pytest.raises(ValueError, match=r"code: expected shape \(B, 10\), got \(2, 9\)"):
        d(x, c, torch.randn(2, 9))
    with pytest.raises(ValueError, match=r"head: expected 'concat' when code_dim=0"):
        PatchDiscriminator(**dict(CFG, code_dim=0, head="projection"))
