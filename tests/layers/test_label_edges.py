"""Tests of condgan.layers.label_edges."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.layers import class_boundary


def _brute_force(labels: torch.Tensor, first: int, second: int, radius: int) -> torch.Tensor:
    b, h, w = labels.shape
    out = torch.zeros(b, h, w, dtype=torch.bool)
    for i in range(b):
        for y in range(h):
            for x in range(w):
                window = labels[i, max(0, y - radius) : y + radius + 1, max(0, x - radius) : x + radius + 1]
                out[i, y, x] = bool((window == first).any() and (window == second).any())
    return out


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 10_000), radius=st.integers(1, 2), classes=st.integers(2, 4))
def test_class_boundary_is_the_pixels_near_both_classes(seed, radius, classes):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (2, 5, 6), generator=g)
    band = class_boundary(labels, 0, 1, radius=radius)
    assert band.dtype == torch.bool and band.shape == labels.shape
    torch.testing.assert_close(band, _brute_force(labels, 0, 1, radius))
    torch.testing.assert_close(band, class_boundary(labels, 1, 0, radius=radius))  # symmetric


def test_class_boundary_is_empty_without_one_of_the_classes():
    labels = torch.tensor([[[3, 3, 0, 0], [3, 3, 0, 0]]])
    assert not class_boundary(labels, 3, 6).any()
    assert class_boundary(labels, 3, 0).sum() == 4  # the two columns on either side of the edge


def test_class_boundary_errors():
    labels = torch.zeros(1, 4, 4, dtype=torch.long)
    with pytest.raises(TypeError, match="labels: expected an integer"):
        class_boundary(labels.float(), 0, 1)
    with pytest.raises(ValueError, match=r"labels: expected .*\(B, H, W\)"):
        class_boundary(labels[0], 0, 1)
    with pytest.raises(ValueError, match="second: expected a class other than first \\(3\\), got 3"):
        class_boundary(labels, 3, 3)
    with pytest.raises(ValueError, match="first: expected an int >= 0, got -1"):
        class_boundary(labels, -1, 1)
    with pytest.raises(ValueError, match="radius: expected an int >= 1, got 0"):
        class_boundary(labels, 0, 1, radius=0)
