"""The sample contract: constants, validation messages, collate/uncollate."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
import torch
from fashion_gan.data.contract import (
    CATEGORY_NAMES,
    COLOR_NAMES,
    INT_KEYS,
    MAX_WORDS,
    SAMPLE_KEYS,
    SLEEVE_NAMES,
    WEARER_ATTRIBUTES,
    collate,
    official_vocabulary,
    uncollate,
    validate_batch,
    validate_sample,
)
from fashion_gan.data.synthetic import SyntheticMannequins
from torch.utils.data import default_collate


@pytest.fixture(scope="module")
def ds():
    return SyntheticMannequins(image_size=32, num_train=8)


def test_constants_follow_the_reference():
    assert len(CATEGORY_NAMES) == 19 and CATEGORY_NAMES[0] == "blazer" and CATEGORY_NAMES[15] == "dress"
    assert CATEGORY_NAMES[18] == "romper"
    assert len(COLOR_NAMES) == 17 and COLOR_NAMES[2] == "white" and COLOR_NAMES[16] == "multicolor"
    assert SLEEVE_NAMES == ("long-sleeved", "short-sleeved", "sleeveless", "unspecified")
    assert WEARER_ATTRIBUTES[0] == "gender" and len(WEARER_ATTRIBUTES) == 7
    assert MAX_WORDS == 20


def test_official_vocabulary_ids():
    vocab = official_vocabulary()
    assert len(vocab) == 539
    assert vocab.encode("the lady was wearing a blue long-sleeved blouse.") == [1, 2, 3, 4, 5, 6, 7, 8]
    # every official colour and category name is a word of the vocabulary
    assert all(name in vocab for name in CATEGORY_NAMES + COLOR_NAMES + SLEEVE_NAMES[:3])


def test_collate_matches_default_collate_and_get_batch(ds):
    items = [ds[i] for i in (3, 0, 5)]
    mine, torch_default = collate(items), default_collate(items)
    batch = ds.get_batch([3, 0, 5])
    assert set(mine) == set(torch_default) == set(batch) == set(SAMPLE_KEYS)
    for key in SAMPLE_KEYS:
        if key == "sentence":
            assert mine[key] == torch_default[key] == batch[key]
        else:
            assert mine[key].dtype == torch_default[key].dtype == batch[key].dtype, key
            assert torch.equal(mine[key], torch_default[key]) and torch.equal(mine[key], batch[key]), key


def test_uncollate_roundtrip(ds):
    batch = ds.get_batch([1, 2])
    items = uncollate(batch)
    assert [it["index"] for it in items] == [1, 2]
    for key in INT_KEYS:
        assert isinstance(items[0][key], int)
    again = collate(items)
    assert all(torch.equal(again[k], batch[k]) for k in SAMPLE_KEYS if k != "sentence")


def test_validate_sample_accepts_a_good_item(ds):
    validate_sample(ds[0], image_size=32)


_BAD_SAMPLES = [
    (lambda s: s.pop("color"), ValueError, r"expected keys .* missing \['color'\]"),
    (lambda s: s.update(extra=1), ValueError, r"extra \['extra'\]"),
    (
        lambda s: s.update(image=s["image"].float()),
        TypeError,
        r"sample\['image'\]: expected dtype torch.uint8",
    ),
    (
        lambda s: s.update(image=s["image"][:, :16]),
        ValueError,
        r"sample\['image'\]: expected a square image, got 16x32",
    ),
    (
        lambda s: s.update(labels=s["labels"] + 7),
        ValueError,
        r"sample\['labels'\]: expected labels in \[0, 6\]",
    ),
    (
        lambda s: s.update(word_ids=s["word_ids"][:5]),
        ValueError,
        r"sample\['word_ids'\]: expected shape \(20,\)",
    ),
    (lambda s: s.update(length=s["length"] + 1), ValueError, r"followed by 0 padding"),
    (
        lambda s: s.update(category=19),
        ValueError,
        r"sample\['category'\]: expected an int in \[0, 18\], got 19",
    ),
    (
        lambda s: s.update(sleeve=1.0),
        TypeError,
        r"sample\['sleeve'\]: expected an int in \[0, 3\], got float 1.0",
    ),
    (
        lambda s: s.update(gender=True),
        TypeError,
        r"sample\['gender'\]: expected an int in \[0, 1\], got bool",
    ),
    (lambda s: s.update(index=-1), ValueError, r"sample\['index'\]: expected an int >= 0, got -1"),
    (lambda s: s.update(wearer=s["wearer"] * 3 + 0.5), ValueError, r"sample\['wearer'\]: expected values in"),
    (lambda s: s.update(sentence=""), TypeError, r"sample\['sentence'\]: expected a non-empty str"),
]


@pytest.mark.parametrize(("change", "error", "match"), _BAD_SAMPLES)
def test_validate_sample_messages(ds, change, error, match):
    sample = dict(ds[1])
    change(sample)
    with pytest.raises(error, match=match):
        validate_sample(sample)


def test_validate_sample_wrong_size_and_gender(ds):
    with pytest.raises(ValueError, match=r"expected shape \(3, H, W\), got \(3, 32, 32\)"):
        validate_sample(ds[0], image_size=64)
    sample = dict(ds[0])
    sample["gender"] = 1 - sample["gender"]
    with pytest.raises(ValueError, match=r"expected wearer\[0\] == gender"):
        validate_sample(sample)


def test_validate_batch_messages(ds):
    batch = ds.get_batch([0, 1])
    assert validate_batch(batch, image_size=32) == 2
    bad = dict(batch, length=batch["length"].int())
    with pytest.raises(TypeError, match=r"batch\['length'\]: expected dtype torch.int64, got torch.int32"):
        validate_batch(bad)
    bad = dict(batch, sentence=tuple(batch["sentence"]))
    with pytest.raises(TypeError, match=r"batch\['sentence'\]: expected a list of str"):
        validate_batch(bad)
    bad = dict(batch, labels=batch["labels"][:1])
    with pytest.raises(ValueError, match=r"batch\['labels'\]: expected shape \(B, 32, 32\)"):
        validate_batch(bad)
    with pytest.raises(ValueError, match="samples: expected a non-empty sequence"):
        collate([])


@pytest.mark.parametrize(
    "module",
    [
        "fashion_gan.data.contract",
        "fashion_gan.data.synthetic.attributes",
        "fashion_gan.data.synthetic.sentences",
        "fashion_gan.data.synthetic.render",
        "fashion_gan.data.synthetic.dataset",
        "fashion_gan.data.official",
        "fashion_gan.data.release",
        "fashion_gan.data.cache",
        "fashion_gan.data.export",
        "fashion_gan.data.contact_sheet",
    ],
)
def test_docstring_examples_run(module):
    """The suite's --doctest-modules covers condgan/ only; the data modules' examples are run here."""
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(importlib.import_module(module), optionflags=flags, verbose=False)
    assert result.failed == 0


def test_check_indices():
    from fashion_gan.data.contract import check_indices

    assert check_indices("idx", torch.tensor([3, 0]), 4).tolist() == [3, 0]
    assert check_indices("idx", np.array([1], np.uint8), 4).dtype == np.int64
    with pytest.raises(IndexError, match=r"idx: expected indices in \[0, 3\], got 4"):
        check_indices("idx", [4], 4)
    with pytest.raises(TypeError, match="idx: expected a sequence of ints, got dtype <U1"):
        check_indices("idx", ["a"], 4)
    with pytest.raises(TypeError, match="idx: expected integer indices, got a tensor of dtype torch.bool"):
        check_indices("idx", torch.ones(2, dtype=torch.bool), 4)
