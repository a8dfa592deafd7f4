"""The paper's evaluation protocol on the test split with the redress pairs.

Test person i is redressed with the sentence of test person ``redress_pairs[i]`` (the official
``test_set_pair_ind`` protocol). For every trained model of a run:

- **attribute accuracy**: attribute detectors (a timm backbone trained here on REAL training images) classify
  the generated image; the target is the partner sentence's colour, sleeve, category and gender. Their
  accuracy on real test images is reported too: it is the ceiling.
- **structure**: a small U-Net parser (trained here on real training images) segments the generated image; we
  report the agreement of its merged 8x8 constraint with the input person's (1 = identical) and the IoU of
  hair + face and of the background. The two-stage models also get the agreement of stage 1's own
  segmentation.
- **realism**: Frechet distance and KID between real test images and generated images ON THE DETECTOR'S
  FEATURES (not FID: the Inception weights are not available offline; see
  [`inception_frechet`][condgan.metrics.inception_frechet]).
- **diversity**: mean pairwise L1 between images of the same person and sentence under different noise.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from condgan.metrics import (
    AttributeAccuracy,
    constraint_agreement,
    frechet_and_kid,
    pairwise_diversity,
    region_agreement,
)

from .. import runs
from ..config import RunConfig
from ..inference.redress import Redresser, redress_models
from ..modeling.conditions import images_to_float
from .detectors import evaluate_detector, load_detector, save_detector, train_detector
from .parser import ensure_parser, parse_images

__all__ = ["evaluate_run", "model_rows", "format_table", "ATTRIBUTES"]

ATTRIBUTES = ("color", "sleeve", "category", "gender")


def model_rows() -> tuple[tuple[str, str], ...]:
    """(row title, ``generate --model`` word) of every redress model; untrained ones are skipped.

    Examples:
        >>> model_rows()[0]
        ('FashionGAN (compositional)', 'compositional')
    """
    return tuple((stage.title, word) for word, stage in redress_models().items())


def _ensure_detector(run_dir: Path, train_set, *, steps, device, progress):
    folder = run_dir / "detector" / "attributes"
    if (folder / "detector.json").is_file():
        return load_detector(folder, device=device)
    detector = train_detector(
        train_set, steps=steps, device=device, image_size=train_set.image_size, progress=progress
    )
    save_detector(detector, folder)
    return detector.eval()


@dataclass
class _Judges:
    """What reads generated images: attribute detector, its features, the parser; and the test batches."""

    detector: nn.Module
    features: nn.Module
    parser: nn.Module
    test_set: object
    batches: list[list[int]]
    device: torch.device | str

    def structure(self, images_u8: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-sample structure of images vs the input people's label maps (parsed, then compared)."""
        parsed = parse_images(self.parser, images_u8, self.device)
        return {
            "structure": constraint_agreement(parsed, labels),
            "hair_face_iou": region_agreement(parsed, labels, (1, 2)),
            "background_iou": region_agreement(parsed, labels, 0),
        }

    def feats(self, images_u8: torch.Tensor) -> torch.Tensor:
        return self.features(images_to_float(images_u8).to(self.device)).cpu()


def _means(parts: list[dict[str, torch.Tensor]]) -> dict[str, float]:
    return {k: torch.cat([p[k] for p in parts]).mean().item() for k in (parts[0] if parts else {})}


def _real_row(judges: _Judges, n: int, batch_size: int) -> tuple[dict, torch.Tensor]:
    """The ceiling: the detector and the parser on real test images; and the real images' features."""
    accuracy = evaluate_detector(judges.detector, _Subset(judges.test_set, n), batch_size=batch_size)
    row = {"model": "Real test images (ceiling)", **{f"acc_{k}": v for k, v in accuracy.items()}}
    feats, structure = [], []
    for idx in judges.batches:
        b = judges.test_set.get_batch(idx)
        feats.append(judges.feats(b["image"]))
        structure.append(judges.structure(b["image"], b["labels"].long()))
    row.update(_means(structure))
    return row, torch.cat(feats)


def _model_row(title: str, redresser: Redresser, judges: _Judges, real_feats, n: int, diversity) -> dict:
    """One model's row: attribute accuracy, structure, realism and diversity of its redressed test people."""
    test_set, pairs = judges.test_set, judges.test_set.redress_pairs
    acc = AttributeAccuracy()
    fake_feats, structure, seg_agree = [], [], []
    for idx in judges.batches:
        people = test_set.get_batch(idx)
        partner = test_set.get_batch(pairs[idx].tolist())
        out = redresser.generate(people, partner["word_ids"], seed=0)
        logits = judges.detector(images_to_float(out["images"]).to(judges.device))
        acc.update(
            {k: logits[k].cpu() for k in ATTRIBUTES}, {k: torch.as_tensor(partner[k]) for k in ATTRIBUTES}
        )
        fake_feats.append(judges.feats(out["images"]))
        labels = people["labels"].long()
        structure.append(judges.structure(out["images"], labels))
        if redresser.two_stage:
            seg_agree.append(constraint_agreement(out["labels"], labels))
    realism = frechet_and_kid(real_feats, torch.cat(fake_feats), kid_subset_size=min(100, n))
    row = {"model": title, **{f"acc_{k}": v for k, v in acc.compute().items()}, **_means(structure)}
    row.update(
        stage1_structure=torch.cat(seg_agree).mean().item() if seg_agree else None,
        frechet_detector=realism["frechet"],
        kid_detector=realism["kid_mean"],
        diversity_l1=_diversity(redresser, test_set, *diversity),
    )
    return row


def _diversity(redresser: Redresser, test_set, people_count: int, seeds: int) -> float:
    """Mean pairwise L1 between images of the same person and sentence under different noise."""
    idx = list(range(people_count))
    people = test_set.get_batch(idx)
    partner = test_set.get_batch(test_set.redress_pairs[idx].tolist())
    samples = torch.stack(
        [
            images_to_float(redresser.generate(people, partner["word_ids"], seed=s)["images"])
            for s in range(seeds)
        ]
    )
    return pairwise_diversity(samples).mean().item()


def _judge_steps(cfg: RunConfig, detector_steps, parser_steps) -> tuple[int, int]:
    demo = cfg.preset == "demo"
    detector_steps = (400 if demo else 4000) if detector_steps is None else detector_steps
    parser_steps = (300 if demo else 3000) if parser_steps is None else parser_steps
    return detector_steps, parser_steps


@torch.no_grad()
def evaluate_run(
    run_dir: str | Path,
    *,
    num_test: int | None = None,
    detector_steps: int | None = None,
    parser_steps: int | None = None,
    batch_size: int = 64,
    diversity_people: int = 32,
    diversity_seeds: int = 4,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """Evaluate every trained model of ``run_dir``; writes ``evaluation.json`` and ``evaluation.md`` there.

    The detector and the parser are trained on real training images on first use and kept in
    ``<run>/detector/``. Returns the result (also what ``evaluation.json`` holds): one row per model.
    """
    run_dir = Path(run_dir)
    cfg = RunConfig.load(run_dir / "config.json")
    detector_steps, parser_steps = _judge_steps(cfg, detector_steps, parser_steps)
    counts = {"detector_steps": detector_steps, "parser_steps": parser_steps, "num_test": num_test}
    for name, value in counts.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name}: expected an int >= 1, got {value!r}")
    train_set = runs.make_dataset(cfg.data, "train")
    test_set = runs.make_dataset(cfg.data, "test")
    n = len(test_set) if num_test is None else min(num_test, len(test_set))
    with torch.enable_grad():
        detector = _ensure_detector(
            run_dir, train_set, steps=detector_steps, device=device, progress=progress
        )
        parser = ensure_parser(run_dir, train_set, steps=parser_steps, device=device, progress=progress)
    judges = _Judges(
        detector=detector.eval(),
        features=detector.feature_extractor().to(device),
        parser=parser.eval(),
        test_set=test_set,
        batches=[list(range(s, min(s + batch_size, n))) for s in range(0, n, batch_size)],
        device=device,
    )
    real, real_feats = _real_row(judges, n, batch_size)
    rows = [real]
    for title, model in model_rows():
        try:
            redresser = Redresser(run_dir, render=model, device=device)
        except FileNotFoundError:
            continue
        diversity = (min(diversity_people, n), diversity_seeds)
        rows.append(_model_row(title, redresser, judges, real_feats, n, diversity))
    result = {
        "run": str(run_dir),
        "num_test": n,
        "preset": cfg.preset,
        "data": cfg.data.source,
        "rows": rows,
        "detector_steps": detector_steps,
        "parser_steps": parser_steps,
    }
    (run_dir / "evaluation.json").write_text(json.dumps(result, indent=2))
    (run_dir / "evaluation.md").write_text(format_table(result))
    return result


class _Subset:
    def __init__(self, dataset, n):
        self.dataset, self.n = dataset, n
        self.image_size = dataset.image_size

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.dataset[i]

    def get_batch(self, indices):
        return self.dataset.get_batch(indices)


_COLUMNS = (
    ("model", "model", None),
    ("acc_color", "colour acc", "{:.3f}"),
    ("acc_sleeve", "sleeve acc", "{:.3f}"),
    ("acc_category", "category acc", "{:.3f}"),
    ("acc_gender", "gender acc", "{:.3f}"),
    ("structure", "8x8 constraint agreement (parsed)", "{:.3f}"),
    ("stage1_structure", "stage-1 seg agreement", "{:.3f}"),
    ("hair_face_iou", "hair+face IoU", "{:.3f}"),
    ("background_iou", "background IoU", "{:.3f}"),
    ("frechet_detector", "FD (detector features)", "{:.4g}"),
    ("kid_detector", "KID (detector features)", "{:.3g}"),
    ("diversity_l1", "diversity (L1 across z)", "{:.4f}"),
)


def format_table(result: dict) -> str:
    """The evaluation as a markdown table."""
    lines = [
        f"Evaluation of `{result['run']}` ({result['preset']} preset, {result['data']} data, "
        f"{result['num_test']} test people redressed with their partner's sentence).",
        "",
        "| " + " | ".join(title for _, title, _ in _COLUMNS) + " |",
        "|" + "---|" * len(_COLUMNS),
    ]
    for row in result["rows"]:
        cells = []
        for key, _, fmt in _COLUMNS:
            value = row.get(key)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                cells.append("-")
            else:
                cells.append(value if fmt is None else fmt.format(value))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Accuracy targets are the attributes of the partner sentence. FD/KID are computed on the attribute "
        "detector's features, not Inception features (no FID weights offline)."
    )
    return "\n".join(lines) + "\n"
