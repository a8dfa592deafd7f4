"""The evaluation's human parser: a small U-Net trained on real training images to segment generated ones."""

from __future__ import annotations

import json
from pathlib import Path

import safetensors.torch
import torch
import torch.nn.functional as F
from torch import nn

from condgan.layers import UNetDecoder, UNetEncoder, unet_channels

from ..modeling import NUM_LABELS
from ..modeling.conditions import images_to_float

__all__ = ["SegmentationParser", "train_parser", "ensure_parser", "parse_images"]


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
    """Fit [`SegmentationParser`][fashion_gan.evaluation.parser.SegmentationParser] on real training images
    with per-pixel cross-entropy."""
    gen = torch.Generator().manual_seed(seed)
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    parser = SegmentationParser(image_size=dataset.image_size).to(device)
    torch.random.set_rng_state(torch_state)
    opt = torch.optim.Adam(parser.parameters(), lr=lr)
    bar = progress_bar(progress, steps, "parser")
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


def progress_bar(enabled, total, desc):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", dynamic_ncols=True)


def ensure_parser(run_dir: Path, train_set, *, steps, device, progress) -> SegmentationParser:
    """The run's parser, loaded from ``<run>/detector/parser.*`` or trained on ``train_set`` and saved, with a
    record of its training steps (``parser_training.json``); a saved parser trained for other steps is refused
    ([`check_training_record`][fashion_gan.evaluation.judges.check_training_record])."""
    from .judges import check_training_record, write_training_record

    folder = run_dir / "detector"
    path = folder / "parser.safetensors"
    record, asked = folder / "parser_training.json", {"steps": steps}
    if path.is_file():
        check_training_record(record, asked)
        meta = json.loads(path.with_suffix(".json").read_text())
        parser = SegmentationParser(**meta)
        safetensors.torch.load_model(parser, str(path))
        return parser.to(device).eval()
    parser = train_parser(train_set, steps=steps, device=device, progress=progress)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("parser.tmp")
    safetensors.torch.save_model(parser, str(tmp))
    path.with_suffix(".json").write_text(json.dumps(parser.kwargs))
    write_training_record(record, asked)  # before the weights: a kill between leaves no unrecorded parser
    tmp.replace(path)
    return parser


@torch.no_grad()
def parse_images(parser: SegmentationParser, images_u8: torch.Tensor, device) -> torch.Tensor:
    """Labels ``(B, H, W)`` the parser reads from uint8 images ``(B, 3, H, W)``."""
    return parser(images_to_float(images_u8).to(device)).argmax(1).cpu()
