"""Tests of condgan.losses.reconstruction."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.losses import (
    L1Reconstruction,
    SegmentationCrossEntropy,
    l1_reconstruction,
    segmentation_cross_entropy,
)


def test_cross_entropy_by_hand():
    logits = torch.zeros(1, 3, 1, 2)
    logits[0, :, 0, 0] = torch.tensor([math.log(2.0), 0.0, 0.0])  # softmax (1/2, 1/4, 1/4)
    labels = torch.tensor([[[0, 2]]])
    # pixel 0: -log 1/2; pixel 1 (uniform): -log 1/3
    expected = (math.log(2.0) + math.log(3.0)) / 2
    assert segmentation_cross_entropy(logits, labels).item() == pytest.approx(expected, rel=1e-6)
    assert segmentation_cross_entropy(logits, labels, ignore_index=2).item() == pytest.approx(math.log(2.0))


def test_soft_targets_equal_one_hot_labels():
    torch.manual_seed(0)
    logits, labels = torch.randn(2, 7, 4, 4), torch.randint(0, 7, (2, 4, 4))
    one_hot = torch.nn.functional.one_hot(labels, 7).permute(0, 3, 1, 2).float()
    torch.testing.assert_close(
        segmentation_cross_entropy(logits, one_hot), segmentation_cross_entropy(logits, labels)
    )


@settings(deadline=None, max_examples=10)
@given(k=st.integers(2, 7), seed=st.integers(0, 1000))
def test_cross_entropy_is_zero_for_confident_correct_logits(k, seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, k, (2, 3, 3), generator=g)
    logits = 100.0 * torch.nn.functional.one_hot(labels, k).permute(0, 3, 1, 2).float()
    assert segmentation_cross_entropy(logits, labels).item() == pytest.approx(0.0, abs=1e-6)


def test_l1_by_hand_and_modules():
    pred, target = torch.tensor([[1.0, -1.0, 0.5]]), torch.tensor([[0.0, 1.0, 0.5]])
    assert l1_reconstruction(pred, target).item() == pytest.approx(1.0)
    assert L1Reconstruction()(pred, target).item() == pytest.approx(1.0)
    logits, labels = torch.zeros(1, 4, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long)
    assert SegmentationCrossEntropy()(logits, labels).item() == pytest.approx(math.log(4.0))


def test_errors():
    logits = torch.zeros(2, 7, 4, 4)
    with pytest.raises(ValueError, match=r"labels: expected labels in \[0, 6\], got a label 7"):
        segmentation_cross_entropy(logits, torch.full((2, 4, 4), 7))
    with pytest.raises(
        ValueError, match=r"labels: expected labels in \[0, 6\] or ignore_index=255, got a label 9"
    ):
        segmentation_cross_entropy(logits, torch.tensor([255, 9]).repeat(16).view(2, 4, 4), ignore_index=255)
    with pytest.raises(
        ValueError, match=r"labels: expected shape \(B, H, W\) = \(2, 4, 4\) to match logits, got \(2, 8, 8\)"
    ):
        segmentation_cross_entropy(logits, torch.zeros(2, 8, 8, dtype=torch.long))
    with pytest.raises(TypeError, match="labels: expected an integer tensor"):
        segmentation_cross_entropy(logits, torch.zeros(2, 4, 4, dtype=torch.bool))
    with pytest.raises(
        ValueError, match=r"labels: expected soft targets of the logits' shape \(2, 7, 4, 4\)"
    ):
        segmentation_cross_entropy(logits, torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match=r"logits: expected shape \(B, K, H, W\), got \(7, 4, 4\)"):
        segmentation_cross_entropy(torch.zeros(7, 4, 4), torch.zeros(4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"target: expected the shape of pred \(2, 3\), got \(3, 2\)"):
        l1_reconstruction(torch.zeros(2, 3), torch.zeros(3, 2))
    with pytest.raises(TypeError, match="target: expected a floating-point tensor, got dtype torch.uint8"):
        l1_reconstruction(torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.uint8))


def test_segmentation_cross_entropy_rejects_an_empty_batch():
    with pytest.raises(ValueError, match=r"logits: expected a non-empty batch, got shape \(0, 7, 4, 4\)"):
        segmentation_cross_entropy(torch.zeros(0, 7, 4, 4), torch.zeros(0, 4, 4, dtype=torch.long))


@settings(max_examples=25, deadline=None)
@given(factor=st.sampled_from([1, 2, 4]), seed=st.integers(0, 2**16))
def test_l1_downsample_compares_block_means(factor, seed):
    g = torch.Generator().manual_seed(seed)
    pred, target = torch.randn(2, 3, 8, 8, generator=g), torch.randn(2, 3, 8, 8, generator=g)
    expected = (
        (
            pred.unflatten(-1, (-1, factor)).unflatten(-3, (-1, factor)).mean(dim=(-3, -1))
            - target.unflatten(-1, (-1, factor)).unflatten(-3, (-1, factor)).mean(dim=(-3, -1))
        )
        .abs()
        .mean()
    )
    torch.testing.assert_close(l1_reconstruction(pred, target, downsample=factor), expected)
    torch.testing.assert_close(L1Reconstruction(downsample=factor)(pred, target), expected)
    # A block mean never sees more difference than the pixels do (triangle inequality).
    assert l1_reconstruction(pred, target, downsample=factor) <= l1_reconstruction(pred, target) + 1e-6


def test_l1_downsample_leaves_texture_free():
    checks = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2 * 2.0 - 1.0  # +-1 checkerboard
    pred = checks.expand(1, 3, 8, 8)
    assert l1_reconstruction(pred, torch.zeros(1, 3, 8, 8)).item() == 1.0
    assert l1_reconstruction(pred, torch.zeros(1, 3, 8, 8), downsample=2).item() == 0.0
    assert "downsample=2" in repr(L1Reconstruction(downsample=2)) and "downsample" not in repr(
        L1Reconstruction()
    )


def test_l1_downsample_errors():
    with pytest.raises(ValueError, match=r"pred: expected H and W divisible by downsample=3, got \(8, 8\)"):
        l1_reconstruction(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8), downsample=3)
    with pytest.raises(ValueError, match=r"pred: expected .*\(B, C, H, W\) when downsample > 1"):
        l1_reconstruction(torch.zeros(2, 8), torch.zeros(2, 8), downsample=2)
    with pytest.raises(ValueError, match="downsample: expected a positive int, got 0"):
        l1_reconstruction(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8), downsample=0)
    with pytest.raises(ValueError, match="downsample: expected a positive int, got 0"):
        L1Reconstruction(downsample=0)


@settings(deadline=None, max_examples=10)
@given(seed=st.integers(0, 1000), w=st.floats(0.0, 3.0))
def test_weighted_l1_scales_each_pixel(seed, w):
    """A constant weight scales the L1; a 0/1 mask counts only its pixels (the mean stays over all pixels)."""
    g = torch.Generator().manual_seed(seed)
    pred, target = torch.randn(2, 3, 4, 4, generator=g), torch.randn(2, 3, 4, 4, generator=g)
    plain = l1_reconstruction(pred, target)
    torch.testing.assert_close(l1_reconstruction(pred, target, weight=torch.full((2, 4, 4), w)), w * plain)
    mask = torch.zeros(2, 4, 4)
    mask[:, :2] = 1.0
    expected = (pred - target).abs()[..., :2, :].sum() / pred.numel()
    torch.testing.assert_close(l1_reconstruction(pred, target, weight=mask), expected)
    torch.testing.assert_close(L1Reconstruction()(pred, target, mask), expected)


def test_weighted_l1_errors():
    pred = torch.zeros(2, 3, 4, 4)
    with pytest.raises(
        ValueError, match=r"weight: expected shape \(B, H, W\) = \(2, 4, 4\), got \(2, 1, 4, 4\)"
    ):
        l1_reconstruction(pred, pred, weight=torch.ones(2, 1, 4, 4))
    with pytest.raises(
        ValueError, match="weight: expected downsample=1 with per-pixel weights, got downsample=2"
    ):
        l1_reconstruction(pred, pred, weight=torch.ones(2, 4, 4), downsample=2)
    with pytest.raises(ValueError, match=r"pred: expected shape \(B, C, H, W\) with a weight"):
        l1_reconstruction(torch.zeros(2, 3), torch.zeros(2, 3), weight=torch.ones(2, 4, 4))


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 1000), soft=st.booleans(), ignore=st.booleans())
def test_weighted_cross_entropy_is_the_weighted_mean_of_the_pixels(seed, soft, ignore):
    g = torch.Generator().manual_seed(seed)
    logits, labels = torch.randn(2, 4, 3, 3, generator=g), torch.randint(0, 4, (2, 3, 3), generator=g)
    ignore_index = 0 if ignore and not soft else None
    target = torch.nn.functional.one_hot(labels, 4).permute(0, 3, 1, 2).float() if soft else labels
    # Weight 1 everywhere is the plain loss.
    ones = torch.ones(2, 3, 3)
    torch.testing.assert_close(
        segmentation_cross_entropy(logits, target, ignore_index=ignore_index, weight=ones),
        segmentation_cross_entropy(logits, target, ignore_index=ignore_index),
    )
    # Any weights: each counted pixel's -log p scaled, the mean over the counted pixels.
    weight = torch.rand(2, 3, 3, generator=g) * 3
    per_pixel = -torch.log_softmax(logits, 1).gather(1, labels.unsqueeze(1))[:, 0]
    counted = labels != 0 if ignore_index == 0 else torch.ones_like(labels, dtype=torch.bool)
    expected = (per_pixel * weight)[counted].sum() / counted.sum()
    got = segmentation_cross_entropy(logits, target, ignore_index=ignore_index, weight=weight)
    torch.testing.assert_close(got, expected)
    module = SegmentationCrossEntropy(ignore_index=ignore_index)(logits, target, weight)
    torch.testing.assert_close(module, expected)


def test_weighted_cross_entropy_errors():
    logits, labels = torch.zeros(2, 7, 4, 4), torch.zeros(2, 4, 4, dtype=torch.long)
    match = r"weight: expected shape \(B, H, W\) = \(2, 4, 4\), got \(2, 1, 4, 4\)"
    with pytest.raises(ValueError, match=match):
        segmentation_cross_entropy(logits, labels, weight=torch.ones(2, 1, 4, 4))
    with pytest.raises(TypeError, match="weight"):
        segmentation_cross_entropy(logits, labels, weight=torch.ones(2, 4, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="weight"):
        segmentation_cross_entropy(logits, labels, weight=[[1.0]])
