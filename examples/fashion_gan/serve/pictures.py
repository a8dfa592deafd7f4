"""What the demo page shows: PNG bytes of images and coloured label maps, data URLs, the label legend."""

from __future__ import annotations

import base64
import io

import numpy as np
import torch
from PIL import Image

from ..data.contact_sheet import LABEL_COLORS
from ..data.contract import LABEL_NAMES
from ..visualize import colorize_labels

__all__ = ["png_bytes", "image_png", "labels_png", "data_url", "legend"]


def png_bytes(picture: Image.Image | np.ndarray) -> bytes:
    """A PIL image, or a uint8 ``(H, W, 3)`` array, encoded as PNG.

    Examples:
        >>> png_bytes(np.zeros((2, 2, 3), np.uint8))[:4]
        b'\\x89PNG'
    """
    if isinstance(picture, np.ndarray):
        picture = Image.fromarray(picture)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def image_png(image: torch.Tensor) -> bytes:
    """A uint8 image ``(3, H, W)`` as PNG."""
    return png_bytes(image.permute(1, 2, 0).contiguous().cpu().numpy())


def labels_png(labels: torch.Tensor) -> bytes:
    """A label map ``(H, W)`` of ids 0..6 as a PNG in the legend's colours."""
    return image_png(colorize_labels(labels.unsqueeze(0))[0])


def data_url(png: bytes) -> str:
    """``data:image/png;base64,...``: a PNG the page shows and downloads without another request.

    Examples:
        >>> data_url(b"abc")
        'data:image/png;base64,YWJj'
    """
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def legend() -> list[dict]:
    """Id, name and ``#rrggbb`` colour of every label, in id order.

    Examples:
        >>> legend()[1]
        {'id': 1, 'name': 'hair', 'color': '#...'}
    """
    return [
        {"id": k, "name": name, "color": "#" + "".join(f"{int(c):02x}" for c in LABEL_COLORS[k])}
        for k, name in enumerate(LABEL_NAMES)
    ]
