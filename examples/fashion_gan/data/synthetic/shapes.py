"""Signed-distance shapes of a batch: one shape per sample, in normalised coordinates (``y`` down).

Each shape holds ``(B,)`` parameter arrays (one value per sample; ``Profile`` knots ``(B, K)``) and gives:

- ``take(rows)``: the same shape for the samples ``rows`` only;
- ``bbox(pad)``: a conservative box ``(x0, x1, y0, y1)`` per sample: outside it the distance is at least
  ``pad`` (the canvas passes one pixel), so a pixel outside has zero coverage. That lets a union evaluate each
  part only inside the part's own box and the canvas paint only a window, with results that do not depend on
  which samples share a batch;
- ``sdf(xs, ys, pad)``: float32 distances ``(B, h, w)`` at pixel centres ``xs`` ``(1, 1, w)`` and ``ys``
  ``(1, h, 1)``; negative inside.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = ["Shape", "Ellipse", "Capsule", "Profile", "HalfPlane", "Union", "Intersect", "col", "window"]

_FAR = np.float32(1e3)


def col(a: np.ndarray) -> np.ndarray:
    """Per-sample values ``(B,)`` as float32 ``(B, 1, 1)``, to broadcast against ``(B, h, w)``."""
    return np.asarray(a, dtype=np.float32).reshape(-1, 1, 1)


def window(coords: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[int, int]:
    """Index range of the pixel centres ``coords`` (sorted) lying in ``[min(lo), max(hi)]``."""
    return int(np.searchsorted(coords, lo.min(), "left")), int(np.searchsorted(coords, hi.max(), "right"))


class Shape(Protocol):
    """What the canvas needs of a shape (see the module docstring)."""

    def take(self, rows: np.ndarray) -> Shape: ...

    def bbox(self, pad: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...

    def sdf(self, xs: np.ndarray, ys: np.ndarray, pad: float) -> np.ndarray: ...


class _Primitive:
    """A shape given by per-sample parameter arrays, named in ``_params``."""

    _params: tuple[str, ...] = ()

    def take(self, rows: np.ndarray):
        return type(self)(*(np.asarray(getattr(self, p))[rows] for p in self._params))


class Ellipse(_Primitive):
    """Ellipse; the distance ``(q - 1) * min(rx, ry)`` with ``q`` the normalised radius (exact on the rim)."""

    _params = ("cx", "cy", "rx", "ry")

    def __init__(self, cx, cy, rx, ry):
        self.cx, self.cy, self.rx, self.ry = cx, cy, rx, ry

    def bbox(self, pad):
        # Outside the box by m along x, the distance is at least m * min(r) / rx.
        grow = pad * np.maximum(self.rx, self.ry) / np.minimum(self.rx, self.ry)
        return (
            self.cx - self.rx - grow,
            self.cx + self.rx + grow,
            self.cy - self.ry - grow,
            self.cy + self.ry + grow,
        )

    def sdf(self, xs, ys, pad=None):
        dx = (xs - col(self.cx)) * col(1.0 / self.rx)
        dy = (ys - col(self.cy)) * col(1.0 / self.ry)
        q = dx * dx + dy * dy
        np.sqrt(q, out=q)
        q -= np.float32(1.0)
        q *= col(np.minimum(self.rx, self.ry))
        return q


class Capsule(_Primitive):
    """Segment ``a -> b`` with a radius going linearly from ``r0`` to ``r1`` (a tapered limb)."""

    _params = ("ax", "ay", "bx", "by", "r0", "r1")

    def __init__(self, ax, ay, bx, by, r0, r1):
        self.ax, self.ay, self.bx, self.by, self.r0, self.r1 = ax, ay, bx, by, r0, r1

    def bbox(self, pad):
        r = np.maximum(self.r0, self.r1) + pad
        return (
            np.minimum(self.ax, self.bx) - r,
            np.maximum(self.ax, self.bx) + r,
            np.minimum(self.ay, self.by) - r,
            np.maximum(self.ay, self.by) + r,
        )

    def sdf(self, xs, ys, pad=None):
        bax, bay = self.bx - self.ax, self.by - self.ay
        inv = 1.0 / np.maximum(bax * bax + bay * bay, 1e-12)
        pax, pay = xs - col(self.ax), ys - col(self.ay)
        t = pax * col(bax * inv) + pay * col(bay * inv)
        np.clip(t, 0.0, 1.0, out=t)
        dx = pax - t * col(bax)
        dy = pay - t * col(bay)
        dx *= dx
        dy *= dy
        dx += dy
        np.sqrt(dx, out=dx)
        t *= col(self.r1 - self.r0)
        t += col(self.r0)
        dx -= t
        return dx


class Profile(_Primitive):
    """Vertical shape: centre ``cx``, half-width piecewise linear through knots ``(ky[k], hw[k])`` (B, K)."""

    _params = ("cx", "ky", "hw")

    def __init__(self, cx, ky, hw):
        self.cx, self.ky, self.hw = cx, ky, hw

    def _slopes(self):
        return np.abs(np.diff(self.hw, axis=1)) / np.maximum(np.diff(self.ky, axis=1), 1e-6)

    def bbox(self, pad):
        w = self.hw.max(1) + pad * np.sqrt(1.0 + (self._slopes() ** 2).max(1))
        return self.cx - w, self.cx + w, self.ky[:, 0] - pad, self.ky[:, -1] + pad

    def sdf(self, xs, ys, pad=None):
        ky, hw = self.ky.astype(np.float32), self.hw.astype(np.float32)
        n, h = ky.shape[0], ys.shape[1]
        half = np.broadcast_to(hw[:, :1, None], (n, h, 1)).copy()
        slope = np.zeros((n, h, 1), np.float32)
        for k in range(ky.shape[1] - 1):
            span = np.maximum(ky[:, k + 1] - ky[:, k], np.float32(1e-6))[:, None, None]
            rate = (hw[:, k + 1] - hw[:, k])[:, None, None] / span
            rel = ys - ky[:, k, None, None]
            half += np.clip(rel, 0.0, span) * rate
            slope = np.where((rel >= 0) & (rel < span), rate, slope)
        # Horizontal distance scaled by the cosine of the edge slope (a true distance for straight edges).
        cosine = np.float32(1.0) / np.sqrt(np.float32(1.0) + slope * slope)
        d = np.abs(xs - col(self.cx)) - half
        d *= cosine
        return np.maximum(d, np.maximum(ky[:, :1, None] - ys, ys - ky[:, -1:, None]), out=d)


class HalfPlane(_Primitive):
    """Points behind the line through ``(px, py)`` with normal ``(nx, ny)`` (unit): ``d = (p - q) . n``."""

    _params = ("px", "py", "nx", "ny")

    def __init__(self, px, py, nx, ny):
        self.px, self.py, self.nx, self.ny = px, py, nx, ny

    def bbox(self, pad):
        inf = np.full(np.shape(self.px), np.inf)
        return -inf, inf, -inf, inf

    def sdf(self, xs, ys, pad=None):
        return (xs - col(self.px)) * col(self.nx) + (ys - col(self.py)) * col(self.ny)


class Union:
    """Union of parts; each part is evaluated only inside its own box (far elsewhere)."""

    def __init__(self, *parts):
        self.parts = parts

    def take(self, rows):
        return Union(*(p.take(rows) for p in self.parts))

    def bbox(self, pad):
        boxes = [p.bbox(pad) for p in self.parts]
        return tuple(f(np.stack([b[i] for b in boxes]), axis=0) for i, f in enumerate((np.min, np.max) * 2))

    def sdf(self, xs, ys, pad):
        n = np.asarray(self.parts[0].bbox(pad)[0]).shape[0]
        d = np.full((n, ys.shape[1], xs.shape[2]), _FAR, np.float32)
        for p in self.parts:
            x0, x1, y0, y1 = p.bbox(pad)
            c0, c1 = window(xs[0, 0], x0, x1)
            r0, r1 = window(ys[0, :, 0], y0, y1)
            if c1 > c0 and r1 > r0:
                sub = d[:, r0:r1, c0:c1]
                np.minimum(sub, p.sdf(xs[:, :, c0:c1], ys[:, r0:r1], pad), out=sub)
        return d


class Intersect:
    """Inside ``a`` and inside ``b``; with ``negate``, inside ``a`` and outside ``b`` (``b``: not a union)."""

    def __init__(self, a, b, *, negate: bool = False):
        if negate and isinstance(b, Union):
            raise TypeError(
                "a negated intersection needs a shape with a true distance everywhere, not a union"
            )
        self.a, self.b, self.negate = a, b, negate

    def take(self, rows):
        return Intersect(self.a.take(rows), self.b.take(rows), negate=self.negate)

    def bbox(self, pad):
        return self.a.bbox(pad)

    def sdf(self, xs, ys, pad):
        db = self.b.sdf(xs, ys, pad)
        if self.negate:
            np.negative(db, out=db)
        return np.maximum(self.a.sdf(xs, ys, pad), db, out=db)
