"""Where everything is: the body layout and the garment layout of a batch, derived from its attributes.

All lengths are normalised (the picture is ``[0, 1]^2``, ``y`` down) and every field is a ``(B,)`` array (one
value per sample) unless said otherwise. ``s`` is the body height from the head top to the soles (tall people
leave the picture at the shins); the body's landmarks are fractions of it below ``top``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from fashion_gan.data.synthetic.tables import CAT, CATEGORY_SHAPE, MULTI, cdf, column, pick

__all__ = ["Arm", "Body", "Outfit", "unit"]


def unit(dx: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The direction ``(dx, dy) / |(dx, dy)|``."""
    norm = np.sqrt(dx * dx + dy * dy)
    return dx / norm, dy / norm


@dataclass(frozen=True)
class Arm:
    """One arm: shoulder joint ``(jx, joint_y)``, elbow ``(ex, ey)``, wrist ``(wx, wy)``, hand ``(hx, hy)``.

    ``side`` is -1 for the arm on the left of the picture, +1 for the right one.
    """

    side: float
    jx: np.ndarray
    ex: np.ndarray
    ey: np.ndarray
    wx: np.ndarray
    wy: np.ndarray
    hx: np.ndarray
    hy: np.ndarray


@dataclass(frozen=True)
class Body:
    """The body of every sample: size, place, landmarks, half-widths (``*_hw``), limbs, hair."""

    n: int
    male: np.ndarray  # bool
    s: np.ndarray  # body height
    wf: np.ndarray  # width factor
    sw: np.ndarray  # s * wf
    cx: np.ndarray  # the body's vertical axis
    top: np.ndarray  # the head top
    head_rx: np.ndarray
    head_ry: np.ndarray
    head_cy: np.ndarray
    shoulder_y: np.ndarray
    armpit_y: np.ndarray
    waist_y: np.ndarray
    hip_y: np.ndarray
    crotch_y: np.ndarray
    ankle_y: np.ndarray
    shoulder_hw: np.ndarray
    chest_hw: np.ndarray
    waist_hw: np.ndarray
    hip_hw: np.ndarray
    neck_hw: np.ndarray
    rim_w: np.ndarray  # width of the darker rim of every shape
    hip_x: np.ndarray  # legs start at cx -/+ hip_x on hip_y
    ankle_dx: np.ndarray  # and end at cx -/+ ankle_dx on ankle_y
    leg_r0: np.ndarray
    leg_r1: np.ndarray
    joint_y: np.ndarray  # shoulder joints of the arms
    arm_r0: np.ndarray  # arm radius at the shoulder, elbow, wrist
    arm_r1: np.ndarray
    arm_r2: np.ndarray
    arms: tuple[Arm, Arm]  # left, right
    long_hair: np.ndarray  # bool
    front_hair: np.ndarray  # bool: long hair also falls in front of the shoulders
    hair_end: np.ndarray  # where long hair ends
    hat: np.ndarray  # bool
    sunglasses: np.ndarray  # bool

    def y(self, f: float | np.ndarray) -> np.ndarray:
        """The height ``top + f * s``: a fraction ``f`` of the body height below the head top."""
        return self.top + f * self.s

    @classmethod
    def from_attributes(cls, attrs: Mapping[str, np.ndarray]) -> Body:
        """The body of each sample of a checked ``sample_attributes`` dict."""
        u = attrs["u"]
        male = attrs["gender"].astype(bool)
        s = 0.96 + 0.32 * attrs["body_height"]
        wf = 0.86 + 0.34 * attrs["body_width"]
        top = 0.02 + 0.045 * column(u, "pos_y")
        head_ry = s * 0.066
        sw = s * wf
        shape = dict(
            n=u.shape[0],
            male=male,
            s=s,
            wf=wf,
            sw=sw,
            cx=0.5 + 0.07 * (2.0 * column(u, "pos_x") - 1.0),
            top=top,
            head_rx=s * np.where(male, 0.052, 0.049) * (0.94 + 0.12 * column(u, "head_w")),
            head_ry=head_ry,
            head_cy=top + head_ry,
            shoulder_y=top + 0.185 * s,
            armpit_y=top + 0.25 * s,
            waist_y=top + 0.40 * s,
            hip_y=top + 0.49 * s,
            crotch_y=top + 0.535 * s,
            ankle_y=top + 0.965 * s,
            shoulder_hw=sw * np.where(male, 0.128, 0.110),
            chest_hw=sw * np.where(male, 0.106, 0.090),
            waist_hw=sw * np.where(male, 0.092, 0.072),
            hip_hw=sw * np.where(male, 0.094, 0.102),
            neck_hw=s * np.where(male, 0.030, 0.025),
            rim_w=0.035 * s,
            hip_x=0.048 * sw,
            ankle_dx=s * (0.04 + 0.06 * column(u, "stance")),
            leg_r0=0.052 * sw,
            leg_r1=0.028 * s,
            arm_r0=0.030 * s * np.sqrt(wf),
            arm_r1=0.026 * s,
            arm_r2=0.021 * s,
        )
        long_hair = attrs["long_hair"].astype(bool)
        hair = dict(
            long_hair=long_hair,
            front_hair=long_hair & (column(u, "hair_len") > 0.25),
            hair_end=top + (0.22 + 0.16 * column(u, "hair_len")) * s,
            hat=attrs["hat"].astype(bool),
            sunglasses=attrs["sunglasses"].astype(bool),
        )
        joint_y = shape["shoulder_y"] + 0.02 * s
        joints = dict(cx=shape["cx"], s=s, shoulder_hw=shape["shoulder_hw"], joint_y=joint_y)
        hips = dict(waist_hw=shape["waist_hw"], waist_y=shape["waist_y"])
        arms = tuple(_arm(u, side, tag, **joints, **hips) for side, tag in ((-1.0, "l"), (1.0, "r")))
        return cls(**shape, **hair, joint_y=joint_y, arms=arms)


def _arm(u, side, tag, *, cx, s, shoulder_hw, joint_y, waist_hw, waist_y) -> Arm:
    """Hanging (70%), held out (20%) or a hand on the hip (10%); elbow and wrist angles drawn per arm."""
    n = u.shape[0]
    mode_u = column(u, f"arm_mode_{tag}")
    mode = np.where(mode_u < 0.7, 0, np.where(mode_u < 0.9, 1, 2))  # down, out, hand on hip
    a, b = column(u, f"arm_a_{tag}"), column(u, f"arm_b_{tag}")
    ka = np.select([mode == 0, mode == 1], [0.06 + 0.2 * a, 0.3 + 0.35 * a], 0.55 + 0.35 * a)
    kb = np.where(mode == 0, ka - 0.1 + 0.3 * b, ka + 0.1 + 0.4 * b)
    upper_len, fore_len = 0.165 * s, 0.15 * s
    jx = cx + side * (shoulder_hw - 0.022 * s)
    ux, uy = unit(side * ka, np.ones(n))
    ex, ey = jx + upper_len * ux, joint_y + upper_len * uy
    fx, fy = unit(side * kb, np.ones(n))
    wx, wy = ex + fore_len * fx, ey + fore_len * fy
    on_hip = mode == 2
    wx = np.where(on_hip, cx + side * (waist_hw + 0.03 * s), wx)
    wy = np.where(on_hip, waist_y + 0.03 * s, wy)
    hx, hy = unit(wx - ex, wy - ey)
    return Arm(side=side, jx=jx, ex=ex, ey=ey, wx=wx, wy=wy, hx=wx + 0.028 * s * hx, hy=wy + 0.028 * s * hy)


@dataclass(frozen=True)
class Outfit:
    """The garments of every sample: which kinds, and the outline of the torso garment and its neckline.

    ``torso_ky`` / ``torso_hw`` ``(B, 6)`` and ``cut_ky`` / ``cut_hw`` ``(B, 5)`` are the knots of the torso
    garment's and the neckline's vertical profiles (heights and half-widths).
    """

    category: np.ndarray
    family: np.ndarray  # 0 separate top, 1 dress, 2 romper (top + shorts), 3 jumpsuit (top + pants)
    multi: np.ndarray  # bool: a multicolour (printed) garment
    lower_kind: np.ndarray  # -1 none (a dress), 0 pants, 1 shorts, 2 skirt
    short_t: np.ndarray  # how far down the leg shorts reach (fraction of the leg)
    skirt_hem: np.ndarray
    skirt_hw: np.ndarray
    sleeve_geom: np.ndarray  # 0 long, 1 short, 2 sleeveless (an unspecified sleeve drawn as one of them)
    loose: np.ndarray  # added to the half-widths of a loose garment
    hem_y: np.ndarray
    torso_ky: np.ndarray
    torso_hw: np.ndarray
    torso_label: np.ndarray  # 3 upper clothes, 4 for a dress
    cut_w: np.ndarray  # neckline half-width
    cut_bottom: np.ndarray  # lowest point of the neckline
    cut_ky: np.ndarray
    cut_hw: np.ndarray
    open_front: np.ndarray  # bool: the inner layer shows down the middle
    inner_hw: np.ndarray
    inner_end: np.ndarray
    short_end: np.ndarray  # short sleeves end at this fraction of the upper arm
    long_end: np.ndarray  # long sleeves at this fraction of the forearm
    sleeve_extra: np.ndarray  # sleeve radius beyond the arm's
    hood: np.ndarray  # bool

    @classmethod
    def from_attributes(cls, attrs: Mapping[str, np.ndarray], body: Body) -> Outfit:
        """The garments of each sample of a checked ``sample_attributes`` dict worn on ``body``."""
        u, s = attrs["u"], body.s
        cat = attrs["category"]
        row = CATEGORY_SHAPE[cat]
        family = row[:, 5].astype(np.int64)
        sleeve = attrs["sleeve"]
        # An unspecified sleeve is drawn as any of the three.
        geom = np.where(sleeve == 3, pick(cdf([0.45, 0.35, 0.2]), column(u, "sleeve_geom")), sleeve)
        loose = row[:, 2] * s * (0.7 + 0.6 * column(u, "loose"))
        hem_y = body.y(row[:, 0] + (row[:, 1] - row[:, 0]) * column(u, "hem"))
        kimono = cat == CAT["kimono"]
        return cls(
            category=cat,
            family=family,
            multi=attrs["color"] == MULTI,
            **_lower(u, body, family),
            sleeve_geom=geom,
            loose=loose,
            hem_y=hem_y,
            **_torso(u, body, cat, family, geom == 2, loose, hem_y),
            **_neckline(u, body, row, geom == 2),
            open_front=row[:, 3] == 1,
            inner_hw=s * (0.018 + 0.02 * column(u, "inner_color")),
            inner_end=np.minimum(hem_y, body.waist_y + 0.06 * s * column(u, "hem")),
            short_end=0.3 + 0.3 * column(u, "sleeve_len"),
            long_end=np.where(kimono, 0.45 + 0.3 * column(u, "sleeve_len"), 0.97),
            sleeve_extra=np.where(kimono, 0.022 * s, 0.007 * s + 0.35 * loose),
            hood=(cat == CAT["hoodie"]) | ((cat == CAT["parka"]) & (column(u, "hood") < 0.5)),
        )


def _lower(u, body: Body, family) -> dict[str, np.ndarray]:
    """Pants, shorts or a skirt (men: pants or shorts); rompers have shorts, jumpsuits pants, dresses none."""
    lower = column(u, "lower")
    kind = np.where(
        body.male, np.where(lower < 0.75, 0, 1), np.where(lower < 0.4, 0, np.where(lower < 0.6, 1, 2))
    )
    kind = np.where(family == 2, 1, np.where(family == 3, 0, kind))
    return dict(
        lower_kind=np.where(family == 1, -1, kind),
        short_t=0.28 + 0.2 * column(u, "lower_len"),
        skirt_hem=body.y(0.58 + 0.2 * column(u, "lower_len")),
        skirt_hw=body.hip_hw * (1.05 + 0.5 * column(u, "skirt_flare")) + 0.01 * body.s,
    )


def _torso(u, body: Body, cat, family, sleeveless, loose, hem_y) -> dict[str, np.ndarray]:
    """The torso garment's profile: shoulders, chest, waist, hips (long garments) and a flared hem."""
    s, b = body.s, body
    dress = family == 1
    hem_hw = np.where(dress, b.hip_hw * (1.1 + 0.6 * column(u, "skirt_flare")) + 0.01 * s, b.hip_hw + loose)
    hem_hw = np.where(family >= 2, b.waist_hw + loose + 0.004 * s, hem_hw)
    hem_hw = np.where(cat == CAT["coat"], hem_hw + 0.02 * s, hem_hw)
    long = hem_y > b.hip_y + 0.02 * s
    mid_y = np.where(long, b.hip_y, 0.5 * (b.waist_y + hem_y))
    mid_hw = np.where(long, b.hip_hw + loose + 0.004 * s, 0.5 * (b.waist_hw + hem_hw) + loose)
    top_shoulder_hw = np.where(
        sleeveless, b.neck_hw + s * (0.03 + 0.02 * column(u, "loose")), b.shoulder_hw + 0.4 * loose
    )
    ky = np.stack(
        [b.shoulder_y - 0.018 * s, b.shoulder_y + 0.016 * s, b.armpit_y, b.waist_y, mid_y, hem_y], 1
    )
    hw = np.stack(
        [b.neck_hw + 0.012 * s, top_shoulder_hw, b.chest_hw + loose, b.waist_hw + loose, mid_hw, hem_hw], 1
    )
    return dict(torso_ky=ky, torso_hw=hw, torso_label=np.where(dress, 4, 3))


def _neckline(u, body: Body, row, sleeveless) -> dict[str, np.ndarray]:
    """A round or V neckline (some categories either), deeper for sleeveless tops."""
    s, n = body.s, body.n
    neck_kind = np.where(row[:, 4] == 2, (column(u, "neck") < 0.5).astype(float), row[:, 4])
    v_depth = s * (0.03 + 0.07 * column(u, "neck_depth")) * np.where(neck_kind == 1, 1.0, 0.6)
    v_depth = np.where(sleeveless, v_depth + 0.02 * s, v_depth)
    cut_w = body.neck_hw + 0.012 * s + np.where(sleeveless, 0.004 * s, 0.0)
    round_hw = np.stack([cut_w, cut_w, cut_w * 0.93, cut_w * 0.7, np.zeros(n)], 1)
    v_hw = np.stack([cut_w, cut_w, cut_w * 0.62, cut_w * 0.3, np.zeros(n)], 1)
    frac = np.array([0.0, 0.0, 0.4, 0.75, 1.0])
    cut_ky = (body.shoulder_y - 0.012 * s)[:, None] + frac * v_depth[:, None]
    cut_ky[:, 0] = body.head_cy
    return dict(
        cut_w=cut_w,
        cut_bottom=body.shoulder_y - 0.012 * s + v_depth,
        cut_ky=cut_ky,
        cut_hw=np.where((neck_kind == 1)[:, None], v_hw, round_hw),
    )
