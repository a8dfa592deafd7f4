"""``render_mannequins``: the painters' strokes, back to front, on one canvas per batch."""

from __future__ import annotations

import numpy as np

from condgan._checks import check_positive_int
from fashion_gan.data.synthetic.attributes import check_attrs
from fashion_gan.data.synthetic.canvas import Canvas
from fashion_gan.data.synthetic.painters import PAINTERS, Layout

__all__ = ["render_mannequins"]


def render_mannequins(attrs: dict[str, np.ndarray], image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw the samples described by [`sample_attributes`][fashion_gan.data.synthetic.sample_attributes].

    Args:
        attrs: the attribute dict of ``B`` samples.
        image_size: ``S``, the side of the square pictures (shapes are defined in normalised coordinates).

    Returns:
        ``(images, labels)``: uint8 ``(B, 3, S, S)`` RGB and uint8 ``(B, S, S)`` official label ids 0..6.

    Examples:
        >>> from fashion_gan.data.synthetic import sample_attributes
        >>> images, labels = render_mannequins(sample_attributes(0, "train", [0, 1]), 32)
        >>> images.shape, labels.shape, int(labels.max()) <= 6
        ((2, 3, 32, 32), (2, 32, 32), True)
    """
    check_positive_int("image_size", image_size)
    n = check_attrs(attrs)
    if n == 0:
        return np.zeros((0, 3, image_size, image_size), np.uint8), np.zeros(
            (0, image_size, image_size), np.uint8
        )
    layout = Layout.from_attributes(attrs)
    canvas = Canvas(layout.colors.background, image_size)
    for painter in PAINTERS:
        for stroke in painter(layout):
            canvas.paint(stroke)
    return canvas.uint8_images(), canvas.labels
