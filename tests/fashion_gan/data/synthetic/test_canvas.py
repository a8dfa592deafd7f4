"""The canvas: labels exactly where a stroke covers half a pixel, blending, rims, prints, masks."""

from __future__ import annotations

import numpy as np
from fashion_gan.data.synthetic.canvas import Canvas, Print, Solid, Stroke
from fashion_gan.data.synthetic.shapes import Ellipse
from hypothesis import given, settings
from hypothesis import strategies as st


def _ellipse(n: int = 2) -> Ellipse:
    cx, cy, rx, ry = np.array([0.5, 0.3]), np.array([0.5, 0.6]), np.array([0.2, 0.1]), np.array([0.1, 0.25])
    return Ellipse(cx[:n], cy[:n], rx[:n], ry[:n])


def test_painting_labels_exactly_what_is_covered():
    """A painted shape's label covers exactly the pixels with d <= 0; fully covered pixels get its colour."""
    size = 40
    canvas = Canvas(np.full((2, 3), 0.9), size)
    shape = _ellipse()
    rgb = np.array([[0.2, 0.4, 0.6], [1.0, 0.0, 0.0]])
    canvas.paint(Stroke(np.array([True, True]), shape, 3, Solid(rgb)))
    coords = (np.arange(size) + 0.5) / size
    for i in range(2):
        q = np.sqrt(
            ((coords[None, :] - shape.cx[i]) / shape.rx[i]) ** 2
            + ((coords[:, None] - shape.cy[i]) / shape.ry[i]) ** 2
        )
        inside = q <= 1.0
        assert np.array_equal(canvas.labels[i] == 3, inside)
        d = (q - 1.0) * min(shape.rx[i], shape.ry[i])
        full = d < -1.0 / size
        assert np.allclose(canvas.image[i][:, full], rgb[i][:, None], atol=1e-6)
        edge = (np.abs(d) < 0.25 / size) & ~full
        between = canvas.image[i][0][edge]  # anti-aliased: strictly between background and fill
        assert edge.any() and (np.abs(between - 0.9) > 1e-3).all()
        assert (np.abs(between - rgb[i][0]) > 1e-3).all()
        assert (canvas.labels[i][~inside] == 0).all()


def test_background_gradient_and_uint8():
    canvas = Canvas(np.array([[1.0, 0.5, 0.0]]), 16)
    assert canvas.image.shape == (1, 3, 16, 16) and canvas.labels.shape == (1, 16, 16)
    assert (canvas.labels == 0).all()
    red = canvas.image[0, 0]
    assert (np.diff(red[:, 0]) < 0).all() and (red == red[:, :1]).all()  # brighter at the top, flat across
    assert np.allclose(red[0, 0], 1 - 0.03 * 0.5 / 16)
    images = canvas.uint8_images()
    assert images.dtype == np.uint8 and images[0, 0, 0, 0] == round(255 * red[0, 0])
    assert (images[0, 2] == 0).all()


@settings(deadline=None, max_examples=20)
@given(mask=st.lists(st.booleans(), min_size=2, max_size=2), label=st.integers(1, 6))
def test_only_masked_samples_change(mask, label):
    canvas = Canvas(np.full((2, 3), 0.9), 24)
    before = canvas.image.copy()
    canvas.paint(Stroke(np.array(mask), _ellipse(), label, Solid(np.zeros((2, 3)))))
    for i in range(2):
        changed = not np.array_equal(canvas.image[i], before[i])
        assert changed == mask[i]
        assert set(np.unique(canvas.labels[i])) == ({0, label} if mask[i] else {0})


def test_per_sample_labels_and_nothing_to_paint():
    canvas = Canvas(np.full((2, 3), 0.9), 24)
    canvas.paint(Stroke(np.ones(2, bool), _ellipse(), np.array([4, 6]), Solid(np.zeros((2, 3)))))
    assert set(np.unique(canvas.labels[0])) == {0, 4} and set(np.unique(canvas.labels[1])) == {0, 6}
    before = canvas.image.copy(), canvas.labels.copy()
    canvas.paint(Stroke(np.zeros(2, bool), _ellipse(), 1, Solid(np.zeros((2, 3)))))
    far = Ellipse(np.array([3.0, 3.0]), np.array([0.5, 0.5]), np.array([0.1, 0.1]), np.array([0.1, 0.1]))
    canvas.paint(Stroke(np.ones(2, bool), far, 1, Solid(np.zeros((2, 3)))))  # outside the picture
    assert np.array_equal(canvas.image, before[0]) and np.array_equal(canvas.labels, before[1])


def test_rim_darkens_towards_the_edge():
    """Fully covered pixels get ``colour * (1 - rim * clip(1 + d / width, 0, 1)^2)``; labels do not change."""
    size, rim, width = 64, 0.4, 0.05
    flat, rimmed = Canvas(np.ones((1, 3)), size), Canvas(np.ones((1, 3)), size)
    shape, fill = _ellipse(1), Solid(np.full((1, 3), 0.5))
    flat.paint(Stroke(np.ones(1, bool), shape, 3, fill))
    rimmed.paint(Stroke(np.ones(1, bool), shape, 3, fill, rim=rim, rim_width=np.array([width])))
    coords = (np.arange(size) + 0.5) / size
    q = np.sqrt(((coords[None, :] - 0.5) / 0.2) ** 2 + ((coords[:, None] - 0.5) / 0.1) ** 2)
    d = (q - 1.0) * 0.1
    full = d < -1.0 / size
    expected = 0.5 * (1 - rim * np.clip(1 + d / width, 0, 1) ** 2)
    assert np.allclose(rimmed.image[0, 0][full], expected[full], atol=1e-5)
    assert np.allclose(flat.image[0, 0][full], 0.5, atol=1e-6)
    assert rimmed.image[0, 0][full].min() < 0.45  # visibly darker at the rim
    assert np.array_equal(flat.labels, rimmed.labels)  # shading changes colours, never labels


def test_print_colours_come_from_the_palette():
    n, size = 2, 32
    palette = np.array([[[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]] * n, float)
    freq = np.full(n, 6.0)
    zero = np.zeros(n)
    stripes = (zero, freq, zero, zero, zero, zero)  # horizontal stripes: index floor(6 y)
    fill = Print(palette[:, 0], np.array([True, False]), palette, np.array([3, 1]), stripes, np.ones(n), zero)
    canvas = Canvas(np.ones((n, 3)), size)
    big = Ellipse(np.full(n, 0.5), np.full(n, 0.5), np.full(n, 0.45), np.full(n, 0.45))
    canvas.paint(Stroke(np.ones(n, bool), big, 3, fill))
    coords = (np.arange(size) + 0.5) / size
    centre = canvas.image[0][:, :, size // 2]  # (3, S) the middle column of the printed sample
    for r in range(8, 24):
        assert np.allclose(centre[:, r], palette[0, int(np.floor(6 * coords[r])) % 3], atol=1e-6), r
    assert np.allclose(canvas.image[1][:, 16, 16], [1, 0, 0])  # not multi: the solid base colour
    assert fill.take(np.array([1])).pattern(None, None) is None
    again = fill.recolor(palette[:, 1], np.array([False, True]))
    assert again.pattern(coords.reshape(1, 1, -1), coords.reshape(1, -1, 1))[0].tolist() == [1]
