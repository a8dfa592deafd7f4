"""The LIP and DeepFashion-MultiModal label sets and their merge tables to the FashionGAN labels."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.layers import FASHIONGAN_LABELS, merge_labels
from condgan.layers.label_maps import ATR_18_TO_7, ATR_LABELS
from condgan.layers.label_sets import (
    DEEPFASHION_MM_24_TO_7,
    DEEPFASHION_MM_LABELS,
    LIP_20_TO_7,
    LIP_LABELS,
    deepfashion_mm_to_fashiongan,
)

#: What each source class name must become, by name (the FashionGAN reading of the class).
_READINGS = {
    "background": "background",
    "hair": "hat headwear hair",
    "face": "sunglasses eyeglass face earrings",
    "upper_clothes": "upper_clothes coat scarf top outer neckwear necklace tie",
    "lower_clothes": "dress pants jumpsuits skirt leggings belt bag rompers",
    "legs": "socks left_leg right_leg left_shoe right_shoe footwear",
    "arms": "glove gloves left_arm right_arm ring wrist_wearing skin",
}
EXPECTED = {name: label for label, names in _READINGS.items() for name in names.split()}


@pytest.mark.parametrize(
    ("names", "table", "count"),
    [
        (LIP_LABELS, LIP_20_TO_7, 20),
        (DEEPFASHION_MM_LABELS, DEEPFASHION_MM_24_TO_7, 24),
        (ATR_LABELS, ATR_18_TO_7, 18),
    ],
    ids=["LIP", "DeepFashion-MultiModal", "ATR"],
)
def test_every_class_maps_by_its_name(names, table, count):
    assert len(names) == len(table) == count == len(set(names))
    for name, label in zip(names, table, strict=True):
        assert FASHIONGAN_LABELS[label] == EXPECTED[name], name


def test_the_published_ids_of_a_few_classes():
    # LIP: 13 face, 10 jumpsuits, 19 right shoe; DeepFashion-MultiModal: 15 skin, 21 rompers, 23 tie.
    assert (LIP_LABELS[13], LIP_LABELS[10], LIP_LABELS[19]) == ("face", "jumpsuits", "right_shoe")
    assert (DEEPFASHION_MM_LABELS[15], DEEPFASHION_MM_LABELS[21], DEEPFASHION_MM_LABELS[23]) == (
        "skin",
        "rompers",
        "tie",
    )


def test_lip_parse_merges_with_merge_labels():
    parse = torch.tensor([[[2, 13], [5, 14], [9, 18]]])
    assert merge_labels(parse, LIP_20_TO_7).tolist() == [[[1, 2], [3, 6], [4, 5]]]


@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**31 - 1))
def test_deepfashion_mm_skin_splits_at_the_lower_garment(seed):
    gen = torch.Generator().manual_seed(seed)
    parse = torch.randint(0, 24, (2, 12, 5), generator=gen)
    out = deepfashion_mm_to_fashiongan(parse)
    table = torch.tensor(DEEPFASHION_MM_24_TO_7)
    skin = parse == 15
    assert torch.equal(out[~skin], table[parse][~skin])  # every other class through the table
    assert set(out[skin].tolist()) <= {5, 6}
    for b in range(2):
        lower_rows = ((table[parse[b]] == 4) | (table[parse[b]] == 5)).any(1).nonzero()
        first = int(lower_rows.min()) if len(lower_rows) else 12
        rows = torch.arange(12).view(-1, 1).expand(12, 5)
        assert (out[b][skin[b] & (rows >= first)] == 5).all() and (
            out[b][skin[b] & (rows < first)] == 6
        ).all()


def test_deepfashion_mm_errors():
    with pytest.raises(ValueError, match=r"labels: expected labels in \[0, 23\], got a label 24"):
        deepfashion_mm_to_fashiongan(torch.full((1, 2, 2), 24))
    with pytest.raises(TypeError, match="labels: expected an integer tensor"):
        deepfashion_mm_to_fashiongan(torch.zeros(1, 2, 2))
    with pytest.raises(ValueError, match=r"labels: expected shape \(B, H, W\)"):
        deepfashion_mm_to_fashiongan(torch.zeros(2, 2, dtype=torch.long))
