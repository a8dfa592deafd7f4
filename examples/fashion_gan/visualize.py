"""Pictures: label maps in colour, image grids with captions, atomic PNG writes."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from einops import rearrange
from PIL import Image, ImageDraw, ImageFont

from .data.contact_sheet import colorize_labels as colorize_label_map

__all__ = [
    "colorize_labels",
    "image_grid",
    "captioned_grid",
    "save_png",
]


def colorize_labels(labels: torch.Tensor) -> torch.Tensor:
    """(B, H, W) label ids 0..6 -> (B, 3, H, W) uint8 on the CPU, in the colours of the data contact sheet's
    legend: [`fashion_gan.data.contact_sheet.colorize_labels`][] in the layout of image batches (an id
    outside 0..6 is an error there, not clamped)."""
    return colorize_label_map(labels.cpu(), channels_first=True)


def image_grid(images: torch.Tensor, *, rows: int, pad: int = 2, fill: int = 255) -> np.ndarray:
    """(rows * cols, 3, H, W) uint8 in row-major order -> (H', W', 3) uint8 array with padding."""
    images = images.cpu()
    if images.dtype != torch.uint8:
        raise TypeError(f"images: expected uint8, got {images.dtype}")
    n = images.shape[0]
    if n % rows:
        raise ValueError(f"images: expected a multiple of rows={rows}, got {n}")
    padded = torch.nn.functional.pad(images, (pad, pad, pad, pad), value=fill)
    return rearrange(padded, "(r c) ch h w -> (r h) (c w) ch", r=rows).numpy()


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def captioned_grid(
    images: torch.Tensor,
    *,
    rows: int,
    column_titles: Sequence[str] = (),
    row_titles: Sequence[str] = (),
    scale: int = 1,
    wrap: int | None = None,
) -> Image.Image:
    """A grid with wrapped column titles on top and optional row titles on the left."""
    grid = Image.fromarray(image_grid(images, rows=rows))
    if scale > 1:
        grid = grid.resize((grid.width * scale, grid.height * scale), Image.NEAREST)
    cols = images.shape[0] // rows
    cell_w = grid.width // cols
    font = _font(11)
    # About 6 px per character of the 11 px font: wrap titles to the cell's width unless told otherwise.
    width = wrap if wrap is not None else cell_w // 6 - 1
    wrapped = [textwrap.fill(t, width=max(8, width)) for t in column_titles]
    title_lines = max((w.count("\n") + 1 for w in wrapped), default=0)
    top = 14 * title_lines + (6 if title_lines else 0)
    left = 70 if row_titles else 0
    canvas = Image.new("RGB", (grid.width + left, grid.height + top), "white")
    canvas.paste(grid, (left, top))
    draw = ImageDraw.Draw(canvas)
    for c, text in enumerate(wrapped):
        draw.multiline_text((left + c * cell_w + 3, 2), text, fill="black", font=font, spacing=2)
    cell_h = grid.height // rows
    for r, text in enumerate(row_titles):
        draw.multiline_text((2, top + r * cell_h + 4), textwrap.fill(text, 10), fill="black", font=font)
    return canvas


def save_png(image: Image.Image, path: str | Path) -> Path:
    """Write a PNG atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    image.save(tmp, format="PNG")
    tmp.replace(path)
    return path
