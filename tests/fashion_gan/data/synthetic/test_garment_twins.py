"""Garment twins: the same synthetic person in another person's garments (stage 1's constraint source)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fashion_gan.data.contract import LABEL_NAMES, uncollate, validate_batch, validate_sample
from fashion_gan.data.synthetic import SyntheticMannequins, render_mannequins, sample_attributes
from fashion_gan.data.synthetic.attributes import (
    GARMENT_UNIFORMS,
    attributes_from_uniforms,
    garment_twins,
    twin_donors,
)
from fashion_gan.data.synthetic.tables import CATEGORY_COUNTS_M, U_NAMES, U
from hypothesis import given, settings
from hypothesis import strategies as st

HAIR = LABEL_NAMES.index("hair")


@settings(max_examples=20, deadline=None)
@given(
    people=st.lists(st.integers(0, 10**6), min_size=1, max_size=6),
    seed=st.integers(0, 2**31),
    data=st.data(),
)
def test_a_twin_keeps_the_person_and_wears_the_donors_garments(people, seed, data):
    donors_idx = data.draw(st.lists(st.integers(0, 10**6), min_size=len(people), max_size=len(people)))
    attrs = sample_attributes(seed, "train", people)
    donors = sample_attributes(seed, "test", donors_idx)
    twins = garment_twins(attrs, donors)
    garment = [U[name] for name in GARMENT_UNIFORMS]
    own = [U[name] for name in U_NAMES if name not in GARMENT_UNIFORMS]
    assert np.array_equal(twins["u"][:, garment], donors["u"][:, garment])
    assert np.array_equal(twins["u"][:, own], attrs["u"][:, own])
    for key in ("gender", "long_hair", "hat", "sunglasses", "skin_tone", "body_width", "body_height"):
        assert np.array_equal(twins[key], attrs[key]), key
    # A man's twin wears what men wear, whatever the donor wore (the category is redrawn for his gender).
    men = twins["gender"] == 1
    assert (CATEGORY_COUNTS_M[twins["category"][men]] > 0).all()
    # Women's twins wear the donor's category when the donor is a woman too (same table, same uniform).
    both_women = (attrs["gender"] == 0) & (donors["gender"] == 0)
    assert np.array_equal(twins["category"][both_women], donors["category"][both_women])


def test_the_twin_keeps_what_no_sentence_names():
    # A sentence names one garment (a top or a dress): the lower garment under a top stays the person's, so
    # stage 1 keeps it (swapping it too made stage 1 draw every lower garment down to the ankles).
    assert {"lower", "lower_len", "lower_color"}.isdisjoint(GARMENT_UNIFORMS)
    assert {"category", "sleeve", "color", "sleeve_len", "hem"} <= set(GARMENT_UNIFORMS)
    assert set(GARMENT_UNIFORMS) <= set(U_NAMES)


def test_a_person_wearing_their_own_garments_is_themselves():
    attrs = sample_attributes(0, "train", [3, 11, 40])
    same = garment_twins(attrs, attrs)
    assert all(np.array_equal(same[k], attrs[k]) for k in attrs)
    drawn, again = render_mannequins(same, 32), render_mannequins(attrs, 32)
    assert all(np.array_equal(a, b) for a, b in zip(drawn, again, strict=True))


def test_attributes_from_uniforms_is_sample_attributes_without_the_draw():
    attrs = sample_attributes(5, "test", [0, 9, 9, 123])
    again = attributes_from_uniforms(attrs["u"])
    assert attrs.keys() == again.keys() and all(np.array_equal(attrs[k], again[k]) for k in attrs)
    with pytest.raises(ValueError, match=rf"u: expected shape \(B, {len(U_NAMES)}\), got \(3,\)"):
        attributes_from_uniforms(np.zeros(3))


@settings(max_examples=25, deadline=None)
@given(
    num_items=st.integers(2, 50),
    seed=st.integers(0, 2**31),
    data=st.data(),
)
def test_donors_are_other_people_and_a_function_of_the_index(num_items, seed, data):
    indices = data.draw(st.lists(st.integers(0, num_items - 1), min_size=1, max_size=10))
    donors = twin_donors(seed, "train", indices, num_items)
    assert donors.dtype == np.int64 and donors.shape == (len(indices),)
    assert ((donors >= 0) & (donors < num_items) & (donors != np.asarray(indices))).all()
    one_by_one = [int(twin_donors(seed, "train", [i], num_items)[0]) for i in indices]
    assert donors.tolist() == one_by_one  # a person's donor does not depend on the batch


def test_donors_are_spread_over_the_split():
    donors = twin_donors(0, "train", np.arange(2000), 2000)
    assert len(np.unique(donors)) > 1000  # not a fixed shift: about 63% of the people are someone's donor


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((0, "train", [0], 1), ValueError, r"num_items: expected an int >= 2, got 1"),
        ((0, "train", [5], 5), ValueError, r"indices: expected values in \[0, 5\), got 5..5"),
        ((0, "val", [0], 5), ValueError, r"split: expected one of"),
        ((-1, "train", [0], 5), ValueError, r"seed: expected an int >= 0, got -1"),
    ],
)
def test_donor_errors(args, error, match):
    with pytest.raises(error, match=match):
        twin_donors(*args)


def test_garment_twins_errors():
    attrs = sample_attributes(0, "train", [0, 1])
    with pytest.raises(ValueError, match="donors: expected 2 donors"):
        garment_twins(attrs, sample_attributes(0, "train", [0]))
    with pytest.raises(ValueError, match=r"attrs: expected the dict of sample_attributes, missing \['u'\]"):
        garment_twins({k: v for k, v in attrs.items() if k != "u"}, attrs)


def test_the_dataset_draws_each_persons_twin():
    plain = SyntheticMannequins(split="train", image_size=32, num_train=40)
    ds = SyntheticMannequins(split="train", image_size=32, num_train=40, garment_twins=True)
    assert "garment_twins=True" in repr(ds) and "garment_twins" not in repr(plain)
    idx = [7, 0, 7, 39]
    batch = ds.get_batch(idx)
    assert validate_batch(batch, image_size=32) == 4
    reference = plain.get_batch(idx)
    assert "twin_image" not in reference
    for key in ("image", "labels", "word_ids", "category", "sleeve", "color"):
        assert torch.equal(batch[key], reference[key]), key  # the person is unchanged
    donors = sample_attributes(0, "train", twin_donors(0, "train", idx, 40))
    images, labels = render_mannequins(garment_twins(sample_attributes(0, "train", idx), donors), 32)
    assert np.array_equal(batch["twin_image"].numpy(), images)
    assert np.array_equal(batch["twin_labels"].numpy(), labels)
    assert not torch.equal(batch["twin_labels"], batch["labels"])  # other garments, other map
    hair = batch["labels"] == HAIR
    assert float((hair == (batch["twin_labels"] == HAIR)).float().mean()) > 0.99  # same hair (hoods aside)
    assert torch.equal(batch["twin_image"][0], batch["twin_image"][2])  # the same person, the same twin
    item = ds[39]
    validate_sample(item, image_size=32)
    assert torch.equal(item["twin_labels"], batch["twin_labels"][3])
    assert len(uncollate(batch)) == 4


def test_dressed_as_draws_the_person_in_the_donors_garments():
    ds = SyntheticMannequins(split="test", image_size=32, num_test=40)
    twins = SyntheticMannequins(split="test", image_size=32, num_test=40, garment_twins=True)
    idx = [3, 11, 3, 39]
    out = ds.dressed_as(idx, twin_donors(0, "test", idx, 40))
    batch = twins.get_batch(idx)
    assert torch.equal(out["image"], batch["twin_image"]) and torch.equal(out["labels"], batch["twin_labels"])
    own = ds.dressed_as(idx, idx)  # in their own garments: themselves, attributes too
    person = ds.get_batch(idx)
    assert torch.equal(own["image"], person["image"]) and torch.equal(own["labels"], person["labels"])
    for key in ("category", "color", "sleeve"):
        assert torch.equal(own[key], person[key]) and own[key].dtype == torch.int64
    # Two women: the twin wears the donor's category, colour and sleeve.
    women = np.flatnonzero(ds.attributes(np.arange(40))["gender"] == 0)[:6]
    swapped = ds.dressed_as(women, women[::-1])
    donors = ds.get_batch(women[::-1])
    for key in ("category", "color", "sleeve"):
        assert torch.equal(swapped[key], donors[key]), key


@pytest.mark.parametrize(
    ("indices", "donors", "error", "match"),
    [
        ([0, 1], [1], ValueError, r"donors: expected one donor per person \(2\), got 1"),
        ([0, 1], [1, 8], IndexError, "donors"),
        ([8], [0], IndexError, "indices"),
    ],
)
def test_dressed_as_errors(indices, donors, error, match):
    with pytest.raises(error, match=match):
        SyntheticMannequins(split="test", image_size=32, num_test=8).dressed_as(indices, donors)


def test_the_dataset_refuses_twins_without_another_person():
    with pytest.raises(
        ValueError, match="garment_twins: a twin wears another's garments, expected >= 2 people"
    ):
        SyntheticMannequins(split="train", image_size=32, num_train=1, garment_twins=True)
    with pytest.raises(TypeError, match="garment_twins: expected a bool"):
        SyntheticMannequins(split="train", image_size=32, num_train=4, garment_twins=1)


def test_the_contract_checks_twin_pictures():
    batch = SyntheticMannequins(split="train", image_size=32, num_train=4, garment_twins=True).get_batch(
        [0, 1]
    )
    one = {k: v for k, v in batch.items() if k != "twin_labels"}
    with pytest.raises(
        ValueError, match="expected 'twin_image' and 'twin_labels' together, missing 'twin_labels'"
    ):
        validate_batch(one)
    wrong = {**batch, "twin_labels": batch["twin_labels"][:, :16]}
    with pytest.raises(
        ValueError, match=r"batch\['twin_labels'\]: expected shape \(B, 32, 32\), got \(2, 16, 32\)"
    ):
        validate_batch(wrong)
    item = uncollate(batch)[0]
    with pytest.raises(ValueError, match="expected 'twin_image' and 'twin_labels' together"):
        validate_sample({k: v for k, v in item.items() if k != "twin_image"})
    bad = {**item, "twin_labels": torch.full((32, 32), 9, dtype=torch.uint8)}
    with pytest.raises(ValueError, match=r"sample\['twin_labels'\]: expected labels in \[0, 6\], got 9"):
        validate_sample(bad)
