"""A person from files: an RGB image and its label map (the ids 0..6 as pixel values)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..modeling import NUM_LABELS

__all__ = ["read_person_files"]


def _read_png(path: Path, mode: str) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    try:
        with Image.open(path) as im:
            if mode == "L" and im.mode == "P":  # a palette label map: the pixel values are the indices
                return np.asarray(im)
            return np.asarray(im.convert(mode))
    except OSError as err:
        raise ValueError(f"{path}: not a readable image ({err})") from None


def read_person_files(image_path: str | Path, labels_path: str | Path, *, image_size: int) -> dict:
    """A person from an RGB image file and a label-map PNG whose pixel values are the ids 0..6.

    The label map is a greyscale PNG, or a palette PNG whose indices are the ids. Returns uint8 ``image``
    (1, 3, H, W) and ``labels`` (1, H, W); sizes other than ``image_size`` and ids above 6 are errors naming
    the file.
    """
    image = _read_png(Path(image_path), "RGB")
    labels = _read_png(Path(labels_path), "L")
    if image.shape[:2] != (image_size, image_size):
        raise ValueError(
            f"{image_path}: expected a {image_size}x{image_size} image for this run, got "
            f"{image.shape[1]}x{image.shape[0]}"
        )
    if labels.shape != (image_size, image_size):
        raise ValueError(
            f"{labels_path}: expected a {image_size}x{image_size} label map, got "
            f"{labels.shape[1]}x{labels.shape[0]}"
        )
    if labels.max() >= NUM_LABELS:
        raise ValueError(
            f"{labels_path}: expected label ids 0..{NUM_LABELS - 1}, got a pixel value {labels.max()}"
        )
    return {
        "image": torch.from_numpy(image.copy()).permute(2, 0, 1).unsqueeze(0),
        "labels": torch.from_numpy(labels.copy()).unsqueeze(0),
    }
