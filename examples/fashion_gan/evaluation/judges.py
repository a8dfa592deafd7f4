"""The evaluation's attribute detector: which heads it has, what it is trained on, what its targets are.

The detector reads the partner sentence's garment attributes (category, colour, sleeve) and the person's own
attributes (gender; with the synthetic data also the wearer attributes long hair, hat and sunglasses) from an
image. It is trained on REAL training images once per run and kept in ``<run>/detector/attributes``, with a
record of how it was trained (steps, distinct people): a later evaluation that asks for another training is
refused with a clear error instead of being judged silently by the old detector.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from ..data.contract import COLOR_NAMES, WEARER_ATTRIBUTES
from .detectors import DEFAULT_HEADS, load_detector, save_detector, train_detector
from .files import atomic_write, read_json

__all__ = [
    "MULTICOLOR",
    "WEARER_HEADS",
    "DETECTOR_BATCH",
    "targets_of",
    "detector_heads",
    "WithWearerTargets",
    "ensure_detector",
    "SHIPPED_DETECTOR",
    "check_training_record",
    "write_training_record",
]

#: The colour index of "multicolor" (a print): scored apart from the solid colours.
MULTICOLOR = COLOR_NAMES.index("multicolor")
#: Binary wearer attributes the detector learns when the dataset knows them (the synthetic data does).
WEARER_HEADS = ("long_hair", "hat", "sunglasses")
#: Pictures per training step of the run's detector.
DETECTOR_BATCH = 64

SHIPPED_DETECTOR = Path(__file__).resolve().parent.parent / "judges" / "demo"
"""The attribute detector shipped with the recipe (``fashion_gan/judges/demo``): the demo's judge, trained
once by ``fashion-gan evaluate --run RUN --detector-steps 6400 --detector-people 1000000`` on a demo run
(6400 steps of 64 pictures from 1,000,000 distinct synthetic training people, 64x64, bf16; it reads category
0.857, colour 0.994 and sleeve 0.977 on the 512 real test images; 0.842 category on the quality preset's
128x128 ones, resized). A run whose evaluation asks for exactly that judge (the demo and quality presets'
default) gets a copy of it instead of 25 minutes of training
([`ensure_detector`][fashion_gan.evaluation.judges.ensure_detector])."""


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


def check_training_record(record: Path, asked: dict) -> None:
    """Refuse a saved judge whose ``record`` (a JSON file beside it) says it was trained otherwise than
    ``asked`` (e.g. ``{"steps": 6400, "people": 409600}``).

    Judges saved before records were kept have none; they are used as they are.

    Raises:
        ValueError: the record differs; the message names each field, saved and asked, and what to do.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     record = Path(folder) / "training.json"
        ...     write_training_record(record, {"steps": 400, "people": 20000})
        ...     check_training_record(record, {"steps": 400, "people": 20000})  # the same: accepted
        ...     try:
        ...         check_training_record(record, {"steps": 6400, "people": 20000})
        ...     except ValueError as error:
        ...         print(str(error).split(": ")[1].split(";")[0])
        the judge saved there was trained with steps 400 (asked 6400)
    """
    if not record.is_file():
        return
    saved = read_json(record, "the JSON record of a judge's training")
    if not isinstance(saved, dict):
        raise ValueError(f"{record}: expected a JSON object, got {type(saved).__name__}")
    differences = [
        f"{key} {saved.get(key)} (asked {value})" for key, value in asked.items() if saved.get(key) != value
    ]
    if differences:
        raise ValueError(
            f"{record.parent}: the judge saved there was trained with {', '.join(differences)}; evaluate a "
            "copy of the run without that folder, or delete it to train the judge asked for"
        )


def write_training_record(record: Path, asked: dict) -> None:
    """Write ``asked`` (how a judge was trained) as JSON to ``record``, atomically."""
    atomic_write(record, lambda name: Path(name).write_text(json.dumps(asked, indent=2), encoding="utf-8"))


def ensure_detector(
    run_dir: Path,
    train_set,
    *,
    steps: int,
    device,
    progress: bool,
    image_size: int | None = None,
    precision: str = "fp32",
    shipped: Path | None = None,
):
    """The run's detector: loaded from ``<run>/detector/attributes``, copied there from ``shipped``, or
    trained on ``train_set`` and saved.

    ``steps`` and the distinct people of ``train_set`` are recorded beside it (``training.json``); a saved
    detector trained otherwise is refused
    ([`check_training_record`][fashion_gan.evaluation.judges.check_training_record]).
    ``image_size``: the size the detector sees images at (they are resized to it); default the data's.
    ``precision``: of its training (``"bf16"`` autocast for the runs that train in bf16).
    ``shipped``: a folder of a detector trained beforehand (e.g.
    [`SHIPPED_DETECTOR`][fashion_gan.evaluation.judges.SHIPPED_DETECTOR]), used when the run has none and its
    training record, image size and heads are the ones asked for; the caller vouches that it learnt from the
    same painter (synthetic data of the same seed).
    """
    folder = Path(run_dir) / "detector" / "attributes"
    asked = {"steps": steps, "people": len(train_set)}
    size = train_set.image_size if image_size is None else image_size
    heads = detector_heads(train_set)
    if not (folder / "detector.json").is_file() and _shipped_fits(shipped, asked, size, heads):
        folder.mkdir(parents=True, exist_ok=True)
        write_training_record(folder / "training.json", asked)
        for name in ("detector.safetensors", "detector.json"):  # detector.json last: it marks the copy done
            atomic_write(folder / name, lambda tmp, n=name: shutil.copyfile(shipped / n, tmp))
    if (folder / "detector.json").is_file():
        check_training_record(folder / "training.json", asked)
        return load_detector(folder, device=device)
    detector = train_detector(
        WithWearerTargets(train_set),
        steps=steps,
        batch_size=DETECTOR_BATCH,
        device=device,
        image_size=size,
        heads=heads,
        progress=progress,
        precision=precision,
    )
    # The record first: a kill between the two leaves a record without a detector, which is trained again.
    folder.mkdir(parents=True, exist_ok=True)
    write_training_record(folder / "training.json", asked)
    save_detector(detector, folder)
    return detector.eval()


def _shipped_fits(shipped: Path | None, asked: dict, image_size: int, heads: dict) -> bool:
    """Whether the detector in ``shipped`` was trained as ``asked``, reading ``image_size`` with ``heads``."""
    if shipped is None or not (shipped / "detector.json").is_file():
        return False
    record = read_json(shipped / "training.json", "the JSON record of a judge's training")
    config = read_json(shipped / "detector.json", "JSON written by save_detector")
    return record == asked and config.get("image_size") == image_size and config.get("heads") == dict(heads)
