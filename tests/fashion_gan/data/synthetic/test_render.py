"""render_mannequins: pictures that agree with their label maps and show the wearer's attributes."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from fashion_gan.data.contract import CATEGORY_NAMES, COLOR_NAMES
from fashion_gan.data.synthetic import COLOR_RGB, SyntheticMannequins, render_mannequins, sample_attributes
from fashion_gan.data.synthetic.tables import SKIN_RAMP


@pytest.fixture(scope="module")
def batch64():
    return SyntheticMannequins(split="train", image_size=64, num_train=500, num_test=200).get_batch(
        np.arange(96)
    )


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
        skin = SKIN_RAMP
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
            ref = np.array(COLOR_RGB[color])
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
    with pytest.raises(ValueError, match=r"split: expected one of \['train', 'test'\], got 'dev'"):
        sample_attributes(0, "dev", [0])


def _digest(batch) -> str:
    h = hashlib.sha256()
    for key in ("image", "labels", "word_ids"):
        h.update(np.ascontiguousarray(batch[key].numpy()).tobytes())
    h.update("\n".join(batch["sentence"]).encode())
    return h.hexdigest()[:16]


#: sha256 (first 16 hex digits) of image, labels, word ids and sentences of the first 6 samples. A change to
#: the painter, the tables or the random draws changes these: if it is intended, update them here.
GOLDEN = {
    ("train", 0, 32): "f041bf630eae8ec2",
    ("train", 0, 64): "a13d2a79deea190d",
    ("test", 1, 64): "3004e944a36ae6c1",
    ("test", 1, 128): "43359064c3043537",
}


@pytest.mark.parametrize(("split", "seed", "size"), sorted(GOLDEN))
def test_golden_pictures(split, seed, size):
    ds = SyntheticMannequins(split=split, image_size=size, num_train=6, num_test=6, seed=seed)
    assert _digest(ds.get_batch(range(6))) == GOLDEN[(split, seed, size)]
