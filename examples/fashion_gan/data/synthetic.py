"""Synthetic mannequins: procedurally drawn people with exact segmentations and official-style sentences.

The default data of the FashionGAN recipe (the official images need a DeepFashion password). Each sample
follows the sample contract of :mod:`fashion_gan.data.contract`: an upright RGB image, a label map with the
official 7 ids, a sentence in the official style and vocabulary ("the lady was wearing a blue long-sleeved
blouse."), the official attribute labels (category, colour, sleeve, gender) and the paper's wearer
attributes (gender, long hair, hat, sunglasses, skin tone, body width, body height).

How a picture is drawn: every body part and garment is a signed-distance shape in normalised coordinates
(``x, y`` in ``[0, 1]``, ``y`` down) - ellipses, (tapered) capsules and vertical profiles whose half-width
is a piecewise-linear function of ``y``. Shapes are painted back to front; a shape's coverage of a pixel is
``clip(0.5 - d * S, 0, 1)`` for its signed distance ``d`` (anti-aliasing without supersampling) and the
pixel's colour is blended by it. **The label of a pixel is the label of the topmost shape covering at least
half of it**, so the label map is exactly what was painted. Colours are shaded (darker towards a shape's
rim) and multicolour garments get a stripe, check or dot print. A whole batch is drawn at once with
vectorised numpy, each shape only over the rows and columns where it can be non-zero.

Sample ``i`` of a split is a pure function of ``(seed, split, i)``: its random numbers come from
``numpy.random.default_rng([seed, split_id, i])`` and the drawing uses only exactly-rounded arithmetic, so a
sample is bit-identical however it is batched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import torch

from condgan._checks import check_positive_int
from fashion_gan.data.contract import (
    CATEGORY_NAMES,
    COLOR_NAMES,
    MAX_WORDS,
    SLEEVE_NAMES,
    VOCABULARY_PATH,
    WEARER_ATTRIBUTES,
    check_indices,
    official_vocabulary,
    uncollate,
)

__all__ = [
    "SyntheticMannequins",
    "SPLITS",
    "COLOR_RGB",
    "sample_attributes",
    "render_mannequins",
    "make_sentence",
    "official_vocabulary",
    "VOCABULARY_PATH",
]

#: Split name -> split id used in the random seed.
SPLITS = {"train": 0, "test": 1}

# ------------------------------------------------------------------------------------------------------------
# Tables
# ------------------------------------------------------------------------------------------------------------

#: Realistic RGB (0..1) of the official colours, in ``COLOR_NAMES`` order; ``None`` for multicolor (a print).
COLOR_RGB: tuple[tuple[float, float, float] | None, ...] = (
    (0.80, 0.11, 0.15),  # red
    (0.16, 0.32, 0.72),  # blue
    (0.97, 0.97, 0.96),  # white
    (0.96, 0.63, 0.74),  # pink
    (0.96, 0.52, 0.13),  # orange
    (0.07, 0.07, 0.08),  # black
    (0.44, 0.27, 0.14),  # brown
    (0.16, 0.52, 0.27),  # green
    (0.46, 0.24, 0.60),  # purple
    (0.98, 0.85, 0.22),  # yellow
    (0.76, 0.69, 0.50),  # khaki
    (0.53, 0.53, 0.55),  # gray
    (0.91, 0.84, 0.71),  # beige
    (0.94, 0.82, 0.52),  # blonde
    (0.77, 0.78, 0.80),  # silver
    (0.44, 0.46, 0.17),  # olive
    None,  # multicolor
)
_SOLID_RGB = np.array([c for c in COLOR_RGB if c is not None], dtype=np.float64)  # (16, 3)
_MULTI = COLOR_NAMES.index("multicolor")

# Official frequencies (reference section 1.4), flattened by a square root so that rare classes still appear.
_CATEGORY_COUNTS_F = np.array(
    [2598, 8967, 76, 4466, 67, 1047, 3344, 98, 263, 306, 4128, 5416, 10130, 3967, 664, 23200, 774, 767, 3797],
    float,
)
_CATEGORY_COUNTS_M = np.array(
    [243, 111, 66, 351, 249, 410, 561, 58, 22, 0, 310, 342, 2114, 33, 14, 0, 0, 0, 0], float
)
_COLOR_COUNTS = np.array(
    [2907, 6715, 12663, 3442, 687, 12590, 841, 1563, 1198, 1174, 651, 7345, 1218, 1, 34, 24, 25926], float
)
# Official sleeve counts per category (long, short, sleeveless, unspecified).
_SLEEVE_COUNTS = np.array(
    [
        [2619, 106, 111, 5],
        [4654, 2398, 1957, 69],
        [141, 0, 1, 0],
        [4272, 384, 144, 17],
        [243, 68, 5, 0],
        [1208, 125, 111, 13],
        [3617, 137, 145, 6],
        [41, 68, 42, 5],
        [283, 1, 1, 0],
        [246, 61, 7, 0],
        [3949, 348, 132, 9],
        [359, 453, 4778, 168],
        [2602, 6849, 2550, 243],
        [1364, 1442, 1156, 38],
        [653, 10, 15, 0],
        [4565, 5322, 13283, 39],
        [165, 139, 462, 8],
        [539, 173, 53, 2],
        [665, 521, 2607, 7],
    ],
    float,
)


def _cdf(weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, float)
    c = np.cumsum(w, axis=-1)
    return c / c[..., -1:]


_CAT_CDF_F = _cdf(np.sqrt(_CATEGORY_COUNTS_F))
_CAT_CDF_M = _cdf(np.sqrt(_CATEGORY_COUNTS_M))
_COLOR_CDF = _cdf(np.sqrt(_COLOR_COUNTS))
_SLEEVE_CDF = _cdf(_SLEEVE_COUNTS**0.75 + 1.0)

_SKIN_RAMP = np.array(
    [
        [0.98, 0.86, 0.76],
        [0.93, 0.76, 0.63],
        [0.82, 0.62, 0.47],
        [0.64, 0.45, 0.32],
        [0.45, 0.30, 0.20],
        [0.30, 0.20, 0.14],
    ]
)
_HAIR_RGB = np.array(
    [
        [0.08, 0.06, 0.05],
        [0.22, 0.14, 0.09],
        [0.40, 0.26, 0.15],
        [0.55, 0.25, 0.12],
        [0.86, 0.73, 0.46],
        [0.62, 0.60, 0.58],
    ]
)
_HAIR_CDF = _cdf([4, 4, 3, 1, 2, 0.6])
_NEUTRAL_RGB = np.array(
    [
        [0.22, 0.32, 0.52],
        [0.45, 0.58, 0.75],
        [0.07, 0.07, 0.08],
        [0.25, 0.25, 0.27],
        [0.76, 0.69, 0.50],
        [0.95, 0.95, 0.94],
        [0.91, 0.84, 0.71],
        [0.44, 0.27, 0.14],
        [0.12, 0.15, 0.30],
    ]
)
_SHOE_RGB = np.array(
    [[0.06, 0.06, 0.06], [0.35, 0.22, 0.12], [0.93, 0.93, 0.92], [0.30, 0.30, 0.32], [0.65, 0.12, 0.12]]
)

# Per category: (hem low, hem high) as a fraction of the body height from the head top, looseness (fraction of
# the body height added to the half-width), open front (inner layer shows), neckline (0 round, 1 V, 2 either),
# family (0 separate top, 1 dress, 2 romper: top + shorts, 3 jumpsuit: top + pants).
_CATEGORY_SHAPE = np.array(
    [
        # hem_lo hem_hi loose open neck family
        [0.50, 0.56, 0.014, 1, 1, 0],  # blazer
        [0.46, 0.53, 0.012, 0, 2, 0],  # blouse
        [0.46, 0.50, 0.024, 1, 0, 0],  # bomber
        [0.50, 0.60, 0.018, 1, 1, 0],  # cardigan
        [0.49, 0.53, 0.008, 0, 0, 0],  # henley
        [0.50, 0.54, 0.024, 0, 0, 0],  # hoodie
        [0.48, 0.55, 0.020, 1, 1, 0],  # jacket
        [0.50, 0.55, 0.016, 0, 1, 0],  # jersey
        [0.60, 0.72, 0.032, 1, 1, 0],  # parka
        [0.44, 0.52, 0.010, 0, 0, 0],  # poncho
        [0.50, 0.54, 0.022, 0, 2, 0],  # sweater
        [0.47, 0.52, 0.004, 0, 0, 0],  # tank
        [0.48, 0.53, 0.010, 0, 0, 0],  # tee
        [0.40, 0.47, 0.006, 0, 2, 0],  # top
        [0.64, 0.78, 0.026, 1, 1, 0],  # coat
        [0.60, 0.86, 0.005, 0, 2, 1],  # dress
        [0.40, 0.40, 0.010, 0, 2, 3],  # jumpsuit
        [0.55, 0.68, 0.022, 1, 1, 0],  # kimono
        [0.40, 0.40, 0.006, 0, 2, 2],  # romper
    ]
)
_CAT = {name: i for i, name in enumerate(CATEGORY_NAMES)}

# Names of the uniform random numbers drawn per sample (one column each).
_U_NAMES = (
    "gender category sleeve color color_r color_g color_b color_v sleeve_geom sleeve_len long_hair "
    "hair_color hair_len hat hat_color sunglasses skin body_width body_height pos_x pos_y head_w arm_mode_l "
    "arm_mode_r "
    "arm_a_l arm_a_r arm_b_l arm_b_r stance lower lower_color lower_len shoe_color hem loose neck neck_depth "
    "inner_color pat_type pat_freq pat_phase pat_angle pat_c1 pat_c2 pat_c3 pat_n bg bg_tint_r bg_tint_b "
    "subject order multi_word suffix eyes hood skirt_flare"
).split()
_U = {name: i for i, name in enumerate(_U_NAMES)}
_NUM_U = len(_U_NAMES)

# ------------------------------------------------------------------------------------------------------------
# Sentences
# ------------------------------------------------------------------------------------------------------------

_SUBJECTS_F = (
    ("the lady was wearing", 4.0),
    ("the lady wore", 4.0),
    ("the lady is wearing", 4.0),
    ("the lady wears", 0.8),
    ("the woman was wearing", 0.5),
    ("the woman wore", 0.4),
    ("a woman wearing", 0.4),
    ("the lady dressed in", 0.3),
    ("the girl is wearing", 0.2),
)
_SUBJECTS_M = (
    ("the man was wearing", 4.0),
    ("the man is wearing", 3.0),
    ("the man wore", 1.0),
    ("a man wearing", 0.3),
    ("the boy was wearing", 0.2),
)
_SUBJ_CDF_F = _cdf([w for _, w in _SUBJECTS_F])
_SUBJ_CDF_M = _cdf([w for _, w in _SUBJECTS_M])
_MULTI_WORDS = ("multicolor", "multi-colored", "multicolored", "multi-color")
_MULTI_CDF = _cdf([4, 2, 2, 2])
_PATTERN_SUFFIXES = (" with a pattern",)  # stripes, checks, argyle
_DOTS_SUFFIXES = (" with flowers", " printed with flowers", " with a pattern")  # the dot print
_NUM_PATTERNS = 5  # horizontal stripes, diagonal stripes, checks, argyle, dots


def _pattern_type(u: np.ndarray | float) -> np.ndarray:
    return np.minimum((np.asarray(u) * _NUM_PATTERNS).astype(np.int64), _NUM_PATTERNS - 1)


_ATTR_KEYS = (
    "u", "gender", "category", "sleeve", "color", "long_hair", "hat", "sunglasses", "skin_tone", "body_width",
    "body_height",
)  # fmt: skip


def _check_attrs(attrs: Any) -> int:
    """Check a :func:`sample_attributes` dict (keys, one value per sample); return the number of samples."""
    if not isinstance(attrs, Mapping):
        raise TypeError(f"attrs: expected the dict of sample_attributes, got {type(attrs).__name__}")
    missing = [k for k in _ATTR_KEYS if k not in attrs]
    if missing:
        raise ValueError(f"attrs: expected the dict of sample_attributes, missing {missing}")
    u = np.asarray(attrs["u"])
    if u.ndim != 2 or u.shape[1] != _NUM_U:
        raise ValueError(f"attrs['u']: expected shape (B, {_NUM_U}), got {u.shape}")
    for key in _ATTR_KEYS[1:]:
        shape = np.shape(attrs[key])
        if shape != (u.shape[0],):
            got = shape[0] if len(shape) == 1 else f"shape {shape}"
            raise ValueError(f"attrs[{key!r}]: expected {u.shape[0]} values (one per sample), got {got}")
    return u.shape[0]


def make_sentence(attrs: dict[str, np.ndarray], j: int) -> str:
    """The official-style sentence of sample ``j`` of a :func:`sample_attributes` result.

    The sentence names the gender, the garment colour, sleeve (omitted when unspecified) and category, e.g.
    ``"the lady was wearing a blue long-sleeved blouse."``; every word is in the official vocabulary.

    Examples:
        >>> make_sentence(sample_attributes(0, "train", [0]), 0)
        'the lady wears a red long-sleeved hoodie.'
    """
    n = _check_attrs(attrs)
    if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or not 0 <= j < n:
        raise IndexError(f"j: expected an int in [0, {n - 1}], got {j!r}")
    return _sentence(attrs, int(j))


def _sentence(attrs: dict[str, np.ndarray], j: int) -> str:
    u = attrs["u"][j]
    male = bool(attrs["gender"][j])
    subjects, cdf = (_SUBJECTS_M, _SUBJ_CDF_M) if male else (_SUBJECTS_F, _SUBJ_CDF_F)
    subject = subjects[int(np.searchsorted(cdf, u[_U["subject"]], side="right"))][0]
    color = int(attrs["color"][j])
    if color == _MULTI:
        color_word = _MULTI_WORDS[int(np.searchsorted(_MULTI_CDF, u[_U["multi_word"]], side="right"))]
        # A third of the multicolour sentences mention the print; flowers only for the dot print.
        suffixes = _DOTS_SUFFIXES if _pattern_type(u[_U["pat_type"]]) == 4 else _PATTERN_SUFFIXES
        suffix_u = u[_U["suffix"]]
        suffix = (
            ""
            if suffix_u < 2 / 3
            else suffixes[min(int((suffix_u - 2 / 3) * 3 * len(suffixes)), len(suffixes) - 1)]
        )
    else:
        color_word, suffix = COLOR_NAMES[color], ""
    sleeve = int(attrs["sleeve"][j])
    words = [color_word] if sleeve == 3 else [color_word, SLEEVE_NAMES[sleeve]]
    if sleeve != 3 and u[_U["order"]] < 0.2:
        words.reverse()
    article = "an" if words[0][0] in "aeiou" else "a"
    return f"{subject} {article} {' '.join(words)} {CATEGORY_NAMES[int(attrs['category'][j])]}{suffix}."


# ------------------------------------------------------------------------------------------------------------
# Attributes
# ------------------------------------------------------------------------------------------------------------


def _uniforms(seed: int, split_id: int, indices: np.ndarray) -> np.ndarray:
    return np.stack([np.random.default_rng([seed, split_id, int(i)]).random(_NUM_U) for i in indices])


def _pick(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw; ``cdf`` (K,) or per-sample (B, K)."""
    if cdf.ndim == 1:
        return np.minimum(np.searchsorted(cdf, u, side="right"), cdf.shape[-1] - 1)
    return np.minimum((u[:, None] >= cdf).sum(1), cdf.shape[-1] - 1)


def sample_attributes(seed: int, split: str, indices: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
    """Draw the attributes of samples ``indices`` of ``split`` (cheap: no drawing).

    Returns a dict of ``(B,)`` arrays: ``gender``, ``category``, ``color``, ``sleeve`` (0-based official
    classes), ``long_hair``, ``hat``, ``sunglasses`` (0/1), ``skin_tone``, ``body_width``, ``body_height``
    (in ``[0, 1]``), and ``u`` ``(B, U)`` the sample's uniforms that the renderer and the sentence use.

    Examples:
        >>> a = sample_attributes(0, "test", [0, 1, 2])
        >>> a["category"].shape, int(a["color"].max()) < 17
        ((3,), True)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed: expected a non-negative int, got {seed!r}")
    if split not in SPLITS:
        raise ValueError(f"split: expected one of {tuple(SPLITS)}, got {split!r}")
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    u = _uniforms(seed, SPLITS[split], idx) if idx.size else np.zeros((0, _NUM_U))
    male = u[:, _U["gender"]] < 0.22
    category = np.where(
        male, _pick(_CAT_CDF_M, u[:, _U["category"]]), _pick(_CAT_CDF_F, u[:, _U["category"]])
    )
    sleeve = _pick(_SLEEVE_CDF[category], u[:, _U["sleeve"]])
    color = _pick(_COLOR_CDF, u[:, _U["color"]])
    return {
        "u": u,
        "gender": male.astype(np.int64),
        "category": category.astype(np.int64),
        "sleeve": sleeve.astype(np.int64),
        "color": color.astype(np.int64),
        "long_hair": (u[:, _U["long_hair"]] < np.where(male, 0.08, 0.72)).astype(np.int64),
        "hat": (u[:, _U["hat"]] < 0.12).astype(np.int64),
        "sunglasses": (u[:, _U["sunglasses"]] < 0.12).astype(np.int64),
        "skin_tone": u[:, _U["skin"]],
        "body_width": u[:, _U["body_width"]],
        "body_height": u[:, _U["body_height"]],
    }


# ------------------------------------------------------------------------------------------------------------
# Signed-distance shapes (normalised units; xs (1, 1, w), ys (1, h, 1) pixel centres; params (n,) per sample)
#
# ``bbox(pad)`` is conservative: outside it the shape's distance is at least ``pad`` (the canvas passes one
# pixel), so a pixel outside has zero coverage. That lets a union evaluate each part only inside the part's
# own box and the canvas paint only a window, with results that do not depend on which samples share a batch.
# ------------------------------------------------------------------------------------------------------------

_FAR = np.float32(1e3)


def _col(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32).reshape(-1, 1, 1)


class _Ellipse:
    """Ellipse; the distance ``(q - 1) * min(rx, ry)`` with ``q`` the normalised radius (exact on the rim)."""

    def __init__(self, cx, cy, rx, ry):
        self.cx, self.cy, self.rx, self.ry = cx, cy, rx, ry

    def bbox(self, pad):
        # Outside the box by m along x, the distance is at least m * min(r) / rx.
        grow = pad * np.maximum(self.rx, self.ry) / np.minimum(self.rx, self.ry)
        return (
            self.cx - self.rx - grow,
            self.cx + self.rx + grow,
            self.cy - self.ry - grow,
            self.cy + self.ry + grow,
        )

    def sdf(self, xs, ys):
        dx = (xs - _col(self.cx)) * _col(1.0 / self.rx)
        dy = (ys - _col(self.cy)) * _col(1.0 / self.ry)
        q = dx * dx + dy * dy
        np.sqrt(q, out=q)
        q -= np.float32(1.0)
        q *= _col(np.minimum(self.rx, self.ry))
        return q


class _Capsule:
    """Segment a -> b with a radius going linearly from r0 to r1 (a tapered limb)."""

    def __init__(self, ax, ay, bx, by, r0, r1):
        self.ax, self.ay, self.bx, self.by, self.r0, self.r1 = ax, ay, bx, by, r0, r1

    def bbox(self, pad):
        r = np.maximum(self.r0, self.r1) + pad
        return (
            np.minimum(self.ax, self.bx) - r,
            np.maximum(self.ax, self.bx) + r,
            np.minimum(self.ay, self.by) - r,
            np.maximum(self.ay, self.by) + r,
        )

    def sdf(self, xs, ys):
        bax, bay = self.bx - self.ax, self.by - self.ay
        inv = 1.0 / np.maximum(bax * bax + bay * bay, 1e-12)
        pax, pay = xs - _col(self.ax), ys - _col(self.ay)
        t = pax * _col(bax * inv) + pay * _col(bay * inv)
        np.clip(t, 0.0, 1.0, out=t)
        dx = pax - t * _col(bax)
        dy = pay - t * _col(bay)
        dx *= dx
        dy *= dy
        dx += dy
        np.sqrt(dx, out=dx)
        t *= _col(self.r1 - self.r0)
        t += _col(self.r0)
        dx -= t
        return dx


class _Profile:
    """Vertical shape: centre ``cx``, half-width piecewise linear through knots ``(ky[k], hw[k])`` (n, K)."""

    def __init__(self, cx, ky, hw):
        self.cx, self.ky, self.hw = cx, ky, hw

    def _slopes(self):
        return np.abs(np.diff(self.hw, axis=1)) / np.maximum(np.diff(self.ky, axis=1), 1e-6)

    def bbox(self, pad):
        w = self.hw.max(1) + pad * np.sqrt(1.0 + (self._slopes() ** 2).max(1))
        return self.cx - w, self.cx + w, self.ky[:, 0] - pad, self.ky[:, -1] + pad

    def sdf(self, xs, ys):
        ky, hw = self.ky.astype(np.float32), self.hw.astype(np.float32)
        n, h = ky.shape[0], ys.shape[1]
        half = np.broadcast_to(hw[:, :1, None], (n, h, 1)).copy()
        slope = np.zeros((n, h, 1), np.float32)
        for k in range(ky.shape[1] - 1):
            span = np.maximum(ky[:, k + 1] - ky[:, k], np.float32(1e-6))[:, None, None]
            rate = (hw[:, k + 1] - hw[:, k])[:, None, None] / span
            rel = ys - ky[:, k, None, None]
            half += np.clip(rel, 0.0, span) * rate
            slope = np.where((rel >= 0) & (rel < span), rate, slope)
        # Horizontal distance scaled by the cosine of the edge slope (a true distance for straight edges).
        cosine = np.float32(1.0) / np.sqrt(np.float32(1.0) + slope * slope)
        d = np.abs(xs - _col(self.cx)) - half
        d *= cosine
        return np.maximum(d, np.maximum(ky[:, :1, None] - ys, ys - ky[:, -1:, None]), out=d)


class _HalfPlane:
    """Points behind the line through ``(px, py)`` with normal ``(nx, ny)`` (unit): ``d = (p - q) . n``."""

    def __init__(self, px, py, nx, ny):
        self.px, self.py, self.nx, self.ny = px, py, nx, ny

    def bbox(self, pad):
        inf = np.full(np.shape(self.px), np.inf)
        return -inf, inf, -inf, inf

    def sdf(self, xs, ys):
        return (xs - _col(self.px)) * _col(self.nx) + (ys - _col(self.py)) * _col(self.ny)


def _window(coords: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[int, int]:
    """Index range of the pixel centres ``coords`` (sorted) lying in ``[min(lo), max(hi)]``."""
    return int(np.searchsorted(coords, lo.min(), "left")), int(np.searchsorted(coords, hi.max(), "right"))


class _Union:
    """Union of parts; each part is evaluated only inside its own box (far elsewhere)."""

    def __init__(self, *parts):
        self.parts = parts

    def bbox(self, pad):
        boxes = [p.bbox(pad) for p in self.parts]
        return tuple(f(np.stack([b[i] for b in boxes]), axis=0) for i, f in enumerate((np.min, np.max) * 2))

    def sdf(self, xs, ys, pad):
        n = np.asarray(self.parts[0].bbox(pad)[0]).shape[0]
        d = np.full((n, ys.shape[1], xs.shape[2]), _FAR, np.float32)
        for p in self.parts:
            x0, x1, y0, y1 = p.bbox(pad)
            c0, c1 = _window(xs[0, 0], x0, x1)
            r0, r1 = _window(ys[0, :, 0], y0, y1)
            if c1 > c0 and r1 > r0:
                sub = d[:, r0:r1, c0:c1]
                np.minimum(sub, _sdf(p, xs[:, :, c0:c1], ys[:, r0:r1], pad), out=sub)
        return d


class _Intersect:
    """Inside ``a`` and inside ``b``; with ``negate``, inside ``a`` and outside ``b`` (``b``: not a union)."""

    def __init__(self, a, b, *, negate: bool = False):
        if negate and isinstance(b, _Union):
            raise TypeError(
                "a negated intersection needs a shape with a true distance everywhere, not a union"
            )
        self.a, self.b, self.negate = a, b, negate

    def bbox(self, pad):
        return self.a.bbox(pad)

    def sdf(self, xs, ys, pad):
        db = _sdf(self.b, xs, ys, pad)
        if self.negate:
            np.negative(db, out=db)
        return np.maximum(_sdf(self.a, xs, ys, pad), db, out=db)


def _sdf(shape, xs, ys, pad):
    return shape.sdf(xs, ys, pad) if isinstance(shape, (_Union, _Intersect)) else shape.sdf(xs, ys)


# ------------------------------------------------------------------------------------------------------------
# Fills
# ------------------------------------------------------------------------------------------------------------


class _Solid:
    """One colour per sample: ``rgb`` (n, 3)."""

    def __init__(self, rgb: np.ndarray):
        self.rgb = rgb

    def pattern(self, xs, ys):
        return None


class _Print(_Solid):
    """Garment colour, with a print for the rows in ``multi``.

    The print index is ``(floor(l1) + floor(l2) + dot) mod P`` with linear forms ``l1, l2`` of ``(x, y)``:
    stripes use one form, checks two, dots add a circle per cell (``dot`` in {0, 1}); ``palette`` (n, 4, 3).
    """

    def __init__(self, rgb, multi, palette, count, forms, dot_f, dot_r):
        super().__init__(rgb)
        self.multi, self.palette, self.count = multi, palette, count
        self.forms, self.dot_f, self.dot_r = forms, dot_f, dot_r

    def pattern(self, xs, ys):
        """``(rows, colours)``: the printed rows and their colours (m, 3, h, w), or ``None``."""
        rows = np.flatnonzero(self.multi)
        if rows.size == 0:
            return None
        a1, b1, c1, a2, b2, c2 = (_col(v[rows]) for v in self.forms)
        idx = np.floor(xs * a1 + (ys * b1 + c1)) + np.floor(xs * a2 + (ys * b2 + c2))
        fx = xs * _col(self.dot_f[rows])
        fy = ys * _col(self.dot_f[rows])
        fx = fx - np.floor(fx) - np.float32(0.5)
        fy = fy - np.floor(fy) - np.float32(0.5)
        idx += (fx * fx + fy * fy < _col(self.dot_r[rows]) ** 2).astype(np.float32)
        idx = np.mod(idx.astype(np.int64), self.count[rows].reshape(-1, 1, 1))
        pick = np.arange(rows.size)[:, None, None]
        palette = self.palette[rows].astype(np.float32)
        return rows, np.stack([palette[:, :, c][pick, idx] for c in range(3)], 1)


# ------------------------------------------------------------------------------------------------------------
# Canvas
# ------------------------------------------------------------------------------------------------------------


class _Canvas:
    def __init__(self, background: np.ndarray, size: int):
        n = background.shape[0]
        self.size = size
        self.pad = 1.0 / size
        self.coords = (np.arange(size, dtype=np.float32) + np.float32(0.5)) / np.float32(size)
        # Background: near-white with a faint vertical gradient (brighter at the top).
        shade = np.float32(1.0) - np.float32(0.03) * self.coords
        self.image = background.astype(np.float32)[:, :, None, None] * shade[None, None, :, None]
        self.image = np.ascontiguousarray(np.broadcast_to(self.image, (n, 3, size, size)))
        self.labels = np.zeros((n, size, size), dtype=np.uint8)

    def paint(self, mask, shape_fn, label, fill_fn, *, rim=0.0, rim_width=None):
        """Paint a shape for the samples where ``mask`` is true.

        ``shape_fn(sel)``/``fill_fn(sel)`` build the shape and the fill for the selected samples; ``label`` is
        an int or a per-sample array; ``rim`` darkens the colour towards the shape's edge over ``rim_width``:
        ``colour * (1 - rim * (1 - clip(-d / rim_width, 0, 1))^2)``. Coverage is ``clip(0.5 - d * S, 0, 1)``;
        a pixel takes ``label`` where the coverage is at least 1/2 (``d <= 0``).
        """
        sel = np.flatnonzero(mask)
        if sel.size == 0:
            return
        shape = shape_fn(sel)
        x0, x1, y0, y1 = shape.bbox(self.pad)
        c0, c1 = _window(self.coords, x0, x1)
        r0, r1 = _window(self.coords, y0, y1)
        if c1 <= c0 or r1 <= r0:
            return
        xs = self.coords[c0:c1].reshape(1, 1, -1)
        ys = self.coords[r0:r1].reshape(1, -1, 1)
        d = _sdf(shape, xs, ys, self.pad)
        s = np.float32(self.size)
        alpha = np.float32(0.5) - d * s
        np.clip(alpha, 0.0, 1.0, out=alpha)
        if rim:
            # weight = alpha * shade, shade = 1 - rim * clip(1 + d / width, 0, 1)^2
            weight = d * _col(1.0 / rim_width[sel])
            weight += np.float32(1.0)
            np.clip(weight, 0.0, 1.0, out=weight)
            weight *= weight
            weight *= np.float32(-rim)
            weight += np.float32(1.0)
            weight *= alpha
        else:
            weight = alpha
        fill = fill_fn(sel)
        rgb = fill.rgb.astype(np.float32)
        whole = sel.size == self.image.shape[0]
        region = self.image[:, :, r0:r1, c0:c1] if whole else self.image[sel, :, r0:r1, c0:c1]
        # region = region * (1 - alpha) + alpha * shade * colour, one channel at a time (small temporaries)
        keep = np.float32(1.0) - alpha
        for c in range(3):
            plane = region[:, c]
            plane *= keep
            plane += weight * rgb[:, c, None, None]
        printed = fill.pattern(xs, ys)
        if printed is not None:
            rows, colors = printed
            colors -= rgb[rows][:, :, None, None]
            colors *= weight[rows][:, None]
            region[rows] += colors
        label_arr = np.asarray(label)
        label_val = label_arr[sel].astype(np.uint8)[:, None, None] if label_arr.ndim else np.uint8(label)
        if whole:
            np.copyto(self.labels[:, r0:r1, c0:c1], label_val, where=d <= 0)
        else:
            lab = self.labels[sel, r0:r1, c0:c1]
            np.copyto(lab, label_val, where=d <= 0)
            self.image[sel, :, r0:r1, c0:c1] = region
            self.labels[sel, r0:r1, c0:c1] = lab


# ------------------------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------------------------


def _jitter_rgb(
    rgb: np.ndarray, u: np.ndarray, r: str, g: str, b: str, v: str, amount: float = 0.06
) -> np.ndarray:
    scale = 1.0 + amount * (2.0 * u[:, [_U[r], _U[g], _U[b]]] - 1.0)
    scale = scale * (1.0 + 1.3 * amount * (2.0 * u[:, [_U[v]]] - 1.0))
    return np.clip(rgb * scale, 0.0, 1.0)


def _choose(table: np.ndarray, u: np.ndarray) -> np.ndarray:
    return table[np.minimum((u * len(table)).astype(np.int64), len(table) - 1)]


def render_mannequins(attrs: dict[str, np.ndarray], image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw the samples described by :func:`sample_attributes`.

    Args:
        attrs: the attribute dict of ``B`` samples.
        image_size: ``S``, the side of the square pictures (shapes are defined in normalised coordinates).

    Returns:
        ``(images, labels)``: uint8 ``(B, 3, S, S)`` RGB and uint8 ``(B, S, S)`` official label ids 0..6.

    Examples:
        >>> images, labels = render_mannequins(sample_attributes(0, "train", [0, 1]), 32)
        >>> images.shape, labels.shape, int(labels.max()) <= 6
        ((2, 3, 32, 32), (2, 32, 32), True)
    """
    check_positive_int("image_size", image_size)
    n = _check_attrs(attrs)
    u = attrs["u"]
    if n == 0:
        return np.zeros((0, 3, image_size, image_size), np.uint8), np.zeros(
            (0, image_size, image_size), np.uint8
        )
    U = lambda name: u[:, _U[name]]  # noqa: E731
    male = attrs["gender"].astype(bool)
    cat = attrs["category"]
    color = attrs["color"]
    shape_row = _CATEGORY_SHAPE[cat]
    family = shape_row[:, 5].astype(np.int64)

    # --- geometry (normalised; y down) ---
    s = 0.96 + 0.32 * attrs["body_height"]  # head top to soles (tall people leave the picture at the shins)
    wf = 0.86 + 0.34 * attrs["body_width"]
    cx = 0.5 + 0.07 * (2.0 * U("pos_x") - 1.0)
    top = 0.02 + 0.045 * U("pos_y")
    Y = lambda f: top + f * s  # noqa: E731
    head_rx = s * np.where(male, 0.052, 0.049) * (0.94 + 0.12 * U("head_w"))
    head_ry = s * 0.066
    head_cy = top + head_ry
    shoulder_y = Y(0.185)
    armpit_y = Y(0.25)
    waist_y = Y(0.40)
    hip_y = Y(0.49)
    crotch_y = Y(0.535)
    ankle_y = Y(0.965)
    sw = s * wf
    shoulder_hw = sw * np.where(male, 0.128, 0.110)
    chest_hw = sw * np.where(male, 0.106, 0.090)
    waist_hw = sw * np.where(male, 0.092, 0.072)
    hip_hw = sw * np.where(male, 0.094, 0.102)
    neck_hw = s * np.where(male, 0.030, 0.025)
    skin = np.stack(
        [np.interp(attrs["skin_tone"] * 5.0, np.arange(6), _SKIN_RAMP[:, c]) for c in range(3)], 1
    )
    rim_w = 0.035 * s

    # Garment colour (solid) or print palette.
    solid_idx = np.where(color == _MULTI, 0, np.minimum(color, len(_SOLID_RGB) - 1))
    garment_rgb = _jitter_rgb(_SOLID_RGB[solid_idx], u, "color_r", "color_g", "color_b", "color_v")
    multi = color == _MULTI
    palette = np.stack([_choose(_SOLID_RGB, U(k)) for k in ("pat_c1", "pat_c2", "pat_c3", "color_v")], 1)
    palette[:, 0] = np.where(multi[:, None], palette[:, 0], garment_rgb)
    count = np.where(multi, 2 + (U("pat_n") * 3).astype(np.int64), 1)
    pat_type = np.minimum(
        (U("pat_type") * 5).astype(np.int64), 4
    )  # h-stripes, diag stripes, checks, argyle, dots
    freq = (8.0 + 14.0 * U("pat_freq")) / s
    phase = U("pat_phase")
    zero = np.zeros(n)
    lean = np.where(U("pat_angle") < 0.5, 1.0, -1.0)
    a1 = np.select(
        [pat_type == 0, pat_type == 1, pat_type == 2, pat_type == 3], [zero, freq * lean, freq, freq], 0
    )
    b1 = np.select([pat_type == 0, pat_type == 1, pat_type == 2, pat_type == 3], [freq, freq, zero, freq], 0)
    a2 = np.select([pat_type == 2, pat_type == 3], [zero, freq], 0)
    b2 = np.select([pat_type == 2, pat_type == 3], [freq, -freq], 0)
    c1 = np.where(pat_type == 4, 0.5, phase)
    c2 = np.where(pat_type == 4, 0.5, phase)
    count = np.where(multi & (pat_type == 4), 2, count)
    dot_f = np.where(pat_type == 4, freq * 0.8, 1.0)
    dot_r = np.where(pat_type == 4, 0.22 + 0.12 * U("pat_phase"), 0.0)

    forms = (a1, b1, c1, a2, b2, c2)

    def print_fill(rgb, rows_multi):
        return lambda sel: _Print(
            rgb[sel],
            rows_multi[sel],
            palette[sel],
            count[sel],
            tuple(f[sel] for f in forms),
            dot_f[sel],
            dot_r[sel],
        )

    garment_fill = print_fill(garment_rgb, multi)
    solid = lambda rgb: lambda sel: _Solid(rgb[sel])  # noqa: E731

    # Background: near-white (DeepFashion's mean image is about 0.94 in the corners).
    bg = 0.925 + 0.05 * U("bg")
    background = np.stack(
        [bg + 0.012 * (2 * U("bg_tint_r") - 1), bg, bg + 0.012 * (2 * U("bg_tint_b") - 1)], 1
    )
    canvas = _Canvas(np.clip(background, 0, 1), image_size)
    everyone = np.ones(n, bool)

    # --- 1. long hair behind the body ---
    long_hair = attrs["long_hair"].astype(bool)
    hair_rgb = _jitter_rgb(
        _HAIR_RGB[_pick(_HAIR_CDF, U("hair_color"))], u, "color_b", "color_r", "color_g", "hair_len", 0.05
    )
    hair_end = Y(0.22 + 0.16 * U("hair_len"))
    hat = attrs["hat"].astype(bool)

    def back_hair(sel):
        ky = np.stack([head_cy - 0.85 * head_ry, head_cy, shoulder_y, hair_end], 1)[sel]
        hw = np.stack([head_rx * 1.1, head_rx * 1.25, head_rx * 1.45, head_rx * 1.3], 1)[sel]
        return _Profile(cx[sel], ky, hw)

    canvas.paint(long_hair, back_hair, 1, solid(hair_rgb), rim=0.3, rim_width=rim_w)

    # --- 2. legs and shoes ---
    stance = U("stance")
    hip_x = 0.048 * sw
    ankle_dx = s * (0.04 + 0.06 * stance)
    leg_r0, leg_r1 = 0.052 * sw, 0.028 * s
    legs = lambda side, sel: _Capsule(  # noqa: E731
        (cx + side * hip_x)[sel],
        hip_y[sel],
        (cx + side * ankle_dx)[sel],
        ankle_y[sel],
        leg_r0[sel],
        leg_r1[sel],
    )
    canvas.paint(
        everyone, lambda sel: _Union(legs(-1, sel), legs(1, sel)), 5, solid(skin), rim=0.25, rim_width=rim_w
    )
    shoe_rgb = _choose(_SHOE_RGB, U("shoe_color"))
    shoes = lambda side, sel: _Ellipse(  # noqa: E731
        (cx + side * (ankle_dx + 0.008 * s))[sel],
        (ankle_y + 0.016 * s)[sel],
        (0.040 * s)[sel],
        (0.022 * s)[sel],
    )
    canvas.paint(
        everyone,
        lambda sel: _Union(shoes(-1, sel), shoes(1, sel)),
        5,
        solid(shoe_rgb),
        rim=0.3,
        rim_width=rim_w,
    )

    # --- 3. lower garment: pants / shorts / skirt (or the bottom of a romper / jumpsuit) ---
    lower_kind = np.where(
        male,
        np.where(U("lower") < 0.75, 0, 1),
        np.where(U("lower") < 0.4, 0, np.where(U("lower") < 0.6, 1, 2)),
    )
    lower_kind = np.where(family == 2, 1, np.where(family == 3, 0, lower_kind))
    lower_kind = np.where(family == 1, -1, lower_kind)
    lower_rgb = np.where((family >= 2)[:, None], garment_rgb, _choose(_NEUTRAL_RGB, U("lower_color")))
    lower_multi = multi & (family >= 2)

    lower_fill = print_fill(lower_rgb, lower_multi)

    seat = lambda sel: _Profile(  # noqa: E731
        cx[sel],
        np.stack([waist_y, hip_y, crotch_y + 0.02 * s], 1)[sel],
        np.stack([waist_hw + 0.006 * s, hip_hw + 0.01 * s, hip_hw + 0.004 * s], 1)[sel],
    )
    short_t = 0.28 + 0.2 * U("lower_len")

    def pant_leg(side, sel, t_end, extra):
        ax, ay = cx + side * hip_x, hip_y
        bx = ax + t_end * (cx + side * ankle_dx - ax)
        by = ay + t_end * (ankle_y - 0.012 * s - ay)
        r1 = leg_r0 + t_end * (leg_r1 - leg_r0)
        return _Capsule(ax[sel], ay[sel], bx[sel], by[sel], (leg_r0 + extra)[sel], (r1 + extra * 1.2)[sel])

    pants = lambda sel: _Union(seat(sel), pant_leg(-1, sel, 1.0, 0.012 * s), pant_leg(1, sel, 1.0, 0.012 * s))  # noqa: E731
    shorts = lambda sel: _Union(  # noqa: E731
        seat(sel), pant_leg(-1, sel, short_t, 0.02 * s), pant_leg(1, sel, short_t, 0.02 * s)
    )
    skirt_hem = Y(0.58 + 0.2 * U("lower_len"))
    skirt_hw = hip_hw * (1.05 + 0.5 * U("skirt_flare")) + 0.01 * s

    def skirt(sel):
        ky = np.stack([waist_y, hip_y, skirt_hem], 1)[sel]
        hw = np.stack([waist_hw + 0.005 * s, hip_hw + 0.012 * s, skirt_hw], 1)[sel]
        return _Profile(cx[sel], ky, hw)

    canvas.paint(lower_kind == 0, pants, 4, lower_fill, rim=0.3, rim_width=rim_w)
    canvas.paint(lower_kind == 1, shorts, 4, lower_fill, rim=0.3, rim_width=rim_w)
    canvas.paint(lower_kind == 2, skirt, 4, lower_fill, rim=0.25, rim_width=rim_w)

    # --- 4. arms (skin), hanging, held out or with a hand on the hip ---
    joint_dx = shoulder_hw - 0.022 * s
    joint_y = shoulder_y + 0.02 * s
    upper_len, fore_len = 0.165 * s, 0.15 * s
    arm_r0, arm_r1, arm_r2 = 0.030 * s * np.sqrt(wf), 0.026 * s, 0.021 * s

    def unit(dx, dy):
        norm = np.sqrt(dx * dx + dy * dy)
        return dx / norm, dy / norm

    arm = {}
    for side, tag in ((-1.0, "l"), (1.0, "r")):
        mode_u = U(f"arm_mode_{tag}")
        mode = np.where(mode_u < 0.7, 0, np.where(mode_u < 0.9, 1, 2))  # down, out, hand on hip
        ka = np.select(
            [mode == 0, mode == 1],
            [0.06 + 0.2 * U(f"arm_a_{tag}"), 0.3 + 0.35 * U(f"arm_a_{tag}")],
            0.55 + 0.35 * U(f"arm_a_{tag}"),
        )
        kb = np.where(mode == 0, ka - 0.1 + 0.3 * U(f"arm_b_{tag}"), ka + 0.1 + 0.4 * U(f"arm_b_{tag}"))
        jx = cx + side * joint_dx
        ux, uy = unit(side * ka, np.ones(n))
        ex, ey = jx + upper_len * ux, joint_y + upper_len * uy
        fx, fy = unit(side * kb, np.ones(n))
        wx, wy = ex + fore_len * fx, ey + fore_len * fy
        on_hip = mode == 2
        wx = np.where(on_hip, cx + side * (waist_hw + 0.03 * s), wx)
        wy = np.where(on_hip, waist_y + 0.03 * s, wy)
        hx, hy = unit(wx - ex, wy - ey)
        arm[tag] = dict(
            jx=jx, ex=ex, ey=ey, wx=wx, wy=wy, hx=wx + 0.028 * s * hx, hy=wy + 0.028 * s * hy, side=side
        )

    def arm_shape(tag, sel):
        a = arm[tag]
        shoulder = _Capsule(
            (cx + a["side"] * neck_hw)[sel],
            (shoulder_y + 0.008 * s)[sel],
            a["jx"][sel],
            joint_y[sel],
            (0.02 * s)[sel],
            arm_r0[sel],
        )
        upper = _Capsule(a["jx"][sel], joint_y[sel], a["ex"][sel], a["ey"][sel], arm_r0[sel], arm_r1[sel])
        fore = _Capsule(a["ex"][sel], a["ey"][sel], a["wx"][sel], a["wy"][sel], arm_r1[sel], arm_r2[sel])
        return _Union(shoulder, upper, fore, hand_shape(tag, sel))

    def hand_shape(tag, sel):
        a = arm[tag]
        return _Ellipse(a["hx"][sel], a["hy"][sel], (0.026 * s)[sel], (0.03 * s)[sel])

    for tag in ("l", "r"):
        canvas.paint(
            everyone, lambda sel, tag=tag: arm_shape(tag, sel), 6, solid(skin), rim=0.25, rim_width=rim_w
        )

    # --- 5. torso garment (label 3; a dress is label 4 throughout) ---
    sleeve = attrs["sleeve"]
    geom = np.where(sleeve == 3, _pick(_cdf([0.45, 0.35, 0.2]), U("sleeve_geom")), sleeve)  # unspecified: any
    sleeveless = geom == 2
    loose = shape_row[:, 2] * s * (0.7 + 0.6 * U("loose"))
    hem_y = Y(shape_row[:, 0] + (shape_row[:, 1] - shape_row[:, 0]) * U("hem"))
    dress = family == 1
    hem_hw = np.where(dress, hip_hw * (1.1 + 0.6 * U("skirt_flare")) + 0.01 * s, hip_hw + loose)
    hem_hw = np.where(family >= 2, waist_hw + loose + 0.004 * s, hem_hw)
    hem_hw = np.where(cat == _CAT["coat"], hem_hw + 0.02 * s, hem_hw)
    mid_y = np.where(hem_y > hip_y + 0.02 * s, hip_y, 0.5 * (waist_y + hem_y))
    mid_hw = np.where(hem_y > hip_y + 0.02 * s, hip_hw + loose + 0.004 * s, 0.5 * (waist_hw + hem_hw) + loose)
    top_shoulder_hw = np.where(
        sleeveless, neck_hw + s * (0.03 + 0.02 * U("loose")), shoulder_hw + 0.4 * loose
    )
    torso_ky = np.stack([shoulder_y - 0.018 * s, shoulder_y + 0.016 * s, armpit_y, waist_y, mid_y, hem_y], 1)
    torso_hw = np.stack(
        [neck_hw + 0.012 * s, top_shoulder_hw, chest_hw + loose, waist_hw + loose, mid_hw, hem_hw], 1
    )
    torso_label = np.where(dress, 4, 3)
    neck_kind = np.where(shape_row[:, 4] == 2, (U("neck") < 0.5).astype(float), shape_row[:, 4])
    v_depth = s * (0.03 + 0.07 * U("neck_depth")) * np.where(neck_kind == 1, 1.0, 0.6)
    v_depth = np.where(sleeveless, v_depth + 0.02 * s, v_depth)
    cut_w = neck_hw + 0.012 * s + np.where(sleeveless, 0.004 * s, 0.0)
    cut_bottom = shoulder_y - 0.012 * s + v_depth
    round_hw = np.stack([cut_w, cut_w, cut_w * 0.93, cut_w * 0.7, np.zeros(n)], 1)
    v_hw = np.stack([cut_w, cut_w, cut_w * 0.62, cut_w * 0.3, np.zeros(n)], 1)
    cut_hw = np.where((neck_kind == 1)[:, None], v_hw, round_hw)
    frac = np.array([0.0, 0.0, 0.4, 0.75, 1.0])
    cut_ky = (shoulder_y - 0.012 * s)[:, None] + frac * v_depth[:, None]
    cut_ky[:, 0] = head_cy

    def neckline(sel):
        return _Profile(cx[sel], cut_ky[sel], cut_hw[sel])

    def torso(sel):
        return _Intersect(_Profile(cx[sel], torso_ky[sel], torso_hw[sel]), neckline(sel), negate=True)

    canvas.paint(everyone, torso, torso_label, garment_fill, rim=0.3, rim_width=rim_w)

    # Open front (blazer, jacket, coat, ...): the inner layer shows in a strip down the middle.
    open_front = shape_row[:, 3] == 1
    inner_rgb = _choose(_NEUTRAL_RGB[[2, 3, 5, 6]], U("inner_color"))
    inner_hw = s * (0.018 + 0.02 * U("inner_color"))
    inner_end = np.minimum(hem_y, waist_y + 0.06 * s * U("hem"))

    def inner(sel):
        ky = np.stack([shoulder_y, cut_bottom + 0.02 * s, inner_end], 1)[sel]
        hw = np.stack([cut_w + 0.004 * s, inner_hw, inner_hw * 0.6], 1)[sel]
        return _Intersect(_Profile(cx[sel], ky, hw), neckline(sel), negate=True)

    canvas.paint(open_front, inner, 3, solid(inner_rgb), rim=0.2, rim_width=rim_w)

    # Accents that change colour, not labels: henley placket, jersey chest band, ribbed hems and cuffs.
    accent_rgb = np.clip(garment_rgb * 0.72, 0, 1)
    contrast_rgb = _choose(_SOLID_RGB[[2, 5, 0, 1, 9]], U("inner_color"))
    placket = cat == _CAT["henley"]
    canvas.paint(
        placket & ~multi,
        lambda sel: _Profile(
            cx[sel],
            np.stack([cut_bottom - 0.01 * s, cut_bottom + 0.07 * s], 1)[sel],
            np.stack([0.008 * s, 0.008 * s], 1)[sel],
        ),
        3,
        solid(accent_rgb),
    )
    band = cat == _CAT["jersey"]
    canvas.paint(
        band,
        lambda sel: _Intersect(
            _Profile(cx[sel], torso_ky[sel], torso_hw[sel]),
            _Profile(cx[sel], np.stack([armpit_y, armpit_y + 0.035 * s], 1)[sel], np.ones((sel.size, 2))),
        ),
        3,
        solid(contrast_rgb),
        rim=0.3,
        rim_width=rim_w,
    )
    ribbed = ((cat == _CAT["sweater"]) | (cat == _CAT["bomber"]) | (cat == _CAT["hoodie"])) & ~multi
    canvas.paint(
        ribbed,
        lambda sel: _Intersect(
            _Profile(cx[sel], torso_ky[sel], torso_hw[sel]),
            _Profile(cx[sel], np.stack([hem_y - 0.03 * s, hem_y + 0.01], 1)[sel], np.ones((sel.size, 2))),
        ),
        3,
        solid(accent_rgb),
        rim=0.3,
        rim_width=rim_w,
    )

    # --- 6. sleeves over the arms (same colour and label as the torso garment) ---
    kimono = cat == _CAT["kimono"]
    short_end = 0.3 + 0.3 * U("sleeve_len")
    long_end = np.where(kimono, 0.45 + 0.3 * U("sleeve_len"), 0.97)
    sleeve_extra = np.where(kimono, 0.022 * s, 0.007 * s + 0.35 * loose)

    def sleeve_shape(tag, sel):
        # A tube over the arm, cut flat at its end by a half-plane across the arm.
        a = arm[tag]
        is_long = geom[sel] == 0
        t = np.where(is_long, 1.0, short_end[sel])
        ex, ey = a["ex"][sel], a["ey"][sel]
        jx, jy = a["jx"][sel], joint_y[sel]
        extra = sleeve_extra[sel]
        ux, uy = unit(ex - jx, ey - jy)
        end_r = arm_r0[sel] + t * (arm_r1[sel] - arm_r0[sel]) + extra * np.where(is_long, 1.0, 1.25)
        reach = np.where(is_long, 0.0, end_r)  # a short sleeve's tube runs past the cut
        upper = _Capsule(
            jx,
            jy,
            jx + t * (ex - jx) + reach * ux,
            jy + t * (ey - jy) + reach * uy,
            arm_r0[sel] + extra,
            end_r,
        )
        fx, fy = unit(a["wx"][sel] - ex, a["wy"][sel] - ey)
        tf = long_end[sel]
        cut_x = np.where(is_long, ex + tf * (a["wx"][sel] - ex), jx + t * (ex - jx))
        cut_y = np.where(is_long, ey + tf * (a["wy"][sel] - ey), jy + t * (ey - jy))
        fr1 = arm_r1[sel] + tf * (arm_r2[sel] - arm_r1[sel]) + extra * np.where(kimono[sel], 2.2, 0.8)
        none = -1.0  # short sleeves have no forearm part: a negative radius is empty
        fore = _Capsule(
            ex,
            ey,
            cut_x + fr1 * fx,
            cut_y + fr1 * fy,
            np.where(is_long, end_r, none),
            np.where(is_long, fr1, none),
        )
        cut = _HalfPlane(cut_x, cut_y, np.where(is_long, fx, ux), np.where(is_long, fy, uy))
        return _Intersect(_Union(upper, fore), cut)

    for tag in ("l", "r"):
        canvas.paint(
            ~sleeveless,
            lambda sel, tag=tag: sleeve_shape(tag, sel),
            torso_label,
            garment_fill,
            rim=0.3,
            rim_width=rim_w,
        )
        cuff = (
            (geom == 0)
            & ((cat == _CAT["sweater"]) | (cat == _CAT["bomber"]) | (cat == _CAT["hoodie"]))
            & ~multi
        )
        a = arm[tag]
        canvas.paint(
            cuff & ~kimono,
            lambda sel, a=a: _Capsule(
                (a["ex"] + 0.86 * (a["wx"] - a["ex"]))[sel],
                (a["ey"] + 0.86 * (a["wy"] - a["ey"]))[sel],
                a["wx"][sel],
                a["wy"][sel],
                (arm_r2 + sleeve_extra + 0.002 * s)[sel],
                (arm_r2 + sleeve_extra + 0.002 * s)[sel],
            ),
            3,
            solid(accent_rgb),
            rim=0.3,
            rim_width=rim_w,
        )
    # Hands in front of sleeves and torso.
    for tag in ("l", "r"):
        canvas.paint(
            everyone, lambda sel, tag=tag: hand_shape(tag, sel), 6, solid(skin), rim=0.25, rim_width=rim_w
        )

    # Poncho: a cape over shoulders and upper arms.
    poncho = cat == _CAT["poncho"]

    def cape(sel):
        ky = np.stack([shoulder_y - 0.018 * s, shoulder_y + 0.03 * s, hem_y], 1)[sel]
        hw = np.stack([neck_hw + 0.014 * s, shoulder_hw + 0.03 * s, shoulder_hw + 0.075 * s], 1)[sel]
        return _Intersect(_Profile(cx[sel], ky, hw), neckline(sel), negate=True)

    canvas.paint(poncho, cape, 3, garment_fill, rim=0.3, rim_width=rim_w)

    # Hood (hoodie; parka half the time): a ring behind the neck.
    hood = (cat == _CAT["hoodie"]) | ((cat == _CAT["parka"]) & (U("hood") < 0.5))
    canvas.paint(
        hood,
        lambda sel: _Intersect(
            _Ellipse(cx[sel], (shoulder_y - 0.012 * s)[sel], (neck_hw + 0.05 * s)[sel], (0.05 * s)[sel]),
            _Profile(cx[sel], np.stack([head_cy, shoulder_y + 0.01 * s], 1)[sel], np.ones((sel.size, 2))),
        ),
        3,
        garment_fill,
        rim=0.35,
        rim_width=rim_w,
    )

    # --- 7. neck and chest skin inside the neckline, face ---
    def neck(sel):
        ky = np.stack([head_cy, shoulder_y - 0.02 * s, cut_bottom + 0.01 * s], 1)[sel]
        hw = np.stack([neck_hw, neck_hw, cut_w + 0.01 * s], 1)[sel]
        return _Intersect(_Profile(cx[sel], ky, hw), neckline(sel))

    canvas.paint(everyone, neck, 2, solid(skin * 0.93), rim=0.2, rim_width=rim_w)

    # Long hair falling in front of the shoulders.
    temple_y = head_cy - 0.1 * head_ry
    front_end = hair_end - 0.02 * s
    front = lambda side, sel: _Capsule(  # noqa: E731
        (cx + side * head_rx * 0.9)[sel],
        temple_y[sel],
        (cx + side * head_rx * 1.25)[sel],
        front_end[sel],
        (0.02 * s)[sel],
        (0.017 * s)[sel],
    )
    canvas.paint(
        long_hair & (U("hair_len") > 0.25),
        lambda sel: _Union(front(-1, sel), front(1, sel)),
        1,
        solid(hair_rgb),
        rim=0.3,
        rim_width=rim_w,
    )

    canvas.paint(
        everyone,
        lambda sel: _Ellipse(cx[sel], head_cy[sel], head_rx[sel], head_ry[sel]),
        2,
        solid(skin),
        rim=0.22,
        rim_width=rim_w,
    )

    # Eyes and mouth (face colour details), or sunglasses (ATR counts them as face).
    sunglasses = attrs["sunglasses"].astype(bool)
    eye_y = head_cy - 0.004 * s
    eye_dx = head_rx * 0.42
    eye_rgb = np.tile([[0.12, 0.09, 0.08]], (n, 1))
    eyes = lambda sel: _Union(  # noqa: E731
        _Ellipse((cx - eye_dx)[sel], eye_y[sel], (0.008 * s)[sel], (0.006 * s)[sel]),
        _Ellipse((cx + eye_dx)[sel], eye_y[sel], (0.008 * s)[sel], (0.006 * s)[sel]),
    )
    canvas.paint(~sunglasses, eyes, 2, solid(eye_rgb))
    mouth_rgb = np.clip(skin * np.array([0.85, 0.55, 0.55]), 0, 1)
    canvas.paint(
        everyone,
        lambda sel: _Ellipse(cx[sel], (head_cy + 0.55 * head_ry)[sel], (0.013 * s)[sel], (0.0045 * s)[sel]),
        2,
        solid(mouth_rgb),
    )
    glass_rgb = np.tile([[0.05, 0.05, 0.07]], (n, 1))
    glasses = lambda sel: _Union(  # noqa: E731
        _Ellipse((cx - eye_dx)[sel], eye_y[sel], (0.019 * s)[sel], (0.013 * s)[sel]),
        _Ellipse((cx + eye_dx)[sel], eye_y[sel], (0.019 * s)[sel], (0.013 * s)[sel]),
        _Capsule(
            (cx - eye_dx)[sel], eye_y[sel], (cx + eye_dx)[sel], eye_y[sel], (0.004 * s)[sel], (0.004 * s)[sel]
        ),
    )
    canvas.paint(sunglasses, glasses, 2, solid(glass_rgb), rim=0.2, rim_width=0.01 * s)

    # --- 8. hair on the head and a hat (ATR counts hats as hair) ---
    hairline = head_cy - np.where(male, 0.45, 0.3) * head_ry
    cap_ry = head_ry * np.where(male, 0.9, 0.96)

    def hair_cap(sel):
        cap = _Ellipse(cx[sel], (head_cy - 0.1 * head_ry)[sel], (head_rx * 1.08)[sel], cap_ry[sel])
        above = _Profile(cx[sel], np.stack([head_cy - 2 * head_ry, hairline], 1)[sel], np.ones((sel.size, 2)))
        return _Intersect(cap, above)

    canvas.paint(everyone, hair_cap, 1, solid(hair_rgb), rim=0.3, rim_width=rim_w)
    hat_rgb = _jitter_rgb(
        _choose(_SOLID_RGB[[0, 1, 2, 5, 6, 10, 11, 12]], U("hat_color")),
        u,
        "color_g",
        "color_b",
        "color_r",
        "hat_color",
    )
    brim_y = head_cy - 0.55 * head_ry

    def hat_shape(sel):
        crown = _Intersect(
            _Ellipse(cx[sel], brim_y[sel], (head_rx * 0.98)[sel], (head_ry * 0.62)[sel]),
            _Profile(cx[sel], np.stack([head_cy - 2 * head_ry, brim_y], 1)[sel], np.ones((sel.size, 2))),
        )
        brim = _Ellipse(cx[sel], brim_y[sel], (head_rx * 1.55)[sel], (0.012 * s)[sel])
        return _Union(crown, brim)

    canvas.paint(hat, hat_shape, 1, solid(hat_rgb), rim=0.3, rim_width=rim_w)

    images = np.clip(canvas.image * np.float32(255.0) + np.float32(0.5), 0, 255).astype(np.uint8)
    return images, canvas.labels


# ------------------------------------------------------------------------------------------------------------
# Dataset
# ------------------------------------------------------------------------------------------------------------


class SyntheticMannequins(torch.utils.data.Dataset):
    """Procedurally drawn people following the FashionGAN sample contract (lazy, deterministic, fast).

    Args:
        split: ``"train"`` or ``"test"``; the two draw from disjoint random streams.
        image_size: side ``S`` of the square pictures (>= 16; 64 and 128 are the usual).
        num_train: number of training samples.
        num_test: number of test samples.
        seed: the dataset seed; sample ``i`` is a pure function of ``(seed, split, i)``.
        chunk: how many samples :meth:`get_batch` draws at once (memory/speed trade-off).

    Attributes:
        split: ``"train"`` or ``"test"``.
        image_size: height = width of the samples.
        redress_pairs: int64 ``(N,)`` (test split): person ``i`` is redressed with the sentence of
            ``redress_pairs[i]``; a fixed derangement that mostly pairs different colours or garments.

    Examples:
        >>> ds = SyntheticMannequins(split="train", image_size=64, num_train=100)
        >>> item = ds[3]
        >>> item["image"].shape, item["labels"].dtype, item["word_ids"].shape
        (torch.Size([3, 64, 64]), torch.uint8, torch.Size([20]))
        >>> batch = ds.get_batch([5, 1, 5])
        >>> batch["image"].shape, batch["index"].tolist()
        (torch.Size([3, 3, 64, 64]), [5, 1, 5])
    """

    def __init__(
        self,
        *,
        split: str = "train",
        image_size: int = 128,
        num_train: int = 20000,
        num_test: int = 2000,
        seed: int = 0,
        chunk: int = 32,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split: expected one of {tuple(SPLITS)}, got {split!r}")
        check_positive_int("image_size", image_size)
        if not 16 <= image_size <= 1024:
            raise ValueError(f"image_size: expected an int in [16, 1024], got {image_size}")
        check_positive_int("num_train", num_train)
        check_positive_int("num_test", num_test)
        check_positive_int("chunk", chunk)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise TypeError(f"seed: expected a non-negative int, got {seed!r}")
        self.split = split
        self.image_size = image_size
        self.num_train = num_train
        self.num_test = num_test
        self.seed = seed
        self.chunk = chunk
        self.vocabulary = official_vocabulary()

    def __len__(self) -> int:
        return self.num_train if self.split == "train" else self.num_test

    def __repr__(self) -> str:
        return (
            f"SyntheticMannequins(split={self.split!r}, image_size={self.image_size}, "
            f"num_train={self.num_train}, num_test={self.num_test}, seed={self.seed})"
        )

    def attributes(self, indices: Any) -> dict[str, np.ndarray]:
        """The attributes of ``indices`` (see :func:`sample_attributes`), without drawing."""
        return sample_attributes(self.seed, self.split, check_indices("indices", indices, len(self)))

    def sentences(self, indices: Any) -> list[str]:
        """The sentences of ``indices``, without drawing."""
        attrs = self.attributes(indices)
        return [_sentence(attrs, j) for j in range(len(attrs["gender"]))]

    def get_batch(self, indices: Any) -> dict[str, Any]:
        """Draw and collate the samples ``indices`` (any order, repeats allowed): the fast path.

        Returns the batch layout of :func:`fashion_gan.data.contract.collate`.
        """
        idx = check_indices("indices", indices, len(self))
        attrs = sample_attributes(self.seed, self.split, idx)
        b, s = idx.size, self.image_size
        images = np.empty((b, 3, s, s), np.uint8)
        labels = np.empty((b, s, s), np.uint8)
        # Draw people of similar size and place together: each shape is painted over the window covering it
        # in every sample of a chunk, so similar chunks paint smaller windows. Samples do not depend on order.
        u = attrs["u"]
        order = np.lexsort((u[:, _U["pos_x"]], np.floor(u[:, _U["body_height"]] * 4)))
        for start in range(0, b, self.chunk):
            rows = order[start : start + self.chunk]
            images[rows], labels[rows] = render_mannequins({k: v[rows] for k, v in attrs.items()}, s)
        sentences = [_sentence(attrs, j) for j in range(b)]
        word_ids = torch.zeros(b, MAX_WORDS, dtype=torch.int64)
        lengths = []
        for j, sentence in enumerate(sentences):
            ids = self.vocabulary.encode(sentence)
            word_ids[j, : len(ids)] = torch.as_tensor(ids, dtype=torch.int64)
            lengths.append(len(ids))
        wearer = np.stack([attrs[k] for k in WEARER_ATTRIBUTES], 1).astype(np.float32)
        return {
            "image": torch.from_numpy(images),
            "labels": torch.from_numpy(labels),
            "word_ids": word_ids,
            "length": torch.as_tensor(lengths, dtype=torch.int64),
            "sentence": sentences,
            "category": torch.from_numpy(attrs["category"]),
            "color": torch.from_numpy(attrs["color"]),
            "sleeve": torch.from_numpy(attrs["sleeve"]),
            "gender": torch.from_numpy(attrs["gender"]),
            "wearer": torch.from_numpy(wearer),
            "index": torch.from_numpy(idx.copy()),
        }

    def __getitem__(self, index: int) -> dict[str, Any]:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index: expected an int, got {type(index).__name__}")
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index: expected an int in [{-n}, {n - 1}], got {index}")
        return uncollate(self.get_batch([int(index) % n]))[0]

    def __getitems__(self, indices: list[int]) -> list[dict[str, Any]]:
        """Batched fetch used by ``torch.utils.data.DataLoader``: one vectorised draw per batch."""
        return uncollate(self.get_batch(indices))

    @cached_property
    def redress_pairs(self) -> torch.Tensor:
        """Partner index whose sentence redresses person ``i``; a derangement of the split (see class doc)."""
        return torch.from_numpy(_redress_pairs(self.attributes(np.arange(len(self))), self.seed, self.split))


def _redress_pairs(attrs: dict[str, np.ndarray], seed: int, split: str) -> np.ndarray:
    """A derangement (Sattolo cycle), improved by swaps so that partners mostly differ in colour or type."""
    n = attrs["color"].shape[0]
    if n < 2:
        raise ValueError(f"split {split!r}: expected at least 2 samples to pair, got {n}")
    rng = np.random.default_rng([seed, SPLITS[split], 0x9A12])
    perm = np.arange(n)
    for i in range(n - 1, 0, -1):  # Sattolo: one random n-cycle, never a fixed point
        j = int(rng.integers(0, i))
        perm[i], perm[j] = perm[j], perm[i]
    key = attrs["color"] * 100 + attrs["category"]
    for _ in range(4):
        same = np.flatnonzero(key == key[perm])
        if same.size == 0:
            break
        for i in same:
            j = int(rng.integers(0, n))
            pi, pj = perm[i], perm[j]
            if i == j or pj == i or pi == j:
                continue
            if key[pj] != key[i] and key[pi] != key[j]:
                perm[i], perm[j] = pj, pi
    return perm.astype(np.int64)
