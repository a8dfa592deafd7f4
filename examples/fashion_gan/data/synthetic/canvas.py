"""The canvas a batch of mannequins is painted on: strokes (shape + label + fill), fills and the blending.

A shape's coverage of a pixel is ``clip(0.5 - d * S, 0, 1)`` for its signed distance ``d`` and the image side
``S`` (anti-aliasing without supersampling); the pixel's colour is blended by it, and the pixel takes the
stroke's label where the coverage is at least one half (``d <= 0``), so the label map is exactly what was
painted. Each stroke is evaluated only over the window of rows and columns where it can be non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fashion_gan.data.synthetic.shapes import Shape, col, window

__all__ = ["Solid", "Print", "Stroke", "Canvas"]


class Solid:
    """One colour per sample: ``rgb`` ``(B, 3)`` in ``[0, 1]``."""

    def __init__(self, rgb: np.ndarray):
        self.rgb = rgb

    def take(self, rows: np.ndarray) -> Solid:
        return Solid(self.rgb[rows])

    def pattern(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The printed rows and their colours; a solid fill prints nothing."""
        return None


class Print(Solid):
    """Garment colour, with a print for the samples where ``multi`` is true.

    The print index is ``(floor(l1) + floor(l2) + dot) mod P`` with linear forms ``l1, l2`` of ``(x, y)``
    (``forms = (a1, b1, c1, a2, b2, c2)``, ``l = a * x + b * y + c``): stripes use one form, checks two, dots
    add a circle of radius ``dot_r`` per cell of frequency ``dot_f`` (``dot`` in {0, 1}). ``palette``
    ``(B, 4, 3)`` holds the colours, ``count`` ``(B,)`` the number ``P`` in use.
    """

    def __init__(self, rgb, multi, palette, count, forms, dot_f, dot_r):
        super().__init__(rgb)
        self.multi, self.palette, self.count = multi, palette, count
        self.forms, self.dot_f, self.dot_r = forms, dot_f, dot_r

    def take(self, rows: np.ndarray) -> Print:
        return Print(
            self.rgb[rows],
            self.multi[rows],
            self.palette[rows],
            self.count[rows],
            tuple(f[rows] for f in self.forms),
            self.dot_f[rows],
            self.dot_r[rows],
        )

    def recolor(self, rgb: np.ndarray, multi: np.ndarray) -> Print:
        """The same print with another base colour ``(B, 3)``, printed where ``multi`` ``(B,)`` is true."""
        return Print(rgb, multi, self.palette, self.count, self.forms, self.dot_f, self.dot_r)

    def pattern(self, xs, ys):
        """``(rows, colours)``: the printed rows and their colours ``(m, 3, h, w)``, or ``None``."""
        rows = np.flatnonzero(self.multi)
        if rows.size == 0:
            return None
        a1, b1, c1, a2, b2, c2 = (col(v[rows]) for v in self.forms)
        idx = np.floor(xs * a1 + (ys * b1 + c1)) + np.floor(xs * a2 + (ys * b2 + c2))
        fx = xs * col(self.dot_f[rows])
        fy = ys * col(self.dot_f[rows])
        fx = fx - np.floor(fx) - np.float32(0.5)
        fy = fy - np.floor(fy) - np.float32(0.5)
        idx += (fx * fx + fy * fy < col(self.dot_r[rows]) ** 2).astype(np.float32)
        idx = np.mod(idx.astype(np.int64), self.count[rows].reshape(-1, 1, 1))
        pick = np.arange(rows.size)[:, None, None]
        palette = self.palette[rows].astype(np.float32)
        return rows, np.stack([palette[:, :, c][pick, idx] for c in range(3)], 1)


@dataclass(frozen=True)
class Stroke:
    """One shape painted for the samples of a batch where ``mask`` is true.

    Attributes:
        mask: bool ``(B,)``, who gets the stroke.
        shape: the shape of every sample of the batch (only the masked ones are evaluated).
        label: the label id written where the shape covers at least half a pixel (an int, or ``(B,)``).
        fill: the colour (a ``Solid`` or a ``Print``).
        rim: how much darker the colour gets at the shape's edge: ``colour * (1 - rim * (1 - c)^2)`` with
            ``c = clip(-d / rim_width, 0, 1)``; 0 paints a flat colour.
        rim_width: ``(B,)`` the width of that shading (needed when ``rim`` is not 0).
    """

    mask: np.ndarray
    shape: Shape
    label: int | np.ndarray
    fill: Solid
    rim: float = 0.0
    rim_width: np.ndarray | None = None


class Canvas:
    """RGB float32 images ``(B, 3, S, S)`` and uint8 label maps ``(B, S, S)`` that strokes are painted on.

    Args:
        background: ``(B, 3)`` background colour, shaded by a faint vertical gradient (brighter at the top).
        size: the side ``S`` in pixels.
    """

    def __init__(self, background: np.ndarray, size: int):
        n = background.shape[0]
        self.size = size
        self.pad = 1.0 / size
        self.coords = (np.arange(size, dtype=np.float32) + np.float32(0.5)) / np.float32(size)
        shade = np.float32(1.0) - np.float32(0.03) * self.coords
        self.image = background.astype(np.float32)[:, :, None, None] * shade[None, None, :, None]
        self.image = np.ascontiguousarray(np.broadcast_to(self.image, (n, 3, size, size)))
        self.labels = np.zeros((n, size, size), dtype=np.uint8)

    def uint8_images(self) -> np.ndarray:
        """The pictures as uint8 ``(B, 3, S, S)``, rounded."""
        return np.clip(self.image * np.float32(255.0) + np.float32(0.5), 0, 255).astype(np.uint8)

    def paint(self, stroke: Stroke) -> None:
        """Paint ``stroke`` for the samples of its mask (see the module docstring for the blending)."""
        sel = np.flatnonzero(stroke.mask)
        if sel.size == 0:
            return
        shape = stroke.shape.take(sel)
        x0, x1, y0, y1 = shape.bbox(self.pad)
        c0, c1 = window(self.coords, x0, x1)
        r0, r1 = window(self.coords, y0, y1)
        if c1 <= c0 or r1 <= r0:
            return
        xs = self.coords[c0:c1].reshape(1, 1, -1)
        ys = self.coords[r0:r1].reshape(1, -1, 1)
        d = shape.sdf(xs, ys, self.pad)
        alpha = np.float32(0.5) - d * np.float32(self.size)
        np.clip(alpha, 0.0, 1.0, out=alpha)
        weight = _shaded(alpha, d, stroke.rim, stroke.rim_width, sel)
        fill = stroke.fill.take(sel)
        whole = sel.size == self.image.shape[0]
        region = self.image[:, :, r0:r1, c0:c1] if whole else self.image[sel, :, r0:r1, c0:c1]
        _blend(region, alpha, weight, fill, xs, ys)
        label_arr = np.asarray(stroke.label)
        label_val = label_arr[sel].astype(np.uint8)[:, None, None] if label_arr.ndim else np.uint8(label_arr)
        if whole:
            np.copyto(self.labels[:, r0:r1, c0:c1], label_val, where=d <= 0)
        else:
            lab = self.labels[sel, r0:r1, c0:c1]
            np.copyto(lab, label_val, where=d <= 0)
            self.image[sel, :, r0:r1, c0:c1] = region
            self.labels[sel, r0:r1, c0:c1] = lab


def _shaded(alpha, d, rim, rim_width, sel):
    """``alpha * shade`` with ``shade = 1 - rim * clip(1 + d / width, 0, 1)^2`` (``alpha`` when no rim)."""
    if not rim:
        return alpha
    weight = d * col(1.0 / rim_width[sel])
    weight += np.float32(1.0)
    np.clip(weight, 0.0, 1.0, out=weight)
    weight *= weight
    weight *= np.float32(-rim)
    weight += np.float32(1.0)
    weight *= alpha
    return weight


def _blend(region, alpha, weight, fill, xs, ys):
    """``region = region * (1 - alpha) + weight * colour`` in place, one channel at a time."""
    rgb = fill.rgb.astype(np.float32)
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
