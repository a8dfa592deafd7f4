"""SyntheticMannequins: the sample contract, errors, determinism, redress pairs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fashion_gan.data.contract import validate_batch, validate_sample
from fashion_gan.data.synthetic import SyntheticMannequins
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader


@pytest.fixture(scope="module")
def ds64():
    return SyntheticMannequins(split="train", image_size=64, num_train=500, num_test=200)


@pytest.fixture(scope="module")
def batch64(ds64):
    return ds64.get_batch(np.arange(96))


# ----------------------------------------------------------------------------------------------------------
# contract and errors
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [32, 64, 128])
def test_items_follow_the_contract(size):
    ds = SyntheticMannequins(split="test", image_size=size, num_test=10)
    assert len(ds) == 10 and ds.split == "test" and ds.image_size == size
    for i in (0, 9, -1):
        validate_sample(ds[i], image_size=size)
    batch = ds.get_batch([4, 2])
    assert validate_batch(batch, image_size=size) == 2
    assert batch["index"].tolist() == [4, 2]
    assert ds[-1]["index"] == 9


def test_batch_content_ranges(batch64):
    assert batch64["image"].dtype == torch.uint8 and batch64["labels"].max() <= 6
    wearer = batch64["wearer"]
    assert wearer.min() >= 0 and wearer.max() <= 1
    assert torch.equal(wearer[:, 0], batch64["gender"].float())
    assert set(wearer[:, 1:4].unique().tolist()) <= {0.0, 1.0}
    assert (batch64["length"] >= 5).all() and (batch64["length"] <= 12).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(split="val"), ValueError, r"split: expected one of \['train', 'test'\], got 'val'"),
        (dict(image_size=8), ValueError, r"image_size: expected an int in \[16, 1024\], got 8"),
        (dict(image_size=64.0), TypeError, r"image_size: expected an int in \[16, 1024\], got float 64.0"),
        (dict(image_size=True), TypeError, r"image_size: expected an int in \[16, 1024\], got bool True"),
        (dict(num_train=0), ValueError, r"num_train: expected a positive int, got 0"),
        (dict(num_test=-3), ValueError, r"num_test: expected a positive int, got -3"),
        (dict(seed=-1), ValueError, r"seed: expected an int >= 0, got -1"),
        (dict(seed="0"), TypeError, r"seed: expected an int >= 0, got str '0'"),
        (dict(chunk=0), ValueError, r"chunk: expected a positive int, got 0"),
    ],
)
def test_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        SyntheticMannequins(**kwargs)


def test_index_errors():
    ds = SyntheticMannequins(image_size=32, num_train=5)
    with pytest.raises(IndexError, match=r"index: expected an int in \[-5, 4\], got 5"):
        ds[5]
    with pytest.raises(TypeError, match=r"index: expected an int in \[-5, 4\], got float 1.0"):
        ds[1.0]
    assert ds[-5]["index"] == 0 and ds[np.int64(4)]["index"] == 4
    with pytest.raises(IndexError, match=r"indices: expected indices in \[0, 4\], got 7"):
        ds.get_batch([1, 7])
    with pytest.raises(TypeError, match="indices: expected a sequence of ints, got dtype float64"):
        ds.get_batch([0.5])
    with pytest.raises(
        TypeError, match="indices: expected integer indices, got a tensor of dtype torch.float"
    ):
        ds.get_batch(torch.zeros(2))
    with pytest.raises(ValueError, match="indices: expected at least one index, got none"):
        ds.get_batch([])
    with pytest.raises(ValueError, match=r"indices: expected a 1-d sequence of indices, got shape \(2, 2\)"):
        ds.get_batch([[0, 1], [2, 3]])


# ----------------------------------------------------------------------------------------------------------
# determinism
# ----------------------------------------------------------------------------------------------------------


def _same(a, b):
    return all(a[k] == b[k] if k == "sentence" else torch.equal(a[k], b[k]) for k in a)


@settings(deadline=None, max_examples=6)
@given(
    indices=st.lists(st.integers(0, 499), min_size=1, max_size=40),
    chunk=st.integers(1, 40),
)
def test_a_sample_does_not_depend_on_its_batch(ds64, indices, chunk):
    """Sample i is a pure function of (seed, split, i): neither batch mates, order nor chunking matter."""
    other = SyntheticMannequins(split="train", image_size=64, num_train=500, num_test=200, chunk=chunk)
    batch = other.get_batch(indices)
    for j in range(min(3, len(indices))):
        alone = ds64.get_batch([indices[j]])
        assert _same({k: v[j : j + 1] for k, v in batch.items()}, alone)


def test_same_seed_same_data_other_seed_other_data():
    a = SyntheticMannequins(image_size=32, num_train=50, seed=1).get_batch(range(20))
    b = SyntheticMannequins(image_size=32, num_train=50, seed=1).get_batch(range(20))
    c = SyntheticMannequins(image_size=32, num_train=50, seed=2).get_batch(range(20))
    assert _same(a, b)
    assert not torch.equal(a["image"], c["image"]) and a["sentence"] != c["sentence"]


def test_train_and_test_are_different_people():
    train = SyntheticMannequins(split="train", image_size=32, num_train=30, num_test=30).get_batch(range(30))
    test = SyntheticMannequins(split="test", image_size=32, num_train=30, num_test=30).get_batch(range(30))
    assert not any(torch.equal(train["image"][i], test["image"][i]) for i in range(30))
    # the split sizes do not change which person an index is
    bigger = SyntheticMannequins(split="test", image_size=32, num_train=7, num_test=99).get_batch(range(30))
    assert _same(test, bigger)


def test_dataloader_with_workers_matches_get_batch():
    ds = SyntheticMannequins(image_size=32, num_train=24)
    loader = DataLoader(ds, batch_size=8, num_workers=2, shuffle=False)
    batches = list(loader)
    assert len(batches) == 3
    assert _same(batches[1], ds.get_batch(range(8, 16)))


def test_redress_pairs():
    ds = SyntheticMannequins(split="test", image_size=32, num_test=400)
    pairs = ds.redress_pairs
    assert pairs.dtype == torch.int64 and pairs.shape == (400,)
    assert torch.equal(pairs.sort().values, torch.arange(400))
    assert not (pairs == torch.arange(400)).any()
    attrs = ds.attributes(np.arange(400))
    key = attrs["color"] * 100 + attrs["category"]
    assert (key != key[pairs.numpy()]).mean() > 0.97
    again = SyntheticMannequins(split="test", image_size=64, num_test=400).redress_pairs
    assert torch.equal(pairs, again)
