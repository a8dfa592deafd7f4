"""RegionColors / add_region_colors: free colours from the code, anchored regions copy measured colours."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.layers.region_colors import RegionColors, add_region_colors


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 2**31 - 1), b=st.integers(1, 4))
def test_anchored_regions_copy_their_anchor_and_free_ones_stay_in_range(seed, b):
    torch.manual_seed(seed)
    layer = RegionColors(code_dim=6, num_regions=7, anchors={1: 1, 2: 0, 5: 0, 6: 0})
    with torch.no_grad():
        layer.linear.weight.normal_(0, 3)
    anchors = torch.rand(b, 2, 3) * 2 - 1
    out = layer(torch.randn(b, 6), anchors)
    assert out.shape == (b, 7, 3)
    for region in (2, 5, 6):
        assert torch.equal(out[:, region], anchors[:, 0])
    assert torch.equal(out[:, 1], anchors[:, 1])
    free = out[:, [0, 3, 4]]
    assert (free.abs() <= 1).all()  # tanh (saturates to 1.0 in float32)


def test_free_colours_start_grey_and_learn_from_the_code():
    layer = RegionColors(code_dim=4, num_regions=3)
    code = torch.randn(5, 4)
    out = layer(code)
    assert torch.equal(out, torch.zeros(5, 3, 3)) and layer.num_anchors == 0
    (out[:, 0, 0] - 0.5).pow(2).sum().backward()
    assert layer.linear.weight.grad.abs().sum() > 0


def test_anchors_receive_no_learned_colour_gradient():
    layer = RegionColors(code_dim=4, num_regions=3, anchors={0: 0})
    anchors = torch.rand(2, 1, 3, requires_grad=True)
    layer(torch.randn(2, 4), anchors)[:, 0].sum().backward()
    assert torch.equal(anchors.grad, torch.ones(2, 1, 3))
    assert layer.linear.weight.grad.abs().sum() == 0


def test_add_region_colors_broadcasts_over_space():
    renderings = torch.randn(2, 3, 3, 4, 5)
    colors = torch.randn(2, 3, 3)
    out = add_region_colors(renderings, colors)
    torch.testing.assert_close(out - renderings, colors[..., None, None].expand_as(out))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: RegionColors(code_dim=0, num_regions=3), ValueError, "code_dim: expected a positive int"),
        (lambda: RegionColors(code_dim=2, num_regions=3, anchors={3: 0}), ValueError, r"anchors key 3"),
        (lambda: RegionColors(code_dim=2, num_regions=3, anchors={1: -1}), ValueError, r"anchors\[1\]"),
        (
            lambda: RegionColors(code_dim=2, num_regions=3)(torch.zeros(2, 3)),
            ValueError,
            r"code: expected shape \(B, 2\)",
        ),
        (
            lambda: RegionColors(code_dim=2, num_regions=3, anchors={0: 1})(torch.zeros(2, 2)),
            ValueError,
            r"anchor_colors: expected shape \(B, num_anchors, C\) = \(2, 2, 3\), got None",
        ),
        (
            lambda: add_region_colors(torch.zeros(1, 2, 3, 4, 4), torch.zeros(1, 3, 3)),
            ValueError,
            r"colors: expected shape \(B, K, C\) = \(1, 2, 3\)",
        ),
        (
            lambda: add_region_colors(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3)),
            ValueError,
            r"renderings: expected shape \(B, K, C, H, W\)",
        ),
    ],
)
def test_errors_name_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call()
