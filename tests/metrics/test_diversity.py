"""Tests for condgan.metrics.diversity: mean pairwise L1 and 1 - SSIM across samples of one condition."""

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.metrics import pairwise_diversity


def samples(seed: int, z: int = 4, b: int = 3, c: int = 3, size: int = 16) -> torch.Tensor:
    return torch.rand(z, b, c, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def brute_force_l1(x: torch.Tensor) -> torch.Tensor:
    pairs = list(itertools.combinations(range(x.shape[0]), 2))
    return torch.stack([(x[i] - x[j]).abs().mean(dim=(1, 2, 3)) for i, j in pairs]).mean(0)


def test_l1_matches_brute_force():
    x = samples(0)
    torch.testing.assert_close(pairwise_diversity(x), brute_force_l1(x))


def test_identical_samples_have_zero_diversity():
    x = samples(1)[:1].expand(5, -1, -1, -1, -1)
    assert torch.equal(pairwise_diversity(x), torch.zeros(3))
    torch.testing.assert_close(pairwise_diversity(x, metric="ssim"), torch.zeros(3), atol=1e-5, rtol=0)


def test_ssim_distance_orders_samples_by_difference():
    base = samples(2, z=1)
    noise = torch.randn(base.shape, generator=torch.Generator().manual_seed(3))
    slightly = torch.cat([base, base + 0.05 * noise]).clamp(-1, 1)
    very = torch.cat([base, base + 0.8 * noise]).clamp(-1, 1)
    low, high = pairwise_diversity(slightly, metric="ssim"), pairwise_diversity(very, metric="ssim")
    assert bool((low > 0).all()) and bool((high > low).all()) and bool((high <= 2).all())


def test_ssim_matches_kornia_on_a_single_pair():
    import kornia.metrics

    x = samples(4, z=2, b=1)
    scaled = (x + 1) / 2
    expected = 1 - kornia.metrics.ssim(scaled[0], scaled[1], 7).mean()
    torch.testing.assert_close(pairwise_diversity(x, metric="ssim", window_size=7), expected.reshape(1))


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 10_000), z=st.integers(2, 5))
def test_permuting_samples_changes_nothing(seed, z):
    x = samples(seed, z=z, b=2, size=8)
    order = torch.randperm(z, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(pairwise_diversity(x[order]), pairwise_diversity(x))
    assert bool((pairwise_diversity(x) >= 0).all())


def test_errors():
    x = samples(0)
    with pytest.raises(ValueError, match=r"samples: expected shape \(Z, B, C, H, W\), got \(3, 3, 16, 16\)"):
        pairwise_diversity(x[0])
    with pytest.raises(TypeError, match=r"samples: expected a floating-point tensor, got dtype torch.int64"):
        pairwise_diversity(x.long())
    with pytest.raises(
        ValueError, match=r"samples: expected at least 2 samples per condition in dim 0, got 1"
    ):
        pairwise_diversity(x[:1])
    with pytest.raises(ValueError, match=r"metric: expected one of \('l1', 'ssim'\), got 'l2'"):
        pairwise_diversity(x, metric="l2")
    with pytest.raises(ValueError, match=r"window_size: expected an odd int, got 4"):
        pairwise_diversity(x, metric="ssim", window_size=4)
    with pytest.raises(ValueError, match=r"value_range: expected low < high, got \(1.0, -1.0\)"):
        pairwise_diversity(x, metric="ssim", value_range=(1.0, -1.0))
    with pytest.raises(TypeError, match=r"value_range: expected a pair of numbers"):
        pairwise_diversity(x, metric="ssim", value_range=(0, 1, 2))
