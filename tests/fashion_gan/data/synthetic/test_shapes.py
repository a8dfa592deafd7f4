"""Signed-distance shapes: the right sign, conservative boxes, row selection that commutes with the sdf."""

from __future__ import annotations

import numpy as np
import pytest
from fashion_gan.data.synthetic.shapes import Capsule, Ellipse, HalfPlane, Intersect, Profile, Union, window
from hypothesis import given, settings
from hypothesis import strategies as st

SIZE = 48
PAD = 1.0 / SIZE
COORDS = (np.arange(SIZE, dtype=np.float32) + np.float32(0.5)) / np.float32(SIZE)
XS, YS = COORDS.reshape(1, 1, -1), COORDS.reshape(1, -1, 1)


def _grid():
    return np.broadcast_to(COORDS[None, :], (SIZE, SIZE)), np.broadcast_to(COORDS[:, None], (SIZE, SIZE))


def _random_shapes(seed: int, n: int = 5) -> list:
    """One of each primitive and composite, ``n`` samples each, with random parameters."""
    rng = np.random.default_rng(seed)
    u = lambda lo, hi: rng.uniform(lo, hi, n)  # noqa: E731
    ellipse = Ellipse(u(0.2, 0.8), u(0.2, 0.8), u(0.03, 0.3), u(0.03, 0.3))
    capsule = Capsule(u(0.1, 0.9), u(0.1, 0.9), u(0.1, 0.9), u(0.1, 0.9), u(0.01, 0.1), u(0.01, 0.1))
    ky = np.sort(rng.uniform(0.05, 0.95, (n, 4)), axis=1)
    profile = Profile(u(0.3, 0.7), ky, rng.uniform(0.0, 0.25, (n, 4)))
    angle = u(0, 2 * np.pi)
    plane = HalfPlane(u(0.2, 0.8), u(0.2, 0.8), np.cos(angle), np.sin(angle))
    return [
        ellipse,
        capsule,
        profile,
        plane,
        Union(ellipse, capsule),
        Intersect(profile, plane),
        Intersect(ellipse, capsule, negate=True),
    ]


def test_primitives_are_negative_exactly_inside():
    x, y = _grid()
    e = Ellipse(np.array([0.5]), np.array([0.4]), np.array([0.2]), np.array([0.1]))
    inside = ((x - 0.5) / 0.2) ** 2 + ((y - 0.4) / 0.1) ** 2 < 0.98  # away from the rim (float32)
    outside = ((x - 0.5) / 0.2) ** 2 + ((y - 0.4) / 0.1) ** 2 > 1.02
    d = e.sdf(XS, YS, PAD)[0]
    assert (d[inside] < 0).all() and (d[outside] > 0).all()
    # a capsule of constant radius: the points within r of the segment (0.2, 0.5) -> (0.8, 0.5)
    c = Capsule(*(np.array([v]) for v in (0.2, 0.5, 0.8, 0.5, 0.1, 0.1)))
    dist = np.hypot(x - np.clip(x, 0.2, 0.8), y - 0.5)
    assert np.allclose(c.sdf(XS, YS, PAD)[0], dist - 0.1, atol=1e-6)
    # a profile: half-width 0.1 at y = 0.2 growing to 0.3 at y = 0.8
    p = Profile(np.array([0.5]), np.array([[0.2, 0.8]]), np.array([[0.1, 0.3]]))
    half = 0.1 + (y - 0.2) / 0.6 * 0.2
    inside = (np.abs(x - 0.5) < half - 0.01) & (y > 0.21) & (y < 0.79)
    outside = (np.abs(x - 0.5) > half + 0.01) | (y < 0.19) | (y > 0.81)
    d = p.sdf(XS, YS, PAD)[0]
    assert (d[inside] < 0).all() and (d[outside] > 0).all()
    h = HalfPlane(np.array([0.5]), np.array([0.5]), np.array([1.0]), np.array([0.0]))
    assert np.allclose(h.sdf(XS, YS, PAD)[0], x - 0.5, atol=1e-7)


@settings(deadline=None, max_examples=25)
@given(seed=st.integers(0, 2**31 - 1))
def test_boxes_are_conservative(seed):
    """Outside its box, a shape's distance is at least the pad: no pixel there can be covered."""
    x, y = _grid()
    for shape in _random_shapes(seed):
        d = shape.sdf(XS, YS, PAD)
        x0, x1, y0, y1 = shape.bbox(PAD)
        for i in range(d.shape[0]):
            out = (x < x0[i]) | (x > x1[i]) | (y < y0[i]) | (y > y1[i])
            assert (d[i][out] >= PAD * (1 - 1e-4)).all(), type(shape).__name__


@settings(deadline=None, max_examples=25)
@given(seed=st.integers(0, 2**31 - 1), rows=st.lists(st.integers(0, 4), min_size=1, max_size=6))
def test_take_commutes_with_the_distance(seed, rows):
    """``shape.take(rows)`` paints exactly ``shape``'s rows: a sample never depends on its batch mates.

    Where a pixel can be covered (``d < pad``) the distances are equal; elsewhere both are at least ``pad``
    (a union evaluates each part only over the window of the part's boxes in the batch).
    """
    rows = np.array(rows)
    for shape in _random_shapes(seed):
        alone, batch = shape.take(rows).sdf(XS, YS, PAD), shape.sdf(XS, YS, PAD)[rows]
        near = (alone < PAD) | (batch < PAD)
        assert np.array_equal(alone[near], batch[near]), type(shape).__name__
        assert (alone[~near] >= PAD).all() and (batch[~near] >= PAD).all()
        for a, b in zip(shape.take(rows).bbox(PAD), shape.bbox(PAD), strict=True):
            assert np.array_equal(a, np.asarray(b)[rows])


def test_union_and_intersection():
    a = Ellipse(np.array([0.35]), np.array([0.5]), np.array([0.2]), np.array([0.2]))
    b = Ellipse(np.array([0.65]), np.array([0.5]), np.array([0.2]), np.array([0.2]))
    da, db = a.sdf(XS, YS, PAD)[0], b.sdf(XS, YS, PAD)[0]
    union = Union(a, b).sdf(XS, YS, PAD)[0]
    near = np.minimum(da, db) < PAD  # where either part can cover a pixel the union is exact
    assert np.array_equal(union[near], np.minimum(da, db)[near])
    assert (union[~near] >= PAD * (1 - 1e-4)).all()
    assert np.array_equal(Intersect(a, b).sdf(XS, YS, PAD)[0], np.maximum(da, db))
    assert np.array_equal(Intersect(a, b, negate=True).sdf(XS, YS, PAD)[0], np.maximum(da, -db))
    with pytest.raises(TypeError, match="a negated intersection needs a shape with a true distance"):
        Intersect(a, Union(a, b), negate=True)


def test_window():
    assert window(COORDS, np.array([0.1, 0.3]), np.array([0.2, 0.5])) == (
        int(np.searchsorted(COORDS, 0.1)),
        int(np.searchsorted(COORDS, 0.5, "right")),
    )
    assert window(COORDS, np.array([2.0]), np.array([3.0])) == (SIZE, SIZE)  # nothing: an empty range
