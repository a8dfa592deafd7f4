"""Each painter alone: it paints whom it should, only inside its shapes, with its own labels."""

from __future__ import annotations

import numpy as np
import pytest
from fashion_gan.data.synthetic import painters as p
from fashion_gan.data.synthetic import sample_attributes
from fashion_gan.data.synthetic.canvas import Canvas
from fashion_gan.data.synthetic.tables import CAT
from hypothesis import given, settings
from hypothesis import strategies as st

SIZE = 64


def _cats(attrs, *names):
    return np.isin(attrs["category"], [CAT[n] for n in names])


#: painter -> (the labels it may write, who it paints: a function of (attrs, layout)).
EXPECTED = {
    p.back_hair: ({p.HAIR}, lambda a, lay: lay.body.long_hair),
    p.legs: ({p.LEGS}, lambda a, lay: lay.everyone),
    p.lower_garment: ({p.LOWER}, lambda a, lay: a["category"] != CAT["dress"]),
    p.arms: ({p.ARMS}, lambda a, lay: lay.everyone),
    p.torso: ({p.UPPER, p.LOWER}, lambda a, lay: lay.everyone),
    p.trims: (
        {p.UPPER},
        lambda a, lay: (
            (_cats(a, "henley", "sweater", "bomber", "hoodie") & (a["color"] != 16)) | _cats(a, "jersey")
        ),
    ),
    p.sleeves: ({p.UPPER, p.LOWER}, lambda a, lay: lay.outfit.sleeve_geom != 2),
    p.hands: ({p.ARMS}, lambda a, lay: lay.everyone),
    p.cape: ({p.UPPER}, lambda a, lay: a["category"] == CAT["poncho"]),
    p.hood: ({p.UPPER}, lambda a, lay: lay.outfit.hood),
    p.neck: ({p.FACE}, lambda a, lay: lay.everyone),
    p.front_hair: ({p.HAIR}, lambda a, lay: lay.body.front_hair),
    p.face: ({p.FACE}, lambda a, lay: lay.everyone),
    p.hair: ({p.HAIR}, lambda a, lay: lay.everyone),
    p.hat: ({p.HAIR}, lambda a, lay: a["hat"] == 1),
}


def test_every_painter_is_listed_once_back_to_front():
    assert set(p.PAINTERS) == set(EXPECTED) and len(p.PAINTERS) == len(EXPECTED)
    order = [f.__name__ for f in p.PAINTERS]
    assert order.index("back_hair") < order.index("torso") < order.index("face") < order.index("hat")
    assert order.index("sleeves") < order.index("hands")  # hands in front of the sleeves


def _paint_alone(painter, lay, size=SIZE):
    canvas = Canvas(lay.colors.background, size)
    before = canvas.image.copy()
    strokes = painter(lay)
    for stroke in strokes:
        canvas.paint(stroke)
    return canvas, before, strokes


def _full_distance(stroke, rows):
    coords = (np.arange(SIZE, dtype=np.float32) + np.float32(0.5)) / np.float32(SIZE)
    return stroke.shape.take(rows).sdf(coords.reshape(1, 1, -1), coords.reshape(1, -1, 1), 1.0 / SIZE)


@pytest.mark.parametrize("painter", p.PAINTERS, ids=lambda f: f.__name__)
@settings(deadline=None, max_examples=4)
@given(seed=st.integers(0, 10**6))
def test_a_painter_alone(painter, seed):
    attrs = sample_attributes(seed, "train", np.arange(40))
    lay = p.Layout.from_attributes(attrs)
    canvas, before, strokes = _paint_alone(painter, lay)
    labels, who = EXPECTED[painter]
    changed = (canvas.image != before).reshape(lay.body.n, -1).any(1)
    assert np.array_equal(changed, who(attrs, lay))
    assert set(np.unique(canvas.labels)) <= {0} | labels
    # Labels exactly where a stroke's shape covers half a pixel (the last stroke wins); colours change only
    # where some stroke covers a pixel at all.
    expected = np.zeros_like(canvas.labels)
    covered = np.zeros(canvas.labels.shape, bool)
    for stroke in strokes:
        rows = np.flatnonzero(stroke.mask)
        if rows.size == 0:
            continue
        d = _full_distance(stroke, rows)
        label = np.broadcast_to(np.asarray(stroke.label), (lay.body.n,))[rows]
        sub = expected[rows]
        np.copyto(sub, label.astype(np.uint8)[:, None, None], where=d <= 0)
        expected[rows] = sub
        covered[rows] |= d < 0.5 / SIZE
    assert np.array_equal(canvas.labels, expected)
    moved = (canvas.image != before).any(1)
    assert not (moved & ~covered).any()


def _arm_pixels(attrs, lay, with_sleeves):
    canvas = Canvas(lay.colors.background, SIZE)
    for painter in (p.arms, p.torso, *((p.sleeves,) if with_sleeves else ()), p.hands):
        for stroke in painter(lay):
            canvas.paint(stroke)
    return (canvas.labels == p.ARMS).reshape(lay.body.n, -1).sum(1)


def test_sleeves_cover_the_arms():
    attrs = sample_attributes(1, "train", np.arange(120))
    lay = p.Layout.from_attributes(attrs)
    bare, dressed = _arm_pixels(attrs, lay, False), _arm_pixels(attrs, lay, True)
    geom = lay.outfit.sleeve_geom
    assert np.array_equal(bare[geom == 2], dressed[geom == 2])  # sleeveless: the arms stay bare
    long_left = dressed[geom == 0] / bare[geom == 0]
    short_left = dressed[geom == 1] / bare[geom == 1]
    assert long_left.max() < 0.6 and np.median(short_left) > np.median(long_left) + 0.15
    assert (dressed[geom == 0] > 0).all()  # the hands still show


def test_glasses_are_darker_than_eyes_and_count_as_face():
    attrs = sample_attributes(2, "train", np.arange(200))
    lay = p.Layout.from_attributes(attrs)
    canvas, _, _ = _paint_alone(p.face, lay, size=128)
    dark = canvas.image.mean(1) < 0.11  # darker than any shaded skin
    has = lay.body.sunglasses
    assert has.any() and (~has).any()
    area = dark.reshape(lay.body.n, -1).sum(1)
    assert area[has].min() > area[~has].max()
    assert set(np.unique(canvas.labels[has])) == {0, p.FACE}
