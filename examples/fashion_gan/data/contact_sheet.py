"""Contact sheets: a PNG grid of samples, each as picture | coloured segmentation, with its sentence below.

Works on any collated batch of the sample contract (synthetic or official), so the two data sources can be
looked at side by side.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from condgan._checks import check_positive_int
from fashion_gan.data.contract import (
    CATEGORY_NAMES,
    COLOR_NAMES,
    LABEL_NAMES,
    NUM_LABELS,
    SLEEVE_NAMES,
    WEARER_ATTRIBUTES,
    validate_batch,
)

__all__ = ["LABEL_COLORS", "colorize_labels", "draw_contact_sheet", "save_contact_sheet"]

#: RGB colour of each official label id in the pictures of segmentations (the one palette of the recipe).
LABEL_COLORS = np.array(
    [
        [255, 255, 255],  # background
        [128, 64, 0],  # hair
        [255, 200, 150],  # face
        [0, 160, 80],  # upper clothes
        [40, 80, 220],  # lower clothes
        [220, 60, 200],  # legs and shoes
        [240, 180, 40],  # arms
    ],
    dtype=np.uint8,
)


def colorize_labels(
    labels: torch.Tensor | np.ndarray, *, channels_first: bool = False
) -> torch.Tensor | np.ndarray:
    """Label map(s) ``(..., H, W)`` with ids 0..6 -> uint8 RGB, in the colours of ``LABEL_COLORS``.

    Args:
        labels: integer ids ``(..., H, W)``, a tensor (on any device) or an array.
        channels_first: return ``(..., 3, H, W)`` (the layout of images in a batch) instead of
            ``(..., H, W, 3)`` (the layout of PIL and PNG files).

    Returns:
        uint8 RGB of the same kind as ``labels``: a tensor on ``labels``' device, or an array.

    Raises:
        TypeError: ``labels`` is not an integer tensor or array.
        ValueError: an id is outside ``[0, 6]``.

    Examples:
        >>> colorize_labels(np.array([[0, 3]])).tolist()
        [[[255, 255, 255], [0, 160, 80]]]
        >>> colorize_labels(torch.zeros(2, 4, 5, dtype=torch.long), channels_first=True).shape
        torch.Size([2, 3, 4, 5])
    """
    if isinstance(labels, torch.Tensor):
        arr, palette = labels, torch.from_numpy(LABEL_COLORS).to(labels.device)
        integer = not (labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool)
    else:
        arr, palette = np.asarray(labels), LABEL_COLORS
        integer = arr.dtype.kind in "iu"
    if not integer:
        raise TypeError(
            f"labels: expected an integer label map, got dtype {str(arr.dtype).replace('torch.', '')}"
        )
    if arr.ndim < 2:
        raise ValueError(f"labels: expected a label map (..., H, W), got shape {tuple(arr.shape)}")
    if arr.numel() if isinstance(arr, torch.Tensor) else arr.size:
        low, high = int(arr.min()), int(arr.max())
        if low < 0 or high >= NUM_LABELS:
            raise ValueError(f"labels: expected ids in [0, {NUM_LABELS - 1}], got [{low}, {high}]")
    if isinstance(arr, torch.Tensor):
        rgb = palette[arr.long()]
        return rgb.movedim(-1, -3) if channels_first else rgb
    rgb = palette[arr]
    return np.moveaxis(rgb, -1, -3) if channels_first else rgb


def _caption(batch: Mapping[str, Any], i: int) -> str:
    known = [
        name
        for name, value in zip(WEARER_ATTRIBUTES[1:4], batch["wearer"][i, 1:4].tolist(), strict=True)
        if value == 1.0
    ]
    attrs = (
        f"{CATEGORY_NAMES[int(batch['category'][i])]}, {COLOR_NAMES[int(batch['color'][i])]}, "
        f"{SLEEVE_NAMES[int(batch['sleeve'][i])]}"
    )
    if known:
        attrs += ", " + ", ".join(known).replace("_", " ")
    return f"{batch['sentence'][i]}\n[{attrs}]"


def draw_contact_sheet(
    batch: Mapping[str, Any],
    *,
    columns: int = 4,
    scale: int = 2,
    caption_lines: int = 4,
    legend: bool = True,
):
    """Draw a collated batch as a grid of ``picture | segmentation`` tiles with captions.

    Args:
        batch: a collated batch (``get_batch`` or [`collate`][fashion_gan.data.collate]).
        columns: tiles per row.
        scale: nearest-neighbour magnification of the pictures.
        caption_lines: text lines reserved under each tile (sentence, then category/colour/sleeve and the
            wearer's hat/sunglasses/long hair).
        legend: add a row naming the label colours.

    Returns:
        a ``PIL.Image.Image`` (RGB).

    Examples:
        >>> from fashion_gan.data.synthetic import SyntheticMannequins
        >>> sheet = draw_contact_sheet(SyntheticMannequins(image_size=32, num_train=4).get_batch([0, 1, 2]),
        ...                            columns=2)
        >>> sheet.mode, sheet.width
        ('RGB', 276)
    """
    from PIL import Image, ImageDraw, ImageFont

    b = validate_batch(batch)
    for name, value in (("columns", columns), ("scale", scale), ("caption_lines", caption_lines)):
        check_positive_int(name, value)
    images = batch["image"].numpy().transpose(0, 2, 3, 1)
    segs = colorize_labels(batch["labels"].numpy())
    size = images.shape[1] * scale
    gap, line_h = 4, 12
    tile_w = 2 * size + gap
    chars = max(8, tile_w // 6)
    tile_h = size + caption_lines * line_h + gap
    rows = -(-b // columns)
    legend_h = line_h + 2 * gap if legend else 0
    sheet = Image.new(
        "RGB", (columns * (tile_w + gap) + gap, rows * (tile_h + gap) + gap + legend_h), "white"
    )
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for i in range(b):
        x = gap + (i % columns) * (tile_w + gap)
        y = gap + (i // columns) * (tile_h + gap)
        for k, pic in enumerate((images[i], segs[i])):
            tile = Image.fromarray(np.ascontiguousarray(pic)).resize((size, size), Image.NEAREST)
            sheet.paste(tile, (x + k * (size + gap), y))
        lines: list[str] = []
        for part in _caption(batch, i).split("\n"):
            lines += textwrap.wrap(part, chars) or [""]
        for j, line in enumerate(lines[:caption_lines]):
            draw.text((x, y + size + 2 + j * line_h), line, fill=(0, 0, 0), font=font)
    if legend:
        x, y = gap, sheet.height - legend_h + gap
        for k, name in enumerate(LABEL_NAMES):
            draw.rectangle(
                [x, y, x + 10, y + 10], fill=tuple(int(c) for c in LABEL_COLORS[k]), outline=(0, 0, 0)
            )
            draw.text((x + 14, y), f"{k} {name}", fill=(0, 0, 0), font=font)
            x += 14 + 7 * (len(name) + 3)
    return sheet


def save_contact_sheet(
    dataset: Any,
    path: str | os.PathLike,
    *,
    indices: Sequence[int] | None = None,
    num: int = 16,
    **kwargs: Any,
) -> Path:
    """Draw ``dataset.get_batch(indices)`` (default: the first ``num`` samples) and save it as a PNG.

    ``kwargs`` go to [`draw_contact_sheet`][fashion_gan.data.draw_contact_sheet]. Returns the path written
    (parent folders are created).

    Examples:
        >>> import tempfile
        >>> from fashion_gan.data.synthetic import SyntheticMannequins
        >>> ds = SyntheticMannequins(image_size=32, num_train=4)
        >>> out = save_contact_sheet(ds, tempfile.mkdtemp() + "/s.png", num=4)
        >>> out.suffix
        '.png'
    """
    if not hasattr(dataset, "get_batch"):
        raise TypeError(f"dataset: expected a dataset with get_batch, got {type(dataset).__name__}")
    if indices is None:
        check_positive_int("num", num)
        indices = list(range(min(num, len(dataset))))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    draw_contact_sheet(dataset.get_batch(indices), **kwargs).save(path)
    return path
