"""FashionGAN's attribute detectors: classifiers of category, colour, sleeve and gender for evaluation.

The paper scores generated images by running attribute detectors on them: a redressed person should show the
category, colour and sleeve length the sentence asked for and keep the wearer's gender. This module trains
such a detector on REAL images of the training split, measures it on real test images (its ceiling), and
exposes its pooled backbone features for a Frechet distance / KID on the detector's features
(``condgan.metrics.frechet_metrics``; this is NOT FID).

The backbone is any timm model (``timm.create_model(name, pretrained=False, num_classes=0)``); timm is
imported lazily inside this module only. Nothing is downloaded: ``pretrained`` is either ``False`` or the path
of a local weights file.

Dataset contract (both FashionGAN datasets): items are dicts with ``"image"`` uint8 ``(3, H, W)`` and int
attributes ``"category"`` 0..18, ``"color"`` 0..16, ``"sleeve"`` 0..3, ``"gender"`` 0..1; a dataset may offer
``get_batch(indices)`` returning an already-collated batch (used when present, else a ``DataLoader``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from condgan._checks import (
    check_channels,
    check_choice,
    check_floating,
    check_heads,
    check_label_range,
    check_positive_int,
    check_rank,
)
from condgan.metrics import AttributeAccuracy

from ..modeling.conditions import images_to_float
from .files import atomic_write, read_json

__all__ = [
    "DEFAULT_HEADS",
    "DEMO_BACKBONE",
    "AttributeDetector",
    "DetectorFeatures",
    "train_detector",
    "evaluate_detector",
    "save_detector",
    "load_detector",
]

#: The official attribute label sets (``cate_new``, ``color_``, ``sleeve_``, ``gender_`` of the official
#: language_original.mat): name -> number of classes.
DEFAULT_HEADS: dict[str, int] = {"category": 19, "color": 17, "sleeve": 4, "gender": 2}
#: The demo's backbone: the most accurate small timm net measured on the synthetic data (docs/metrics.md).
DEMO_BACKBONE = "resnet10t"

_WEIGHTS_FILE = "detector.safetensors"
_CONFIG_FILE = "detector.json"
_FORMAT = "fashion_gan.AttributeDetector"
_FORMAT_VERSION = 1


def _import_timm():
    try:
        import timm
    except ModuleNotFoundError as error:  # pragma: no cover - timm is in the "fashion" extra
        raise ModuleNotFoundError(
            "AttributeDetector: expected the timm package (pip install 'condgan[fashion]'), "
            "got none installed"
        ) from error
    return timm


class AttributeDetector(nn.Module):
    """A timm backbone with one linear head per attribute; ``forward`` returns a dict of logits.

    ``logits_a = W_a f(x) + b_a`` with ``f`` the backbone's pooled features (``num_features`` wide). Images
    are resized to ``image_size`` (bilinear, antialiased) when they come at another size, mapped from
    ``[-1, 1]`` to ``[0, 1]`` and normalised with the backbone's mean/std (its ``pretrained_cfg``; it matters
    only for pretrained weights).

    Args:
        backbone: a timm model name (``timm.list_models()``), e.g. ``"resnet18"`` or the demo's
            `DEMO_BACKBONE`.
        heads: attribute name -> number of classes; default `DEFAULT_HEADS`.
        pretrained: ``False`` (random init) or the path of a LOCAL timm weights file for this backbone (its
            classifier is dropped). ``True`` is refused: nothing is ever downloaded.
        image_size: the square input size the backbone works at.

    Attributes:
        num_features: width ``D`` of
            [`features`][fashion_gan.evaluation.detectors.AttributeDetector.features].

    Examples:
        >>> heads = {"color": 17, "gender": 2}
        >>> detector = AttributeDetector(backbone="test_resnet", heads=heads, image_size=32)
        >>> logits = detector(torch.rand(2, 3, 32, 32) * 2 - 1)
        >>> {name: tuple(value.shape) for name, value in logits.items()}
        {'color': (2, 17), 'gender': (2, 2)}
        >>> detector.features(torch.zeros(2, 3, 64, 64)).shape[0]
        2
    """

    def __init__(
        self,
        *,
        backbone: str = "resnet18",
        heads: Mapping[str, int] | None = None,
        pretrained: bool | str | os.PathLike = False,
        image_size: int = 64,
    ) -> None:
        super().__init__()
        if not isinstance(backbone, str):
            raise TypeError(f"backbone: expected a timm model name (str), got {type(backbone).__name__}")
        head_sizes = check_heads("heads", DEFAULT_HEADS if heads is None else heads)
        self.image_size = check_positive_int("image_size", image_size)
        if pretrained is True:
            raise ValueError(
                "pretrained: expected False or the path of a local weights file, got True "
                "(fashion_gan never downloads weights)"
            )
        if pretrained is not False:
            if not isinstance(pretrained, (str, os.PathLike)):
                raise TypeError(f"pretrained: expected False or a path, got {type(pretrained).__name__}")
            if not Path(pretrained).is_file():
                raise FileNotFoundError(
                    f"pretrained: expected an existing weights file, got {str(pretrained)!r}"
                )
        timm = _import_timm()
        if not timm.is_model(backbone):
            raise ValueError(
                f"backbone: expected a timm model name (see timm.list_models()), got {backbone!r}"
            )
        options = {}
        if pretrained is not False:
            options = {"pretrained": True, "pretrained_cfg_overlay": {"file": str(pretrained)}}
        self.backbone_name = backbone
        self.backbone = timm.create_model(backbone, num_classes=0, **options)
        config = self.backbone.pretrained_cfg
        mean = torch.tensor(config.get("mean", (0.5, 0.5, 0.5)), dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(config.get("std", (0.5, 0.5, 0.5)), dtype=torch.float32).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)
        was_training = self.backbone.training
        self.backbone.eval()
        with torch.no_grad():
            probe = self.backbone(torch.zeros(1, 3, self.image_size, self.image_size))
        self.backbone.train(was_training)
        if probe.ndim != 2:
            raise ValueError(
                f"backbone: expected {backbone!r} with num_classes=0 to return pooled (B, D) features, "
                f"got shape {tuple(probe.shape)}"
            )
        self.num_features = int(probe.shape[1])
        self.heads = nn.ModuleDict({name: nn.Linear(self.num_features, n) for name, n in head_sizes.items()})

    @property
    def head_sizes(self) -> dict[str, int]:
        """Attribute name -> number of classes."""
        return {name: head.out_features for name, head in self.heads.items()}

    @property
    def config(self) -> dict:
        """The keyword arguments that rebuild this detector (without weights)."""
        return {"backbone": self.backbone_name, "heads": self.head_sizes, "image_size": self.image_size}

    def _prepare(self, images: torch.Tensor) -> torch.Tensor:
        check_rank("images", images, 4, "(B, 3, H, W)")
        check_channels("images", images, 3)
        check_floating("images", images)
        if images.shape[-2:] != (self.image_size, self.image_size):
            size = (self.image_size, self.image_size)
            images = F.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=True)
        return ((images + 1.0) * 0.5 - self.mean) / self.std

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Pooled backbone features ``(B, D)`` of float ``[-1, 1]`` images ``(B, 3, H, W)``."""
        return self.backbone(self._prepare(images))

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits per attribute, ``{name: (B, classes)}``, of float ``[-1, 1]`` images ``(B, 3, H, W)``."""
        features = self.features(images)
        return {name: head(features) for name, head in self.heads.items()}

    def feature_extractor(self) -> DetectorFeatures:
        """This detector as a ``(B, 3, H, W) -> (B, D)`` module for ``condgan.metrics.frechet_metrics``."""
        return DetectorFeatures(self)


class DetectorFeatures(nn.Module):
    """Wraps an [`AttributeDetector`][fashion_gan.evaluation.detectors.AttributeDetector] as a feature
    extractor (torchmetrics' custom ``feature`` protocol).

    Examples:
        >>> detector = AttributeDetector(backbone="test_resnet", heads={"gender": 2}, image_size=32)
        >>> extractor = detector.feature_extractor()
        >>> extractor(torch.zeros(3, 3, 32, 32)).shape == (3, extractor.num_features)
        True
    """

    def __init__(self, detector: AttributeDetector) -> None:
        super().__init__()
        if not isinstance(detector, AttributeDetector):
            raise TypeError(f"detector: expected an AttributeDetector, got {type(detector).__name__}")
        self.detector = detector
        self.num_features = detector.num_features
        self.train(detector.training)  # start in the detector's mode, so that restoring a mode keeps it

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.detector.features(images)


def _check_dataset(dataset: object) -> int:
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise TypeError(
            f"dataset: expected a map-style dataset (__len__, __getitem__), got {type(dataset).__name__}"
        )
    size = len(dataset)
    if size == 0:
        raise ValueError("dataset: expected at least one sample, got an empty dataset")
    return size


def _collate(dataset, indices: Sequence[int]) -> dict:
    if hasattr(dataset, "get_batch"):
        return dataset.get_batch(list(indices))
    from torch.utils.data import default_collate

    return default_collate([dataset[i] for i in indices])


def _iterate_batches(dataset, batches: Sequence[Sequence[int]]):
    """Collated batches for the given index lists: ``get_batch`` when present, else a ``DataLoader``."""
    if hasattr(dataset, "get_batch"):
        for indices in batches:
            yield dataset.get_batch(list(indices))
        return
    from torch.utils.data import DataLoader

    yield from DataLoader(dataset, batch_sampler=[list(b) for b in batches], num_workers=0)


def _batch_targets(batch: Mapping, names: Sequence[str], device: torch.device) -> dict[str, torch.Tensor]:
    targets = {}
    for name in names:
        if name not in batch:
            raise ValueError(f"dataset: expected items with an attribute {name!r}, got keys {sorted(batch)}")
        value = batch[name]
        value = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
        targets[name] = value.to(device=device, dtype=torch.long).reshape(-1)
    return targets


def _batch_images(batch: Mapping, device: torch.device) -> torch.Tensor:
    if "image" not in batch:
        raise ValueError(f"dataset: expected items with an 'image', got keys {sorted(batch)}")
    return images_to_float(batch["image"].to(device, non_blocking=True))


def train_detector(
    dataset,
    *,
    steps: int,
    batch_size: int = 64,
    lr: float = 2e-3,
    device: str | torch.device = "cpu",
    seed: int = 0,
    image_size: int = 64,
    progress: bool = True,
    backbone: str = DEMO_BACKBONE,
    heads: Mapping[str, int] | None = None,
    weight_decay: float = 1e-4,
    flip: bool = True,
    precision: str = "fp32",
) -> AttributeDetector:
    """Train an [`AttributeDetector`][fashion_gan.evaluation.detectors.AttributeDetector] on REAL images (the
    training split) with summed cross-entropies.

    ``loss = sum_a CE(logits_a, y_a)``, AdamW with a cosine learning-rate decay to 0 over ``steps``; each step
    draws ``batch_size`` random indices (with replacement, like the official recipe's batches) and, with
    ``flip``, mirrors half of them left-right (every FashionGAN attribute is mirror-invariant). Deterministic
    for a given ``seed`` on the CPU; the global RNG is left untouched.

    Args:
        dataset: map-style dataset following the sample contract (see the module docstring).
        steps: optimisation steps.
        batch_size: images per step (at least 2, for BatchNorm).
        lr: peak learning rate.
        device: where to train.
        seed: seeds the initial weights, the batches and the flips.
        image_size: the detector's input size (dataset images are resized to it).
        progress: show a tqdm progress bar.
        backbone: timm model name (default the tiny `DEMO_BACKBONE`).
        heads: attribute -> classes (default `DEFAULT_HEADS`); each must be a key of the dataset's
            items.
        weight_decay: AdamW weight decay.
        flip: random horizontal flips.
        precision: ``"fp32"``, or ``"bf16"`` for the forward passes under bf16 autocast (weights and
            optimizer stay fp32; measured about 1.4x faster per step on a 2-core CPU with bf16 support).

    Returns:
        The trained detector, in eval mode, on ``device``.

    Raises:
        TypeError / ValueError: bad arguments, or items lacking an attribute (the message names it).
    """
    size = _check_dataset(dataset)
    check_positive_int("steps", steps)
    check_positive_int("batch_size", batch_size)
    if batch_size < 2:
        raise ValueError(f"batch_size: expected at least 2 (BatchNorm needs a batch), got {batch_size}")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
        raise ValueError(f"lr: expected a positive float, got {lr!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
    check_choice("precision", precision, ("fp32", "bf16"))
    device = torch.device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        detector = AttributeDetector(backbone=backbone, heads=heads, image_size=image_size)
    detector.to(device).train()
    names = list(detector.heads)
    optimizer = torch.optim.AdamW(detector.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    generator = torch.Generator().manual_seed(seed)
    indices = torch.randint(size, (steps, batch_size), generator=generator)
    flips = torch.rand(steps, batch_size, generator=generator) < 0.5
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="detector", unit="step")
    try:
        for step, batch in enumerate(_iterate_batches(dataset, indices.tolist())):
            images = _batch_images(batch, device)
            targets = _batch_targets(batch, names, device)
            for name, target in targets.items():
                check_label_range(f"dataset[{name!r}]", target, detector.heads[name].out_features)
            if flip:
                mask = flips[step].to(device).view(-1, 1, 1, 1)
                images = torch.where(mask, images.flip(-1), images)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                logits = detector(images)
            loss = sum(F.cross_entropy(logits[name].float(), targets[name]) for name in names)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}")
    finally:
        if bar is not None:
            bar.close()
    return detector.eval()


@torch.no_grad()
def evaluate_detector(
    detector: AttributeDetector, dataset, *, batch_size: int = 256, device: str | torch.device | None = None
) -> dict[str, float]:
    """Top-1 accuracy of each head on every sample of ``dataset`` (real test images: the detector's ceiling).

    Args:
        detector: a trained [`AttributeDetector`][fashion_gan.evaluation.detectors.AttributeDetector] (run in
            eval mode; its mode is restored afterwards).
        dataset: map-style dataset following the sample contract.
        batch_size: images per forward pass.
        device: where to run; default the detector's device.

    Returns:
        attribute name -> accuracy in ``[0, 1]``.
    """
    if not isinstance(detector, AttributeDetector):
        raise TypeError(f"detector: expected an AttributeDetector, got {type(detector).__name__}")
    size = _check_dataset(dataset)
    check_positive_int("batch_size", batch_size)
    device = torch.device(device) if device is not None else next(detector.parameters()).device
    was_training = detector.training
    detector.to(device).eval()
    metric = AttributeAccuracy()
    order = torch.arange(size).split(batch_size)
    try:
        for batch in _iterate_batches(dataset, [chunk.tolist() for chunk in order]):
            images = _batch_images(batch, device)
            metric.update(detector(images), _batch_targets(batch, list(detector.heads), device))
    finally:
        detector.train(was_training)
    return metric.compute()


def save_detector(detector: AttributeDetector, directory: str | os.PathLike) -> Path:
    """Write ``detector.safetensors`` (weights) and ``detector.json`` (config) into ``directory``, atomically.

    No pickle: safetensors for tensors, JSON for the configuration. Returns the directory.

    Examples:
        >>> import tempfile
        >>> detector = AttributeDetector(backbone="test_resnet", heads={"gender": 2}, image_size=32)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     restored = load_detector(save_detector(detector, folder))
        >>> restored.config == detector.config
        True
    """
    from safetensors.torch import save_model

    if not isinstance(detector, AttributeDetector):
        raise TypeError(f"detector: expected an AttributeDetector, got {type(detector).__name__}")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "format": _FORMAT,
        "version": _FORMAT_VERSION,
        **detector.config,
        "num_features": detector.num_features,
    }
    atomic_write(folder / _WEIGHTS_FILE, lambda name: save_model(detector, name, metadata={"format": "pt"}))

    def write_json(name: str) -> None:
        with open(name, "w", encoding="utf-8") as stream:
            json.dump(config, stream, indent=2)

    atomic_write(folder / _CONFIG_FILE, write_json)
    return folder


def load_detector(directory: str | os.PathLike, *, device: str | torch.device = "cpu") -> AttributeDetector:
    """Rebuild a detector saved by [`save_detector`][fashion_gan.evaluation.detectors.save_detector] (weights
    exact), in eval mode on ``device``."""
    folder = Path(directory)
    config_path, weights_path = folder / _CONFIG_FILE, folder / _WEIGHTS_FILE
    for path in (config_path, weights_path):
        if not path.is_file():
            raise FileNotFoundError(
                f"directory: expected {path.name} from save_detector, got no file {str(path)!r}"
            )
    config = read_json(config_path, "JSON written by save_detector")
    if not isinstance(config, dict) or config.get("format") != _FORMAT:
        raise ValueError(f"{config_path}: expected format {_FORMAT!r}, got {config!r}")
    missing = {"backbone", "heads", "image_size", "num_features"} - set(config)
    if missing:
        raise ValueError(
            f"{config_path}: expected keys backbone, heads, image_size, num_features; "
            f"missing {sorted(missing)}"
        )
    detector = AttributeDetector(
        backbone=config["backbone"], heads=config["heads"], image_size=config["image_size"]
    )
    if detector.num_features != config["num_features"]:
        raise ValueError(
            f"{config_path}: expected num_features {config['num_features']} for {config['backbone']!r}, "
            f"got {detector.num_features} (a different timm version?)"
        )
    from safetensors.torch import load_model

    load_model(detector, str(weights_path), strict=True)
    return detector.to(torch.device(device)).eval()
