"""One painter per body part or garment: each turns a ``Layout`` into the strokes that draw its part.

``PAINTERS`` lists them back to front; painting their strokes in that order on a ``Canvas`` draws the
mannequins (later strokes cover earlier ones, pixels and labels alike). Every stroke writes one official
label id (``fashion_gan.data.contract.LABEL_NAMES``): hats count as hair and sunglasses as face, as in the
ATR parsing labels the official label maps come from, and a dress is lower clothes throughout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from fashion_gan.data.synthetic.canvas import Solid, Stroke
from fashion_gan.data.synthetic.colors import Colors
from fashion_gan.data.synthetic.geometry import Arm, Body, Outfit, unit
from fashion_gan.data.synthetic.shapes import Capsule, Ellipse, HalfPlane, Intersect, Profile, Union
from fashion_gan.data.synthetic.tables import CAT

__all__ = ["Layout", "PAINTERS", "HAIR", "FACE", "UPPER", "LOWER", "LEGS", "ARMS"]

#: Official label ids (``LABEL_NAMES`` order; 0 is the background).
HAIR, FACE, UPPER, LOWER, LEGS, ARMS = range(1, 7)


@dataclass(frozen=True)
class Layout:
    """Everything a painter reads: the body, the garments and the colours of a batch."""

    body: Body
    outfit: Outfit
    colors: Colors

    @classmethod
    def from_attributes(cls, attrs: Mapping[str, np.ndarray]) -> Layout:
        """The layout of each sample of a checked ``sample_attributes`` dict."""
        body = Body.from_attributes(attrs)
        outfit = Outfit.from_attributes(attrs, body)
        return cls(body, outfit, Colors.from_attributes(attrs, outfit, body.s))

    @property
    def everyone(self) -> np.ndarray:
        """A mask selecting every sample."""
        return np.ones(self.body.n, bool)


def _above(cx: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> Profile:
    """A band between heights ``y0`` and ``y1`` wider than the picture (to cut other shapes with)."""
    return Profile(cx, np.stack([y0, y1], 1), np.ones((cx.shape[0], 2)))


def _neckline(lay: Layout) -> Profile:
    o = lay.outfit
    return Profile(lay.body.cx, o.cut_ky, o.cut_hw)


def back_hair(lay: Layout) -> list[Stroke]:
    """Long hair behind the body, from the crown to ``hair_end``."""
    b = lay.body
    ky = np.stack([b.head_cy - 0.85 * b.head_ry, b.head_cy, b.shoulder_y, b.hair_end], 1)
    hw = np.stack([b.head_rx * 1.1, b.head_rx * 1.25, b.head_rx * 1.45, b.head_rx * 1.3], 1)
    return [Stroke(b.long_hair, Profile(b.cx, ky, hw), HAIR, Solid(lay.colors.hair), 0.3, b.rim_w)]


def legs(lay: Layout) -> list[Stroke]:
    """Two tapered legs from the hips to the ankles, and shoes."""
    b = lay.body

    def leg(side):
        return Capsule(
            b.cx + side * b.hip_x, b.hip_y, b.cx + side * b.ankle_dx, b.ankle_y, b.leg_r0, b.leg_r1
        )

    def shoe(side):
        x = b.cx + side * (b.ankle_dx + 0.008 * b.s)
        return Ellipse(x, b.ankle_y + 0.016 * b.s, 0.040 * b.s, 0.022 * b.s)

    return [
        Stroke(lay.everyone, Union(leg(-1), leg(1)), LEGS, Solid(lay.colors.skin), 0.25, b.rim_w),
        Stroke(lay.everyone, Union(shoe(-1), shoe(1)), LEGS, Solid(lay.colors.shoes), 0.3, b.rim_w),
    ]


def _pant_leg(b: Body, side: int, t_end: float | np.ndarray, extra: np.ndarray) -> Capsule:
    """A tube over a leg from the hip to the fraction ``t_end`` of the way to the ankle."""
    ax, ay = b.cx + side * b.hip_x, b.hip_y
    bx = ax + t_end * (b.cx + side * b.ankle_dx - ax)
    by = ay + t_end * (b.ankle_y - 0.012 * b.s - ay)
    r1 = b.leg_r0 + t_end * (b.leg_r1 - b.leg_r0)
    return Capsule(ax, ay, bx, by, b.leg_r0 + extra, r1 + extra * 1.2)


def lower_garment(lay: Layout) -> list[Stroke]:
    """Pants, shorts or a skirt (or the bottom of a romper or jumpsuit): label lower clothes."""
    b, o, s = lay.body, lay.outfit, lay.body.s
    seat = Profile(
        b.cx,
        np.stack([b.waist_y, b.hip_y, b.crotch_y + 0.02 * s], 1),
        np.stack([b.waist_hw + 0.006 * s, b.hip_hw + 0.01 * s, b.hip_hw + 0.004 * s], 1),
    )
    pants = Union(seat, _pant_leg(b, -1, 1.0, 0.012 * s), _pant_leg(b, 1, 1.0, 0.012 * s))
    shorts = Union(seat, _pant_leg(b, -1, o.short_t, 0.02 * s), _pant_leg(b, 1, o.short_t, 0.02 * s))
    skirt = Profile(
        b.cx,
        np.stack([b.waist_y, b.hip_y, o.skirt_hem], 1),
        np.stack([b.waist_hw + 0.005 * s, b.hip_hw + 0.012 * s, o.skirt_hw], 1),
    )
    fill = lay.colors.lower
    return [
        Stroke(o.lower_kind == 0, pants, LOWER, fill, 0.3, b.rim_w),
        Stroke(o.lower_kind == 1, shorts, LOWER, fill, 0.3, b.rim_w),
        Stroke(o.lower_kind == 2, skirt, LOWER, fill, 0.25, b.rim_w),
    ]


def _hand(b: Body, a: Arm) -> Ellipse:
    return Ellipse(a.hx, a.hy, 0.026 * b.s, 0.03 * b.s)


def arms(lay: Layout) -> list[Stroke]:
    """Bare arms (shoulder, upper arm, forearm, hand), hanging, held out or with a hand on the hip."""
    b = lay.body
    strokes = []
    for a in b.arms:
        shoulder = Capsule(
            b.cx + a.side * b.neck_hw, b.shoulder_y + 0.008 * b.s, a.jx, b.joint_y, 0.02 * b.s, b.arm_r0
        )
        upper = Capsule(a.jx, b.joint_y, a.ex, a.ey, b.arm_r0, b.arm_r1)
        fore = Capsule(a.ex, a.ey, a.wx, a.wy, b.arm_r1, b.arm_r2)
        shape = Union(shoulder, upper, fore, _hand(b, a))
        strokes.append(Stroke(lay.everyone, shape, ARMS, Solid(lay.colors.skin), 0.25, b.rim_w))
    return strokes


def _torso_band(lay: Layout, y0: np.ndarray, y1: np.ndarray) -> Intersect:
    """The part of the torso garment between heights ``y0`` and ``y1``."""
    b, o = lay.body, lay.outfit
    return Intersect(Profile(b.cx, o.torso_ky, o.torso_hw), _above(b.cx, y0, y1))


def torso(lay: Layout) -> list[Stroke]:
    """The torso garment (a dress: lower clothes) less its neckline; an open front shows the inner layer."""
    b, o, c, s = lay.body, lay.outfit, lay.colors, lay.body.s
    body = Intersect(Profile(b.cx, o.torso_ky, o.torso_hw), _neckline(lay), negate=True)
    inner = Intersect(
        Profile(
            b.cx,
            np.stack([b.shoulder_y, o.cut_bottom + 0.02 * s, o.inner_end], 1),
            np.stack([o.cut_w + 0.004 * s, o.inner_hw, o.inner_hw * 0.6], 1),
        ),
        _neckline(lay),
        negate=True,
    )
    return [
        Stroke(lay.everyone, body, o.torso_label, c.garment, 0.3, b.rim_w),
        Stroke(o.open_front, inner, UPPER, Solid(c.inner), 0.2, b.rim_w),
    ]


def trims(lay: Layout) -> list[Stroke]:
    """Details that change colours, not labels: henley placket, jersey chest band, ribbed hems."""
    b, o, c, s = lay.body, lay.outfit, lay.colors, lay.body.s
    cat = o.category
    placket = Profile(
        b.cx,
        np.stack([o.cut_bottom - 0.01 * s, o.cut_bottom + 0.07 * s], 1),
        np.stack([0.008 * s, 0.008 * s], 1),
    )
    ribbed = ((cat == CAT["sweater"]) | (cat == CAT["bomber"]) | (cat == CAT["hoodie"])) & ~o.multi
    return [
        Stroke((cat == CAT["henley"]) & ~o.multi, placket, UPPER, Solid(c.accent)),
        Stroke(
            cat == CAT["jersey"],
            _torso_band(lay, b.armpit_y, b.armpit_y + 0.035 * s),
            UPPER,
            Solid(c.contrast),
            0.3,
            b.rim_w,
        ),
        Stroke(
            ribbed, _torso_band(lay, o.hem_y - 0.03 * s, o.hem_y + 0.01), UPPER, Solid(c.accent), 0.3, b.rim_w
        ),
    ]


def sleeve_shape(lay: Layout, a: Arm) -> Intersect:
    """A tube over the arm ``a``, cut flat at its end by a half-plane across the arm.

    A long sleeve covers the upper arm and most of the forearm; a short one ends on the upper arm.
    """
    b, o = lay.body, lay.outfit
    is_long = o.sleeve_geom == 0
    t = np.where(is_long, 1.0, o.short_end)
    jy, extra = b.joint_y, o.sleeve_extra
    ux, uy = unit(a.ex - a.jx, a.ey - jy)
    end_r = b.arm_r0 + t * (b.arm_r1 - b.arm_r0) + extra * np.where(is_long, 1.0, 1.25)
    reach = np.where(is_long, 0.0, end_r)  # a short sleeve's tube runs past the cut
    upper = Capsule(
        a.jx,
        jy,
        a.jx + t * (a.ex - a.jx) + reach * ux,
        jy + t * (a.ey - jy) + reach * uy,
        b.arm_r0 + extra,
        end_r,
    )
    fx, fy = unit(a.wx - a.ex, a.wy - a.ey)
    tf = o.long_end
    cut_x = np.where(is_long, a.ex + tf * (a.wx - a.ex), a.jx + t * (a.ex - a.jx))
    cut_y = np.where(is_long, a.ey + tf * (a.wy - a.ey), jy + t * (a.ey - jy))
    kimono = o.category == CAT["kimono"]
    fr1 = b.arm_r1 + tf * (b.arm_r2 - b.arm_r1) + extra * np.where(kimono, 2.2, 0.8)
    none = -1.0  # short sleeves have no forearm part: a negative radius is empty
    fore = Capsule(
        a.ex,
        a.ey,
        cut_x + fr1 * fx,
        cut_y + fr1 * fy,
        np.where(is_long, end_r, none),
        np.where(is_long, fr1, none),
    )
    cut = HalfPlane(cut_x, cut_y, np.where(is_long, fx, ux), np.where(is_long, fy, uy))
    return Intersect(Union(upper, fore), cut)


def sleeves(lay: Layout) -> list[Stroke]:
    """Sleeves over the arms (the torso garment's colour and label), with ribbed cuffs on some long ones."""
    b, o, c, s = lay.body, lay.outfit, lay.colors, lay.body.s
    cat = o.category
    kimono = cat == CAT["kimono"]
    ribbed = (cat == CAT["sweater"]) | (cat == CAT["bomber"]) | (cat == CAT["hoodie"])
    cuffed = (o.sleeve_geom == 0) & ribbed & ~o.multi
    r = b.arm_r2 + o.sleeve_extra + 0.002 * s
    strokes = []
    for a in b.arms:
        strokes.append(
            Stroke(o.sleeve_geom != 2, sleeve_shape(lay, a), o.torso_label, c.garment, 0.3, b.rim_w)
        )
        cuff = Capsule(a.ex + 0.86 * (a.wx - a.ex), a.ey + 0.86 * (a.wy - a.ey), a.wx, a.wy, r, r)
        strokes.append(Stroke(cuffed & ~kimono, cuff, UPPER, Solid(c.accent), 0.3, b.rim_w))
    return strokes


def hands(lay: Layout) -> list[Stroke]:
    """The hands again, in front of sleeves and torso."""
    b = lay.body
    return [Stroke(lay.everyone, _hand(b, a), ARMS, Solid(lay.colors.skin), 0.25, b.rim_w) for a in b.arms]


def cape(lay: Layout) -> list[Stroke]:
    """A poncho's cape over the shoulders and upper arms."""
    b, o, s = lay.body, lay.outfit, lay.body.s
    ky = np.stack([b.shoulder_y - 0.018 * s, b.shoulder_y + 0.03 * s, o.hem_y], 1)
    hw = np.stack([b.neck_hw + 0.014 * s, b.shoulder_hw + 0.03 * s, b.shoulder_hw + 0.075 * s], 1)
    shape = Intersect(Profile(b.cx, ky, hw), _neckline(lay), negate=True)
    return [Stroke(o.category == CAT["poncho"], shape, UPPER, lay.colors.garment, 0.3, b.rim_w)]


def hood(lay: Layout) -> list[Stroke]:
    """A hood (hoodies; parkas half the time): a ring behind the neck."""
    b, s = lay.body, lay.body.s
    ring = Ellipse(b.cx, b.shoulder_y - 0.012 * s, b.neck_hw + 0.05 * s, 0.05 * s)
    shape = Intersect(ring, _above(b.cx, b.head_cy, b.shoulder_y + 0.01 * s))
    return [Stroke(lay.outfit.hood, shape, UPPER, lay.colors.garment, 0.35, b.rim_w)]


def neck(lay: Layout) -> list[Stroke]:
    """Neck and chest skin inside the neckline (label face)."""
    b, o, s = lay.body, lay.outfit, lay.body.s
    ky = np.stack([b.head_cy, b.shoulder_y - 0.02 * s, o.cut_bottom + 0.01 * s], 1)
    hw = np.stack([b.neck_hw, b.neck_hw, o.cut_w + 0.01 * s], 1)
    shape = Intersect(Profile(b.cx, ky, hw), _neckline(lay))
    return [Stroke(lay.everyone, shape, FACE, Solid(lay.colors.skin * 0.93), 0.2, b.rim_w)]


def front_hair(lay: Layout) -> list[Stroke]:
    """Long hair falling in front of the shoulders, one strand each side of the face."""
    b, s = lay.body, lay.body.s
    temple_y = b.head_cy - 0.1 * b.head_ry
    end = b.hair_end - 0.02 * s

    def strand(side):
        return Capsule(
            b.cx + side * b.head_rx * 0.9, temple_y, b.cx + side * b.head_rx * 1.25, end, 0.02 * s, 0.017 * s
        )

    return [Stroke(b.front_hair, Union(strand(-1), strand(1)), HAIR, Solid(lay.colors.hair), 0.3, b.rim_w)]


def face(lay: Layout) -> list[Stroke]:
    """The head, eyes and mouth, or sunglasses (which count as face)."""
    b, c, s = lay.body, lay.colors, lay.body.s
    eye_y = b.head_cy - 0.004 * s
    eye_dx = b.head_rx * 0.42

    def pair(rx, ry):
        return Ellipse(b.cx - eye_dx, eye_y, rx, ry), Ellipse(b.cx + eye_dx, eye_y, rx, ry)

    bridge = Capsule(b.cx - eye_dx, eye_y, b.cx + eye_dx, eye_y, 0.004 * s, 0.004 * s)
    mouth = Ellipse(b.cx, b.head_cy + 0.55 * b.head_ry, 0.013 * s, 0.0045 * s)
    return [
        Stroke(
            lay.everyone, Ellipse(b.cx, b.head_cy, b.head_rx, b.head_ry), FACE, Solid(c.skin), 0.22, b.rim_w
        ),
        Stroke(~b.sunglasses, Union(*pair(0.008 * s, 0.006 * s)), FACE, Solid(c.eyes)),
        Stroke(lay.everyone, mouth, FACE, Solid(c.mouth)),
        Stroke(
            b.sunglasses, Union(*pair(0.019 * s, 0.013 * s), bridge), FACE, Solid(c.glasses), 0.2, 0.01 * s
        ),
    ]


def hair(lay: Layout) -> list[Stroke]:
    """Hair on the head: a cap above the hairline (higher for men)."""
    b = lay.body
    hairline = b.head_cy - np.where(b.male, 0.45, 0.3) * b.head_ry
    cap = Ellipse(
        b.cx, b.head_cy - 0.1 * b.head_ry, b.head_rx * 1.08, b.head_ry * np.where(b.male, 0.9, 0.96)
    )
    shape = Intersect(cap, _above(b.cx, b.head_cy - 2 * b.head_ry, hairline))
    return [Stroke(lay.everyone, shape, HAIR, Solid(lay.colors.hair), 0.3, b.rim_w)]


def hat(lay: Layout) -> list[Stroke]:
    """A hat: a crown above the brim line and a flat brim (label hair)."""
    b = lay.body
    brim_y = b.head_cy - 0.55 * b.head_ry
    crown = Intersect(
        Ellipse(b.cx, brim_y, b.head_rx * 0.98, b.head_ry * 0.62),
        _above(b.cx, b.head_cy - 2 * b.head_ry, brim_y),
    )
    brim = Ellipse(b.cx, brim_y, b.head_rx * 1.55, 0.012 * b.s)
    return [Stroke(b.hat, Union(crown, brim), HAIR, Solid(lay.colors.hat), 0.3, b.rim_w)]


#: The painters, back to front.
PAINTERS: tuple[Callable[[Layout], list[Stroke]], ...] = (
    back_hair,
    legs,
    lower_garment,
    arms,
    torso,
    trims,
    sleeves,
    hands,
    cape,
    hood,
    neck,
    front_hair,
    face,
    hair,
    hat,
)
