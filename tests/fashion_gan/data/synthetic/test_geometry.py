"""The body and garment layout: people inside the picture, landmarks in order, garments that fit."""

from __future__ import annotations

import numpy as np
import pytest
from fashion_gan.data.synthetic import sample_attributes
from fashion_gan.data.synthetic.geometry import Body, Outfit, unit
from fashion_gan.data.synthetic.painters import PAINTERS, Layout
from fashion_gan.data.synthetic.tables import CAT
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def layout():
    attrs = sample_attributes(3, "train", np.arange(2000))
    return attrs, Layout.from_attributes(attrs)


def test_landmarks_are_in_order_and_inside_the_picture(layout):
    _, lay = layout
    b = lay.body
    ys = [b.top, b.head_cy, b.shoulder_y, b.armpit_y, b.waist_y, b.hip_y, b.crotch_y, b.ankle_y]
    for upper, lower in zip(ys, ys[1:], strict=False):
        assert (upper < lower).all()
    assert (b.top > 0).all() and (b.hip_y < 1).all()  # tall people may leave the picture at the shins
    assert (b.ankle_y < 1.3).all()
    assert np.array_equal(b.y(0.4), b.waist_y)
    for hw in (b.shoulder_hw, b.hip_hw, 1.3 * b.head_rx):
        assert (b.cx - hw > 0).all() and (b.cx + hw < 1).all()
    assert (b.waist_hw < b.chest_hw).all() and (b.neck_hw < b.shoulder_hw).all()


def test_arms_hang_from_the_shoulders_and_stay_in_the_picture(layout):
    _, lay = layout
    b = lay.body
    left, right = b.arms
    assert left.side == -1 and right.side == 1
    for a in b.arms:
        assert (a.side * (a.jx - b.cx) > 0).all()  # each arm on its own side
        upper = np.hypot(a.ex - a.jx, a.ey - b.joint_y)
        assert np.allclose(upper, 0.165 * b.s)
        assert (a.ey > b.joint_y).all() and (a.wy > b.shoulder_y).all()  # elbows and wrists below the joint
        for x in (a.jx, a.ex, a.wx, a.hx):
            assert (x > 0).all() and (x < 1).all()
        assert np.allclose(np.hypot(a.hx - a.wx, a.hy - a.wy), 0.028 * b.s)
    dx, dy = unit(np.array([3.0]), np.array([4.0]))
    assert np.allclose([dx[0], dy[0]], [0.6, 0.8])


def test_garments_follow_the_category(layout):
    attrs, lay = layout
    o = lay.outfit
    dress = attrs["category"] == CAT["dress"]
    assert np.array_equal(o.torso_label == 4, dress)
    assert np.array_equal(o.lower_kind == -1, dress)
    assert not ((o.lower_kind == 2) & (attrs["gender"] == 1)).any()  # men wear no skirts
    assert (o.lower_kind[attrs["category"] == CAT["romper"]] == 1).all()
    assert (o.lower_kind[attrs["category"] == CAT["jumpsuit"]] == 0).all()
    known = attrs["sleeve"] != 3
    assert np.array_equal(o.sleeve_geom[known], attrs["sleeve"][known])
    assert set(np.unique(o.sleeve_geom)) == {0, 1, 2}
    assert np.array_equal(o.multi, attrs["color"] == 16)
    assert (o.hood[attrs["category"] == CAT["hoodie"]]).all()
    assert not o.hood[~np.isin(attrs["category"], [CAT["hoodie"], CAT["parka"]])].any()


def test_outlines_are_well_formed(layout):
    _, lay = layout
    b, o = lay.body, lay.outfit
    assert (np.diff(o.torso_ky, axis=1) >= 0).all() and (o.torso_hw > 0).all()
    assert (np.diff(o.cut_ky, axis=1) >= 0).all() and (o.cut_hw >= 0).all()
    assert np.array_equal(o.cut_ky[:, 0], b.head_cy)
    assert (o.cut_bottom > b.shoulder_y - 0.012 * b.s).all() and (o.cut_bottom < o.hem_y).all()
    assert (o.hem_y > b.armpit_y).all()
    assert (o.skirt_hem > b.hip_y).all() and (o.skirt_hw > b.hip_hw).all()


def test_colours_are_rgb_in_range(layout):
    _, lay = layout
    c, n = lay.colors, lay.body.n
    names = ("background", "skin", "hair", "shoes", "inner", "accent", "contrast", "hat", "eyes", "mouth")
    for name in (*names, "glasses"):
        rgb = getattr(c, name)
        assert rgb.shape == (n, 3) and rgb.min() >= 0 and rgb.max() <= 1, name
    assert (c.background > 0.9).all()
    assert c.garment.palette.shape == (n, 4, 3) and np.array_equal(c.garment.multi, lay.outfit.multi)


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 10**6), index=st.integers(0, 10**6))
def test_every_stroke_lies_across_the_picture(seed, index):
    """Horizontally, every shape of every painter lies in the picture (nothing is cut off at the sides)."""
    lay = Layout.from_attributes(sample_attributes(seed, "test", [index]))
    xs = np.arange(-0.25, 1.25, 1 / 64, dtype=np.float32).reshape(1, 1, -1)  # wider than the picture
    ys = np.arange(0.0, 1.0, 1 / 64, dtype=np.float32).reshape(1, -1, 1)
    outside = (xs[0, 0] < 0) | (xs[0, 0] > 1)
    for painter in PAINTERS:
        for stroke in painter(lay):
            inside = stroke.shape.sdf(xs, ys, 1 / 64)[0] <= 0
            assert not inside[:, outside].any(), painter.__name__


def test_layout_parts_are_built_from_attributes():
    attrs = sample_attributes(0, "train", [4, 5])
    body = Body.from_attributes(attrs)
    outfit = Outfit.from_attributes(attrs, body)
    lay = Layout.from_attributes(attrs)
    assert np.array_equal(lay.body.cx, body.cx) and np.array_equal(lay.outfit.torso_hw, outfit.torso_hw)
    assert lay.everyone.tolist() == [True, True]
