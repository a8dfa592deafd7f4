"""The colours of a batch: skin, hair, garments (solid or printed), shoes, hat, face details, background.

Every colour is RGB in ``[0, 1]``, ``(B, 3)`` (one per sample), a function of the sample's uniforms: a table
entry (``tables``), jittered a little per channel and in brightness so that no two garments of a colour are
exactly alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from fashion_gan.data.synthetic.canvas import Print
from fashion_gan.data.synthetic.geometry import Outfit
from fashion_gan.data.synthetic.tables import (
    HAIR_CDF,
    HAIR_RGB,
    MULTI,
    NEUTRAL_RGB,
    SHOE_RGB,
    SKIN_RAMP,
    SOLID_RGB,
    U,
    choose,
    column,
    pattern_type,
    pick,
)

__all__ = ["Colors", "garment_print", "jitter_rgb"]


def jitter_rgb(
    rgb: np.ndarray, u: np.ndarray, r: str, g: str, b: str, v: str, amount: float = 0.06
) -> np.ndarray:
    """``rgb`` ``(B, 3)`` scaled per channel by the uniforms ``r, g, b`` and in brightness by ``v``.

    ``rgb * (1 + amount * (2 u_c - 1)) * (1 + 1.3 * amount * (2 u_v - 1))``, clipped to ``[0, 1]``.
    """
    scale = 1.0 + amount * (2.0 * u[:, [U[r], U[g], U[b]]] - 1.0)
    scale = scale * (1.0 + 1.3 * amount * (2.0 * u[:, [U[v]]] - 1.0))
    return np.clip(rgb * scale, 0.0, 1.0)


def garment_print(u: np.ndarray, s: np.ndarray, garment_rgb: np.ndarray, multi: np.ndarray) -> Print:
    """The garment fill: ``garment_rgb`` where ``multi`` is false, else a print of 2 to 4 official colours.

    The print (uniform ``pat_type``) is horizontal stripes, diagonal stripes, checks, argyle or dots, with
    8 to 22 periods per body height ``s``.
    """
    n = u.shape[0]
    palette = np.stack(
        [choose(SOLID_RGB, column(u, k)) for k in ("pat_c1", "pat_c2", "pat_c3", "color_v")], 1
    )
    palette[:, 0] = np.where(multi[:, None], palette[:, 0], garment_rgb)
    count = np.where(multi, 2 + (column(u, "pat_n") * 3).astype(np.int64), 1)
    kind = pattern_type(column(u, "pat_type"))  # h-stripes, diag stripes, checks, argyle, dots
    freq = (8.0 + 14.0 * column(u, "pat_freq")) / s
    phase = column(u, "pat_phase")
    zero = np.zeros(n)
    lean = np.where(column(u, "pat_angle") < 0.5, 1.0, -1.0)
    first = [kind == 0, kind == 1, kind == 2, kind == 3]
    a1 = np.select(first, [zero, freq * lean, freq, freq], 0)
    b1 = np.select(first, [freq, freq, zero, freq], 0)
    a2 = np.select([kind == 2, kind == 3], [zero, freq], 0)
    b2 = np.select([kind == 2, kind == 3], [freq, -freq], 0)
    c1 = np.where(kind == 4, 0.5, phase)
    c2 = np.where(kind == 4, 0.5, phase)
    count = np.where(multi & (kind == 4), 2, count)
    dot_f = np.where(kind == 4, freq * 0.8, 1.0)
    dot_r = np.where(kind == 4, 0.22 + 0.12 * column(u, "pat_phase"), 0.0)
    return Print(garment_rgb, multi, palette, count, (a1, b1, c1, a2, b2, c2), dot_f, dot_r)


@dataclass(frozen=True)
class Colors:
    """The colours (``(B, 3)``) and garment fills of every sample."""

    background: np.ndarray  # near-white (DeepFashion's mean image is about 0.94 in the corners)
    skin: np.ndarray
    hair: np.ndarray
    garment: Print  # the torso garment (and the shorts or pants of a romper or jumpsuit)
    lower: Print  # pants, shorts, skirt
    shoes: np.ndarray
    inner: np.ndarray  # the layer under an open front
    accent: np.ndarray  # placket, ribbed hems and cuffs: the garment colour, darker
    contrast: np.ndarray  # the chest band of a jersey
    hat: np.ndarray
    eyes: np.ndarray
    mouth: np.ndarray
    glasses: np.ndarray

    @classmethod
    def from_attributes(cls, attrs: Mapping[str, np.ndarray], outfit: Outfit, s: np.ndarray) -> Colors:
        """The colours of each sample of a checked ``sample_attributes`` dict; ``s`` is the body height."""
        u, color, n = attrs["u"], attrs["color"], attrs["u"].shape[0]
        skin = np.stack(
            [np.interp(attrs["skin_tone"] * 5.0, np.arange(6), SKIN_RAMP[:, c]) for c in range(3)], 1
        )
        solid = np.where(color == MULTI, 0, np.minimum(color, len(SOLID_RGB) - 1))
        garment_rgb = jitter_rgb(SOLID_RGB[solid], u, "color_r", "color_g", "color_b", "color_v")
        garment = garment_print(u, s, garment_rgb, outfit.multi)
        two_piece = outfit.family >= 2  # a romper's or jumpsuit's bottom is the garment itself
        lower_rgb = np.where(two_piece[:, None], garment_rgb, choose(NEUTRAL_RGB, column(u, "lower_color")))
        bg = 0.925 + 0.05 * column(u, "bg")
        background = np.stack(
            [
                bg + 0.012 * (2 * column(u, "bg_tint_r") - 1),
                bg,
                bg + 0.012 * (2 * column(u, "bg_tint_b") - 1),
            ],
            1,
        )
        hair = HAIR_RGB[pick(HAIR_CDF, column(u, "hair_color"))]
        hat = choose(SOLID_RGB[[0, 1, 2, 5, 6, 10, 11, 12]], column(u, "hat_color"))
        return cls(
            background=np.clip(background, 0, 1),
            skin=skin,
            hair=jitter_rgb(hair, u, "color_b", "color_r", "color_g", "hair_len", 0.05),
            garment=garment,
            lower=garment.recolor(lower_rgb, outfit.multi & two_piece),
            shoes=choose(SHOE_RGB, column(u, "shoe_color")),
            inner=choose(NEUTRAL_RGB[[2, 3, 5, 6]], column(u, "inner_color")),
            accent=np.clip(garment_rgb * 0.72, 0, 1),
            contrast=choose(SOLID_RGB[[2, 5, 0, 1, 9]], column(u, "inner_color")),
            hat=jitter_rgb(hat, u, "color_g", "color_b", "color_r", "hat_color"),
            eyes=np.tile([[0.12, 0.09, 0.08]], (n, 1)),
            mouth=np.clip(skin * np.array([0.85, 0.55, 0.55]), 0, 1),
            glasses=np.tile([[0.05, 0.05, 0.07]], (n, 1)),
        )
