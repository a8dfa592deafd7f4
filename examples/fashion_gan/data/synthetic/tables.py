"""The tables the synthetic mannequins are drawn from: colours, official class frequencies, garment shapes.

Also the names of the uniform random numbers each sample draws (``U_NAMES``; one column of ``u`` each).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fashion_gan.data.contract import CATEGORY_NAMES, COLOR_NAMES

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
SOLID_RGB = np.array([c for c in COLOR_RGB if c is not None], dtype=np.float64)  # (16, 3)
MULTI = COLOR_NAMES.index("multicolor")

# How often each class occurs among the 78,979 official people (``cate_new`` and ``color_`` of
# ``language_original.mat``), women and men apart; the draws flatten them by a square root so that rare
# classes still appear.
CATEGORY_COUNTS_F = np.array(
    [2598, 8967, 76, 4466, 67, 1047, 3344, 98, 263, 306, 4128, 5416, 10130, 3967, 664, 23200, 774, 767, 3797],
    float,
)
CATEGORY_COUNTS_M = np.array(
    [243, 111, 66, 351, 249, 410, 561, 58, 22, 0, 310, 342, 2114, 33, 14, 0, 0, 0, 0], float
)
COLOR_COUNTS = np.array(
    [2907, 6715, 12663, 3442, 687, 12590, 841, 1563, 1198, 1174, 651, 7345, 1218, 1, 34, 24, 25926], float
)
# Official sleeve counts per category (long, short, sleeveless, unspecified).
SLEEVE_COUNTS = np.array(
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


def cdf(weights: np.ndarray | Sequence[float]) -> np.ndarray:
    """Cumulative distribution ``(..., K)`` of non-negative ``weights`` along the last axis (last entry 1)."""
    w = np.asarray(weights, float)
    c = np.cumsum(w, axis=-1)
    return c / c[..., -1:]


CAT_CDF_F = cdf(np.sqrt(CATEGORY_COUNTS_F))
CAT_CDF_M = cdf(np.sqrt(CATEGORY_COUNTS_M))
COLOR_CDF = cdf(np.sqrt(COLOR_COUNTS))
SLEEVE_CDF = cdf(SLEEVE_COUNTS**0.75 + 1.0)

SKIN_RAMP = np.array(
    [
        [0.98, 0.86, 0.76],
        [0.93, 0.76, 0.63],
        [0.82, 0.62, 0.47],
        [0.64, 0.45, 0.32],
        [0.45, 0.30, 0.20],
        [0.30, 0.20, 0.14],
    ]
)
HAIR_RGB = np.array(
    [
        [0.08, 0.06, 0.05],
        [0.22, 0.14, 0.09],
        [0.40, 0.26, 0.15],
        [0.55, 0.25, 0.12],
        [0.86, 0.73, 0.46],
        [0.62, 0.60, 0.58],
    ]
)
HAIR_CDF = cdf([4, 4, 3, 1, 2, 0.6])
NEUTRAL_RGB = np.array(
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
SHOE_RGB = np.array(
    [[0.06, 0.06, 0.06], [0.35, 0.22, 0.12], [0.93, 0.93, 0.92], [0.30, 0.30, 0.32], [0.65, 0.12, 0.12]]
)

# Per category: (hem low, hem high) as a fraction of the body height from the head top, looseness (fraction of
# the body height added to the half-width), open front (inner layer shows), neckline (0 round, 1 V, 2 either),
# family (0 separate top, 1 dress, 2 romper: top + shorts, 3 jumpsuit: top + pants).
CATEGORY_SHAPE = np.array(
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
#: Category name -> 0-based category id.
CAT = {name: i for i, name in enumerate(CATEGORY_NAMES)}


#: Names of the uniform random numbers drawn per sample (one column of ``u`` each).
U_NAMES = (
    "gender category sleeve color color_r color_g color_b color_v sleeve_geom sleeve_len long_hair "
    "hair_color hair_len hat hat_color sunglasses skin body_width body_height pos_x pos_y head_w arm_mode_l "
    "arm_mode_r "
    "arm_a_l arm_a_r arm_b_l arm_b_r stance lower lower_color lower_len shoe_color hem loose neck neck_depth "
    "inner_color pat_type pat_freq pat_phase pat_angle pat_c1 pat_c2 pat_c3 pat_n bg bg_tint_r bg_tint_b "
    "subject order multi_word suffix eyes hood skirt_flare"
).split()
#: Column of each uniform in ``u``.
U = {name: i for i, name in enumerate(U_NAMES)}
#: Number of uniforms per sample.
NUM_U = len(U_NAMES)


def column(u: np.ndarray, name: str) -> np.ndarray:
    """The uniform ``name`` (one of ``U_NAMES``) of every sample: column ``U[name]`` of ``u`` ``(B, U)``."""
    return u[:, U[name]]


def pick(table_cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw of a class per sample: ``table_cdf`` ``(K,)`` or ``(B, K)``, ``u`` ``(B,)``."""
    if table_cdf.ndim == 1:
        return np.minimum(np.searchsorted(table_cdf, u, side="right"), table_cdf.shape[-1] - 1)
    return np.minimum((u[:, None] >= table_cdf).sum(1), table_cdf.shape[-1] - 1)


def choose(table: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row ``floor(u * len(table))`` of ``table`` per sample (a uniform choice among the rows)."""
    return table[np.minimum((u * len(table)).astype(np.int64), len(table) - 1)]


#: The prints of multicolour garments: horizontal stripes, diagonal stripes, checks, argyle, dots.
NUM_PATTERNS = 5


def pattern_type(u: np.ndarray | float) -> np.ndarray:
    """Which print (0..4, see ``NUM_PATTERNS``) the uniform ``pat_type`` selects."""
    return np.minimum((np.asarray(u) * NUM_PATTERNS).astype(np.int64), NUM_PATTERNS - 1)
