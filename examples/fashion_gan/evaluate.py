"""The paper's evaluation protocol on the test split with the redress pairs.

Test person i is redressed with the sentence of test person ``redress_pairs[i]`` (the official
``test_set_pair_ind`` protocol). For every trained model of a run:

- **attribute accuracy**: attribute detectors (a timm backbone trained here on REAL training images) classify
  the
  generated image; the target is the partner sentence's colour, sleeve, category and gender. Their accuracy on
  real test images is reported too: it is the ceiling.
- **structure**: a small U-Net parser (trained here on real training images) segments the generated image; we
  report the agreement of its merged 8x8 constraint with the input person's (1 = identical) and the IoU of
  hair + face and of the background. The two-stage models also get the agreement of stage 1's own
  segmentation.
- **realism**: Frechet distance and KID between real test images and generated images ON THE DETECTOR'S
  FEATURES (not FID: the Inception weights are not available offline; see
  :func:`condgan.metrics.inception_frechet`).
- **diversity**: mean pairwise L1 between images of the same person and sentence under different noise.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import safetensors.torch
import torch
import torch.nn.functional as F
from torch import nn

from condgan.layers.blocks import UNetDecoder, UNetEncoder, unet_channels
from condgan.metrics import (
    AttributeAccuracy,
    constraint_agreement,
    frechet_and_kid,
    pairwise_diversity,
    region_agreement,
)

from . import runs
from .conditions import NUM_LABELS, images_to_float
from .config import RunConfig
from .detectors import evaluate_detector, load_detector, save_detector, train_detector
from .generate import Redresser

__all__ = ["SegmentationParser", "train_parser", "evaluate_run", "MODEL_ROWS", "format_table"]

# (row name in the table, model to load); a row is skipped when its model was not trained.
MODEL_ROWS = (
    ("FashionGAN (compositional)", "compositional"),
    ("Non-Compositional", "plain"),
    ("Two-stage, official ih1_skip", "ih1_skip"),
    ("Two-stage, official ih1", "ih1"),
    ("One-Step GAN (8-7)", "onestep_87"),
    ("One-Step GAN (8-4)", "onestep_84"),
)
ATTRIBUTES = ("color", "sleeve", "category", "gender")


class SegmentationParser(nn.Module):
    """A small U-Net from an image in [-1, 1] to 7-class logits: the evaluation's human parser."""

    def __init__(self, *, image_size: int, base_channels: int = 16, levels: int = 4):
        super().__init__()
        channels = unet_channels(image_size, base_channels=base_channels, max_channels=base_channels * 8)[
            :levels
        ]
        self.encoder = UNetEncoder(3, channels=channels)
        self.decoder = UNetDecoder(
            in_channels=channels[-1],
            skip_channels=channels[-2::-1],
            channels=channels[-2::-1],
            out_channels=NUM_LABELS,
            num_dropout=0,
        )
        self.kwargs = {"image_size": image_size, "base_channels": base_channels, "levels": levels}

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        feats = self.encoder(images)
        return self.decoder(feats[-1], feats[-2::-1])


def train_parser(
    dataset,
    *,
    steps: int,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    device="cpu",
    progress: bool = True,
) -> SegmentationParser:
    """Fit :class:`SegmentationParser` on real training images with per-pixel cross-entropy."""
    gen = torch.Generator().manual_seed(seed)
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    parser = SegmentationParser(image_size=dataset.image_size).to(device)
    torch.random.set_rng_state(torch_state)
    opt = torch.optim.Adam(parser.parameters(), lr=lr)
    bar = _bar(progress, steps, "parser")
    for _ in range(steps):
        idx = torch.randint(len(dataset), (batch_size,), generator=gen).tolist()
        batch = dataset.get_batch(idx)
        logits = parser(images_to_float(batch["image"]).to(device))
        loss = F.cross_entropy(logits, batch["labels"].long().to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    if bar is not None:
        bar.close()
    return parser.eval()


def _bar(enabled, total, desc):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", dynamic_ncols=True)


def _ensure_parser(run_dir: Path, train_set, *, steps, device, progress) -> SegmentationParser:
    folder = run_dir / "detector"
    path = folder / "parser.safetensors"
    if path.is_file():
        meta = json.loads(path.with_suffix(".json").read_text())
        parser = SegmentationParser(**meta)
        safetensors.torch.load_model(parser, str(path))
        return parser.to(device).eval()
    parser = train_parser(train_set, steps=steps, device=device, progress=progress)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("parser.tmp")
    safetensors.torch.save_model(parser, str(tmp))
    path.with_suffix(".json").write_text(json.dumps(parser.kwargs))
    tmp.replace(path)
    return parser


def _ensure_detector(run_dir: Path, train_set, *, steps, device, progress):
    folder = run_dir / "detector" / "attributes"
    if (folder / "detector.json").is_file():
        return load_detector(folder, device=device)
    detector = train_detector(
        train_set, steps=steps, device=device, image_size=train_set.image_size, progress=progress
    )
    save_detector(detector, folder)
    return detector.eval()


@torch.no_grad()
def _parse(parser, images_u8, device):
    return parser(images_to_float(images_u8).to(device)).argmax(1).cpu()


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
    """Evaluate every trained model of ``run_dir``; writes ``evaluation.json`` and ``evaluation.md`` there."""
    run_dir = Path(run_dir)
    cfg = RunConfig.load(run_dir / "config.json")
    demo = cfg.preset == "demo"
    detector_steps = (400 if demo else 4000) if detector_steps is None else detector_steps
    parser_steps = (300 if demo else 3000) if parser_steps is None else parser_steps
    counts = {"detector_steps": detector_steps, "parser_steps": parser_steps, "num_test": num_test}
    for name, value in counts.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name}: expected an int >= 1, got {value!r}")
    train_set = runs.make_dataset(cfg.data, "train")
    test_set = runs.make_dataset(cfg.data, "test")
    n = len(test_set) if num_test is None else min(num_test, len(test_set))
    pairs = test_set.redress_pairs
    with torch.enable_grad():
        detector = _ensure_detector(
            run_dir, train_set, steps=detector_steps, device=device, progress=progress
        )
        parser = _ensure_parser(run_dir, train_set, steps=parser_steps, device=device, progress=progress)
    detector.eval()
    parser.eval()

    real = {"model": "Real test images (ceiling)"}
    real.update(
        {
            f"acc_{k}": v
            for k, v in evaluate_detector(detector, _Subset(test_set, n), batch_size=batch_size).items()
        }
    )
    features = detector.feature_extractor().to(device)
    real_feats, real_agree, real_hf, real_bg = [], [], [], []
    batches = [list(range(s, min(s + batch_size, n))) for s in range(0, n, batch_size)]
    for idx in batches:
        b = test_set.get_batch(idx)
        real_feats.append(features(images_to_float(b["image"]).to(device)).cpu())
        parsed = _parse(parser, b["image"], device)
        labels = b["labels"].long()
        real_agree.append(constraint_agreement(parsed, labels))
        real_hf.append(region_agreement(parsed, labels, (1, 2)))
        real_bg.append(region_agreement(parsed, labels, 0))
    real_feats = torch.cat(real_feats)
    real.update(
        structure=torch.cat(real_agree).mean().item(),
        hair_face_iou=torch.cat(real_hf).mean().item(),
        background_iou=torch.cat(real_bg).mean().item(),
    )
    rows = [real]
    for row_name, model in MODEL_ROWS:
        try:
            redresser = Redresser(run_dir, render=model, device=device)
        except FileNotFoundError:
            continue
        acc = AttributeAccuracy()
        fake_feats, agree, hf, bg, seg_agree = [], [], [], [], []
        for idx in batches:
            people = test_set.get_batch(idx)
            partner = test_set.get_batch(pairs[idx].tolist())
            out = redresser.generate(people, partner["word_ids"], seed=0)
            logits = detector(images_to_float(out["images"]).to(device))
            acc.update(
                {k: logits[k].cpu() for k in ATTRIBUTES}, {k: torch.as_tensor(partner[k]) for k in ATTRIBUTES}
            )
            fake_feats.append(features(images_to_float(out["images"]).to(device)).cpu())
            parsed = _parse(parser, out["images"], device)
            labels = people["labels"].long()
            agree.append(constraint_agreement(parsed, labels))
            hf.append(region_agreement(parsed, labels, (1, 2)))
            bg.append(region_agreement(parsed, labels, 0))
            if redresser.shape is not None:
                seg_agree.append(constraint_agreement(out["labels"], labels))
        fake_feats = torch.cat(fake_feats)
        realism = frechet_and_kid(real_feats, fake_feats, kid_subset_size=min(100, n))
        div_idx = list(range(min(diversity_people, n)))
        people = test_set.get_batch(div_idx)
        partner = test_set.get_batch(pairs[div_idx].tolist())
        samples = torch.stack(
            [
                images_to_float(redresser.generate(people, partner["word_ids"], seed=s)["images"])
                for s in range(diversity_seeds)
            ]
        )
        row = {"model": row_name, **{f"acc_{k}": v for k, v in acc.compute().items()}}
        row.update(
            structure=torch.cat(agree).mean().item(),
            hair_face_iou=torch.cat(hf).mean().item(),
            background_iou=torch.cat(bg).mean().item(),
            stage1_structure=torch.cat(seg_agree).mean().item() if seg_agree else None,
            frechet_detector=realism["frechet"],
            kid_detector=realism["kid_mean"],
            diversity_l1=pairwise_diversity(samples).mean().item(),
        )
        rows.append(row)
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
