"""The attributes of synthetic samples: a pure function of ``(seed, split, index)``, drawn without painting.

Sample ``i`` of a split draws its uniforms from ``numpy.random.default_rng([seed, split_id, i])`` (one per
name of ``U_NAMES``); the official attribute labels are inverse-CDF draws from the official class frequencies,
and everything the painter and the sentence use is a function of these uniforms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from condgan._checks import check_choice, check_int
from fashion_gan.data.synthetic.tables import (
    CAT_CDF_F,
    CAT_CDF_M,
    COLOR_CDF,
    NUM_U,
    SLEEVE_CDF,
    U,
    column,
    pick,
)

__all__ = [
    "SPLITS",
    "ATTRIBUTE_KEYS",
    "GARMENT_UNIFORMS",
    "sample_attributes",
    "attributes_from_uniforms",
    "garment_twins",
    "twin_donors",
    "check_attrs",
]

#: Split name -> split id used in the random seed.
SPLITS = {"train": 0, "test": 1}

#: The keys of a [`sample_attributes`][fashion_gan.data.synthetic.sample_attributes] dict.
ATTRIBUTE_KEYS = (
    "u", "gender", "category", "sleeve", "color", "long_hair", "hat", "sunglasses", "skin_tone", "body_width",
    "body_height",
)  # fmt: skip


def check_attrs(attrs: Any) -> int:
    """Check a ``sample_attributes`` dict (keys, one value per sample); return the number of samples."""
    if not isinstance(attrs, Mapping):
        raise TypeError(f"attrs: expected the dict of sample_attributes, got {type(attrs).__name__}")
    missing = [k for k in ATTRIBUTE_KEYS if k not in attrs]
    if missing:
        raise ValueError(f"attrs: expected the dict of sample_attributes, missing {missing}")
    u = np.asarray(attrs["u"])
    if u.ndim != 2 or u.shape[1] != NUM_U:
        raise ValueError(f"attrs['u']: expected shape (B, {NUM_U}), got {u.shape}")
    for key in ATTRIBUTE_KEYS[1:]:
        shape = np.shape(attrs[key])
        if shape != (u.shape[0],):
            got = shape[0] if len(shape) == 1 else f"shape {shape}"
            raise ValueError(f"attrs[{key!r}]: expected {u.shape[0]} values (one per sample), got {got}")
    return u.shape[0]


def _uniforms(seed: int, split_id: int, indices: np.ndarray) -> np.ndarray:
    return np.stack([np.random.default_rng([seed, split_id, int(i)]).random(NUM_U) for i in indices])


def sample_attributes(seed: int, split: str, indices: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
    """Draw the attributes of samples ``indices`` of ``split`` (cheap: no drawing).

    Args:
        seed: the dataset seed, an int ``>= 0``.
        split: ``"train"`` or ``"test"`` (disjoint random streams).
        indices: ``(B,)`` sample indices; any order, repeats allowed.

    Returns:
        A dict of ``(B,)`` arrays: ``gender``, ``category``, ``color``, ``sleeve`` (0-based official classes),
        ``long_hair``, ``hat``, ``sunglasses`` (0/1), ``skin_tone``, ``body_width``, ``body_height`` (in
        ``[0, 1]``), and ``u`` ``(B, U)`` the sample's uniforms that the painter and the sentence use.

    Examples:
        >>> a = sample_attributes(0, "test", [0, 1, 2])
        >>> a["category"].shape, int(a["color"].max()) < 17
        ((3,), True)
    """
    seed = check_int("seed", seed, low=0)
    check_choice("split", split, tuple(SPLITS))
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    u = _uniforms(seed, SPLITS[split], idx) if idx.size else np.zeros((0, NUM_U))
    return attributes_from_uniforms(u)


def attributes_from_uniforms(u: np.ndarray) -> dict[str, np.ndarray]:
    """The attributes of the samples whose uniforms are ``u`` ``(B, U)`` (``sample_attributes`` without the
    draw): the official labels are inverse-CDF draws from ``u``'s columns.

    Examples:
        >>> a = sample_attributes(0, "train", [4, 9])
        >>> b = attributes_from_uniforms(a["u"])
        >>> all((a[k] == b[k]).all() for k in a)
        True
    """
    u = np.asarray(u, dtype=np.float64)
    if u.ndim != 2 or u.shape[1] != NUM_U:
        raise ValueError(f"u: expected shape (B, {NUM_U}), got {u.shape}")
    male = column(u, "gender") < 0.22
    category = np.where(male, pick(CAT_CDF_M, column(u, "category")), pick(CAT_CDF_F, column(u, "category")))
    sleeve = pick(SLEEVE_CDF[category], column(u, "sleeve"))
    color = pick(COLOR_CDF, column(u, "color"))
    return {
        "u": u,
        "gender": male.astype(np.int64),
        "category": category.astype(np.int64),
        "sleeve": sleeve.astype(np.int64),
        "color": color.astype(np.int64),
        "long_hair": (column(u, "long_hair") < np.where(male, 0.08, 0.72)).astype(np.int64),
        "hat": (column(u, "hat") < 0.12).astype(np.int64),
        "sunglasses": (column(u, "sunglasses") < 0.12).astype(np.int64),
        "skin_tone": column(u, "skin"),
        "body_width": column(u, "body_width"),
        "body_height": column(u, "body_height"),
    }


#: The uniforms that choose the garment a sentence describes (type, sleeve, colour, print, cut); every
#: other column (gender, body, pose, place, hair, face, skin, hat, sunglasses, shoes, background, the
#: sentence's wording, and the lower garment under a top, which no sentence names) is the person's own.
GARMENT_UNIFORMS = (
    "category sleeve color color_r color_g color_b color_v sleeve_geom sleeve_len "
    "hem loose neck neck_depth inner_color pat_type pat_freq pat_phase pat_angle pat_c1 pat_c2 "
    "pat_c3 pat_n multi_word hood skirt_flare"
).split()


def garment_twins(attrs: Mapping[str, np.ndarray], donors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same people wearing their donors' garments: row ``i`` keeps everything of ``attrs`` row ``i`` but
    the ``GARMENT_UNIFORMS``, which come from ``donors`` row ``i``.

    A person's category is redrawn from the donor's category uniform with the person's own gender, so a man's
    twin never wears a dress; sleeve and colour follow from it as in
    [`sample_attributes`][fashion_gan.data.synthetic.sample_attributes].

    Args:
        attrs: ``sample_attributes`` of ``B`` people.
        donors: ``sample_attributes`` of ``B`` donors (any people, repeats allowed).

    Returns:
        ``sample_attributes``-style attributes of the ``B`` twins.

    Examples:
        >>> a, d = sample_attributes(0, "train", [0, 1]), sample_attributes(0, "train", [7, 8])
        >>> t = garment_twins(a, d)
        >>> bool((t["body_width"] == a["body_width"]).all()), bool((t["gender"] == a["gender"]).all())
        (True, True)
    """
    n = check_attrs(attrs)
    if check_attrs(donors) != n:
        raise ValueError(f"donors: expected {n} donors (one per person), got {len(donors['gender'])}")
    u = np.array(attrs["u"], dtype=np.float64, copy=True)
    cols = [U[name] for name in GARMENT_UNIFORMS]
    u[:, cols] = np.asarray(donors["u"], dtype=np.float64)[:, cols]
    return attributes_from_uniforms(u)


def twin_donors(seed: int, split: str, indices: Sequence[int] | np.ndarray, num_items: int) -> np.ndarray:
    """Whose garments person ``i`` of ``split`` wears in its garment twin: another index of
    ``[0, num_items)``, a pure function of ``(seed, split, i)`` (never ``i`` itself).

    Examples:
        >>> d = twin_donors(0, "train", [0, 1, 2], 10)
        >>> d.shape, bool((d != [0, 1, 2]).all()), bool(((d >= 0) & (d < 10)).all())
        ((3,), True, True)
    """
    seed = check_int("seed", seed, low=0)
    check_choice("split", split, tuple(SPLITS))
    num_items = check_int("num_items", num_items, low=2)
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= num_items):
        raise ValueError(f"indices: expected values in [0, {num_items}), got {idx.min()}..{idx.max()}")
    drawn = np.array(
        [np.random.default_rng([seed, SPLITS[split], int(i), 0x7A1]).integers(0, num_items - 1) for i in idx],
        dtype=np.int64,
    )
    return drawn + (drawn >= idx)  # skip the person: uniform over the other num_items - 1
