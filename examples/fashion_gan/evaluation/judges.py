"""The evaluation's attribute detector: which heads it has, what it is trained on, what its targets are.

The detector reads the partner sentence's garment attributes (category, colour, sleeve) and the person's own
attributes (gender; with the synthetic data also the wearer attributes long hair, hat and sunglasses) from an
image. It is trained on REAL training images once per run and kept in ``<run>/detector/attributes``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..data.contract import COLOR_NAMES, WEARER_ATTRIBUTES
from .detectors import DEFAULT_HEADS, load_detector, save_detector, train_detector

__all__ = [
    "MULTICOLOR",
    "WEARER_HEADS",
    "targets_of",
    "detector_heads",
    "WithWearerTargets",
    "ensure_detector",
]

#: The colour index of "multicolor" (a print): scored apart from the solid colours.
MULTICOLOR = COLOR_NAMES.index("multicolor")
#: Binary wearer attributes the detector learns when the dataset knows them (the synthetic data does).
WEARER_HEADS = ("long_hair", "hat", "sunglasses")


def targets_of(batch: dict) -> dict[str, torch.Tensor]:
    """Integer targets ``(B,)`` of a batch: its attributes, and its known binary wearer attributes.

    Examples:
        >>> batch = {"category": torch.tensor([1]), "color": torch.tensor([2]), "sleeve": torch.tensor([0]),
        ...          "gender": torch.tensor([1]), "wearer": torch.tensor([[1.0, 1, 0, 1, 0.5, 0.5, 0.5]])}
        >>> {k: int(v) for k, v in targets_of(batch).items()}
        {'category': 1, 'color': 2, 'sleeve': 0, 'gender': 1, 'long_hair': 1, 'hat': 0, 'sunglasses': 1}
    """
    out = {name: torch.as_tensor(batch[name]).long().reshape(-1) for name in DEFAULT_HEADS}
    wearer = batch.get("wearer")
    if wearer is not None:
        wearer = torch.as_tensor(wearer)
        for name in WEARER_HEADS:
            column = wearer[:, WEARER_ATTRIBUTES.index(name)]
            if bool((column >= 0).all()):  # -1: the dataset does not know it
                out[name] = column.round().long()
    return out


def detector_heads(dataset) -> dict[str, int]:
    """The heads to train on ``dataset``: the official attributes, plus the wearer ones it knows."""
    probe = targets_of(dataset.get_batch([0]))
    return {**DEFAULT_HEADS, **{name: 2 for name in WEARER_HEADS if name in probe}}


class WithWearerTargets:
    """A dataset view whose batches also carry the binary wearer attributes as integer keys."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset
        self.image_size = dataset.image_size

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        return self.get_batch([index])

    def get_batch(self, indices):
        batch = self.dataset.get_batch(list(indices))
        batch.update(targets_of(batch))
        return batch


def ensure_detector(
    run_dir: Path,
    train_set,
    *,
    steps: int,
    device,
    progress: bool,
    image_size: int | None = None,
    precision: str = "fp32",
):
    """The run's detector, loaded from ``<run>/detector/attributes`` or trained on ``train_set`` and saved.

    ``image_size``: the size the detector sees images at (they are resized to it); default the data's.
    ``precision``: of its training (``"bf16"`` autocast for the runs that train in bf16).
    """
    folder = Path(run_dir) / "detector" / "attributes"
    if (folder / "detector.json").is_file():
        return load_detector(folder, device=device)
    detector = train_detector(
        WithWearerTargets(train_set),
        steps=steps,
        device=device,
        image_size=train_set.image_size if image_size is None else image_size,
        heads=detector_heads(train_set),
        progress=progress,
        precision=precision,
    )
    save_detector(detector, folder)
    return detector.eval()
