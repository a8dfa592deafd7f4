"""Synthetic mannequins: contract, determinism, sentences, pictures that agree with their label maps."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
import torch
from fashion_gan.data import synthetic as syn
from fashion_gan.data.contract import (
    CATEGORY_NAMES,
    COLOR_NAMES,
    SLEEVE_NAMES,
    official_vocabulary,
    validate_batch,
    validate_sample,
)
from fashion_gan.data.synthetic import (
    SyntheticMannequins,
    make_sentence,
    render_mannequins,
    sample_attributes,
)
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
        (dict(split="val"), ValueError, r"split: expected one of \('train', 'test'\), got 'val'"),
        (dict(image_size=8), ValueError, r"image_size: expected an int in \[16, 1024\], got 8"),
        (dict(image_size=64.0), TypeError, r"image_size: expected a positive int, got float"),
        (dict(num_train=0), ValueError, r"num_train: expected a positive int, got 0"),
        (dict(num_test=-3), ValueError, r"num_test: expected a positive int, got -3"),
        (dict(seed=-1), TypeError, r"seed: expected a non-negative int, got -1"),
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
    with pytest.raises(TypeError, match="index: expected an int, got float"):
        ds[1.0]
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


# ----------------------------------------------------------------------------------------------------------
# sentences and attributes
# ----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def many():
    """Attributes and sentences of 3000 samples (no drawing)."""
    attrs = sample_attributes(0, "train", np.arange(3000))
    return attrs, [make_sentence(attrs, j) for j in range(3000)]


def test_sentences_use_only_official_words(many):
    _, sentences = many
    vocab = official_vocabulary()
    unknown = Counter(w for s in sentences for w in vocab.unknown_words(s))
    assert not unknown, unknown
    assert all(re.fullmatch(r"[a-z -]+\.", s) for s in sentences)


def test_sentences_say_what_is_drawn(many):
    attrs, sentences = many
    for j, sentence in enumerate(sentences):
        words = sentence.rstrip(".").split()
        assert words[1] in ("lady", "woman", "girl", "man", "boy")
        assert (words[1] in ("man", "boy")) == bool(attrs["gender"][j])
        assert CATEGORY_NAMES[attrs["category"][j]] in words
        color = attrs["color"][j]
        if color == 16:
            assert {"multicolor", "multi-colored", "multicolored", "multi-color"} & set(words)
        else:
            assert COLOR_NAMES[color] in words
        sleeve = attrs["sleeve"][j]
        present = [name for name in SLEEVE_NAMES[:3] if name in words]
        assert present == ([] if sleeve == 3 else [SLEEVE_NAMES[sleeve]])
        for article, following in re.findall(r"\b(an?) (\S+)", sentence):
            assert (article == "an") == (following[0] in "aeiou"), sentence


def test_attribute_variety(many):
    attrs, _ = many
    assert set(attrs["category"]) == set(range(19))
    assert set(attrs["sleeve"]) == set(range(4))
    assert set(attrs["gender"]) == {0, 1}
    colors = Counter(attrs["color"].tolist())
    assert set(range(13)) | {16} <= set(colors)  # "blonde"/"silver"/"olive" are rare, as in the release
    assert 0.1 < colors[16] / 3000 < 0.3
    assert 0.1 < attrs["gender"].mean() < 0.4
    for key in ("long_hair", "hat", "sunglasses"):
        assert 0.05 < attrs[key].mean() < 0.8, key
    men = attrs["gender"] == 1
    assert not np.isin(attrs["category"][men], [15, 16, 17, 18]).any()  # no dresses/jumpsuits/kimonos/rompers
    for key in ("skin_tone", "body_width", "body_height"):
        assert attrs[key].min() < 0.05 and attrs[key].max() > 0.95


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


# ----------------------------------------------------------------------------------------------------------
# pictures
# ----------------------------------------------------------------------------------------------------------


def test_painting_labels_exactly_what_is_covered():
    """A painted shape's label covers exactly the pixels with d <= 0; fully covered pixels get its colour."""
    size = 40
    canvas = syn._Canvas(np.full((2, 3), 0.9), size)
    cx, cy, rx, ry = np.array([0.5, 0.3]), np.array([0.5, 0.6]), np.array([0.2, 0.1]), np.array([0.1, 0.25])
    rgb = np.array([[0.2, 0.4, 0.6], [1.0, 0.0, 0.0]])
    shape, fill = (lambda sel: syn._Ellipse(cx, cy, rx, ry)), (lambda sel: syn._Solid(rgb))
    canvas.paint(np.array([True, True]), shape, 3, fill)
    coords = (np.arange(size) + 0.5) / size
    for i in range(2):
        q = np.sqrt(((coords[None, :] - cx[i]) / rx[i]) ** 2 + ((coords[:, None] - cy[i]) / ry[i]) ** 2)
        inside = q <= 1.0
        assert np.array_equal(canvas.labels[i] == 3, inside)
        d = (q - 1.0) * min(rx[i], ry[i])
        full = d < -1.0 / size
        assert np.allclose(canvas.image[i][:, full], rgb[i][:, None], atol=1e-6)
        edge = (np.abs(d) < 0.25 / size) & ~full
        between = canvas.image[i][0][edge]  # anti-aliased: strictly between background and fill
        assert edge.any() and (np.abs(between - 0.9) > 1e-3).all()
        assert (np.abs(between - rgb[i][0]) > 1e-3).all()
        assert (canvas.labels[i][~inside] == 0).all()


def _interior(labels: np.ndarray, k: int) -> np.ndarray:
    """Pixels of label k whose 8 neighbours are label k too."""
    m = labels == k
    inner = m.copy()
    inner[1:-1, 1:-1] &= m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    inner[1:-1, 1:-1] &= m[:-2, :-2] & m[2:, 2:] & m[:-2, 2:] & m[2:, :-2]
    inner[[0, -1]] = False
    inner[:, [0, -1]] = False
    return inner


def test_pictures_agree_with_label_maps():
    ds = SyntheticMannequins(image_size=128, num_train=64)
    batch = ds.get_batch(np.arange(48))
    attrs = ds.attributes(np.arange(48))
    images = batch["image"].numpy().astype(np.float64) / 255
    labels = batch["labels"].numpy()
    for i in range(48):
        img, lab = images[i], labels[i]
        dress = attrs["category"][i] == CATEGORY_NAMES.index("dress")
        for k in (0, 2, 4 if dress else 3, 6):
            assert (lab == k).sum() > 20, (i, k)  # background, face, upper or dress body, arms always show
        if dress:
            assert (lab == 3).sum() == 0  # a dress is lower clothes throughout, as ATR's dress class
        # background: near-white and grey (tips of shapes thinner than a pixel may shade a few pixels)
        bg = img[:, _interior(_interior(lab, 0), True)]
        assert (bg.min(0) > 0.85).mean() > 0.998 and np.abs(bg - bg.mean(0)).max() < 0.03
        # face interior: the skin colour (shaded), same skin as the arms
        skin = syn._SKIN_RAMP
        face = np.median(img[:, _interior(lab, 2)], 1)  # eyes, mouth, sunglasses are small
        tone = np.array([np.interp(attrs["skin_tone"][i] * 5, np.arange(6), skin[:, c]) for c in range(3)])
        assert ((face > 0.7 * tone - 0.02) & (face < tone + 0.02)).all(), (i, face, tone)
        arms = img[:, _interior(lab, 6)]
        if arms.shape[1] > 10:
            arms = np.median(arms, 1)
            assert ((arms > 0.7 * tone - 0.02) & (arms < tone + 0.02)).all(), (i, arms, tone)
        # the torso garment (label 3, or 4 for a dress): its solid colour, shaded darker towards the rim
        color = attrs["color"][i]
        if color != 16:
            k = 4 if dress else 3
            pix = img[:, _interior(lab, k)]
            ref = np.array(syn.COLOR_RGB[color])
            close = np.all((pix <= ref[:, None] * 1.2 + 0.03) & (pix >= ref[:, None] * 0.55 - 0.03), 0)
            assert close.mean() > 0.6, (i, CATEGORY_NAMES[attrs["category"][i]], COLOR_NAMES[color])


def test_wearer_attributes_show_in_the_picture():
    ds = SyntheticMannequins(image_size=64, num_train=400)
    attrs = ds.attributes(np.arange(400))
    pick = lambda mask: np.flatnonzero(mask)[:12]  # noqa: E731
    dark_face = ds.get_batch(pick(attrs["sunglasses"] == 1))
    plain_face = ds.get_batch(pick(attrs["sunglasses"] == 0))

    def darkest_face_pixel(batch):
        img = batch["image"].float().mean(1)
        return torch.stack([img[j][batch["labels"][j] == 2].min() for j in range(len(img))])

    assert (darkest_face_pixel(dark_face) < 40).all()
    hair = lambda b: (b["labels"] == 1).flatten(1).sum(1).float()  # noqa: E731
    long_hair = ds.get_batch(pick((attrs["long_hair"] == 1) & (attrs["hat"] == 0)))
    short_hair = ds.get_batch(pick((attrs["long_hair"] == 0) & (attrs["hat"] == 0)))
    assert hair(long_hair).mean() > 1.8 * hair(short_hair).mean()
    tall = ds.get_batch(pick(attrs["body_height"] > 0.8))
    small = ds.get_batch(pick(attrs["body_height"] < 0.2))
    head = lambda b: ((b["labels"] == 2) | (b["labels"] == 1)).flatten(1).sum(1).float()  # noqa: E731
    assert head(tall).mean() > 1.15 * head(small).mean()
    assert darkest_face_pixel(plain_face).shape == (12,)


def test_resolutions_draw_the_same_layout():
    small = SyntheticMannequins(image_size=64, num_train=20).get_batch(range(20))["labels"]
    large = SyntheticMannequins(image_size=128, num_train=20).get_batch(range(20))["labels"]
    for k in range(7):
        frac_s = (small == k).flatten(1).float().mean(1)
        frac_l = (large == k).flatten(1).float().mean(1)
        assert (frac_s - frac_l).abs().max() < 0.012, k
    # the 128-pixel map, subsampled, mostly matches the 64-pixel map (edges differ by at most a pixel)
    assert (large[:, 1::2, 1::2] == small).float().mean() > 0.95


def test_mean_picture_is_like_deepfashion(batch64):
    mean = batch64["image"].float().mean(0) / 255
    corners = torch.cat([mean[:, :4, :4].flatten(), mean[:, :4, -4:].flatten()])
    assert 0.91 < corners.mean() < 0.97
    centre = mean[:, 28:36, 28:36].mean()
    assert centre < 0.75
    # the person stands upright: the head (top) is narrower than the body (middle)
    dark = mean.mean(0) < 0.85
    assert dark[6].sum() < dark[32].sum()


def test_render_function_errors():
    attrs = sample_attributes(0, "train", [0])
    with pytest.raises(ValueError, match="image_size: expected a positive int, got 0"):
        render_mannequins(attrs, 0)
    images, labels = render_mannequins(sample_attributes(0, "train", []), 16)
    assert images.shape == (0, 3, 16, 16) and labels.shape == (0, 16, 16)
    with pytest.raises(ValueError, match=r"split: expected one of \('train', 'test'\), got 'dev'"):
        sample_attributes(0, "dev", [0])


def test_attribute_function_errors():
    with pytest.raises(TypeError, match="seed: expected a non-negative int, got -1"):
        sample_attributes(-1, "train", [0])
    attrs = sample_attributes(0, "train", [0, 1])
    with pytest.raises(IndexError, match=r"j: expected an int in \[0, 1\], got 2"):
        make_sentence(attrs, 2)
    with pytest.raises(
        ValueError, match=r"attrs: expected the dict of sample_attributes, missing \['color'\]"
    ):
        render_mannequins({k: v for k, v in attrs.items() if k != "color"}, 16)
    with pytest.raises(ValueError, match=r"attrs\['gender'\]: expected 2 values \(one per sample\), got 1"):
        render_mannequins(dict(attrs, gender=attrs["gender"][:1]), 16)
    with pytest.raises(TypeError, match="attrs: expected the dict of sample_attributes, got list"):
        make_sentence([1], 0)
