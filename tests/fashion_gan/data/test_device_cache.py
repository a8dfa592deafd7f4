"""fashion_gan.data.device_cache: the uint8 training set on the device (tested on the CPU device)."""

from __future__ import annotations

import doctest

import pytest
import torch
from fashion_gan.data import device_cache
from fashion_gan.data.device_cache import CACHED_KEYS, DeviceCache
from fashion_gan.data.synthetic import SyntheticMannequins
from hypothesis import given, settings
from hypothesis import strategies as st

N = 12


@pytest.fixture(scope="module")
def data():
    return SyntheticMannequins(split="train", image_size=32, num_train=N, seed=5)


@pytest.fixture(scope="module")
def cache(data):
    return DeviceCache.from_dataset(data, device="cpu", chunk_size=5)


def test_doctests():
    assert doctest.testmod(device_cache, raise_on_error=False).failed == 0


def test_from_dataset_holds_the_dataset_exactly(data, cache):
    assert len(cache) == N and cache.image_size == 32
    ref = data.get_batch(list(range(N)))
    for key in CACHED_KEYS:
        assert torch.equal(getattr(cache, key), ref[key].to(getattr(cache, key).dtype)), key
    assert cache.image.dtype == torch.uint8 and cache.labels.dtype == torch.uint8
    assert cache.word_ids.dtype == torch.int64
    assert cache.nbytes == N * (3 * 32 * 32 + 32 * 32 + 8 * ref["word_ids"].shape[1])
    assert "n=12" in repr(cache) and "device='cpu'" in repr(cache)


def test_from_dataset_with_indices_keeps_their_order(data):
    sub = DeviceCache.from_dataset(data, device="cpu", indices=[7, 2, 9])
    ref = data.get_batch([7, 2, 9])
    assert torch.equal(sub.image, ref["image"]) and torch.equal(sub.labels, ref["labels"])


@settings(deadline=None, max_examples=15)
@given(st.lists(st.integers(0, N - 1), min_size=1, max_size=8))
def test_get_batch_gathers_the_items(data, cache, indices):
    out = cache.get_batch(indices)
    ref = data.get_batch(indices)
    for key in CACHED_KEYS:
        assert torch.equal(out[key], ref[key].to(out[key].dtype)), key
    assert out["index"].tolist() == indices
    same = cache.get_batch(torch.tensor(indices), check=False)
    assert torch.equal(same["image"], out["image"])


def test_get_batch_validation(cache):
    with pytest.raises(ValueError, match=r"indices: expected values in \[0, 11\], got 3..12"):
        cache.get_batch([3, 12])
    with pytest.raises(ValueError, match=r"indices: expected values in \[0, 11\], got -1..0"):
        cache.get_batch([0, -1])
    with pytest.raises(ValueError, match="indices: expected a 1-d sequence of ints, got torch.float32"):
        cache.get_batch(torch.tensor([0.0, 1.0]))
    with pytest.raises(
        ValueError, match=r"indices: expected a 1-d sequence of ints, got torch.int64 \(1, 2\)"
    ):
        cache.get_batch(torch.tensor([[0, 1]]))


def _tensors(n=3, size=8):
    return (
        torch.zeros(n, 3, size, size, dtype=torch.uint8),
        torch.zeros(n, size, size, dtype=torch.uint8),
        torch.ones(n, 5, dtype=torch.int64),
    )


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (
            {0: torch.zeros(3, 3, 8, 8)},
            ValueError,
            r"image: expected uint8 \(N, 3, H, W\), got torch.float32",
        ),
        (
            {0: torch.zeros(3, 1, 8, 8, dtype=torch.uint8)},
            ValueError,
            r"image: expected uint8 \(N, 3, H, W\)",
        ),
        (
            {1: torch.zeros(3, 8, 9, dtype=torch.uint8)},
            ValueError,
            r"labels: expected uint8 \(N, 8, 8\) like image",
        ),
        ({1: torch.zeros(3, 8, 8, dtype=torch.int64)}, ValueError, r"labels: expected uint8 \(N, 8, 8\)"),
        ({2: torch.zeros(3, 5)}, ValueError, r"word_ids: expected integer \(N, L\), got torch.float32"),
        ({2: torch.ones(2, 5, dtype=torch.int64)}, ValueError, "expected the same first dimension N, got"),
        ({0: [1, 2]}, TypeError, "image: expected a torch.Tensor, got list"),
    ],
)
def test_constructor_validation(change, error, match):
    args = list(_tensors())
    for i, value in change.items():
        args[i] = value
    with pytest.raises(error, match=match):
        DeviceCache(*args, device="cpu")


def test_device_and_dataset_validation(data):
    with pytest.raises(TypeError, match="device: expected a str or torch.device, got int"):
        DeviceCache(*_tensors(), device=0)
    with pytest.raises(ValueError, match="device: expected a device like 'cpu' or 'cuda:0', got 'gpu'"):
        DeviceCache(*_tensors(), device="gpu")
    with pytest.raises(
        TypeError, match="dataset: expected an object with len\\(\\) and get_batch\\(\\), got list"
    ):
        DeviceCache.from_dataset([1, 2], device="cpu")
    with pytest.raises(ValueError, match="chunk_size: expected a positive int, got 0"):
        DeviceCache.from_dataset(data, device="cpu", chunk_size=0)
    with pytest.raises(ValueError, match=r"indices: expected values in \[0, 11\], got 0..12"):
        DeviceCache.from_dataset(data, device="cpu", indices=[0, 12])
    with pytest.raises(
        ValueError, match=r"indices: expected a non-empty 1-d sequence of ints, got shape \(0,\)"
    ):
        DeviceCache.from_dataset(data, device="cpu", indices=[])

    class NoKeys:
        def __len__(self):
            return 2

        def get_batch(self, indices):
            return {"image": torch.zeros(len(indices), 3, 4, 4, dtype=torch.uint8)}

    with pytest.raises(
        ValueError, match=r"dataset.get_batch: expected the keys .* missing \['labels', 'word_ids'\]"
    ):
        DeviceCache.from_dataset(NoKeys(), device="cpu")
