"""How much sleeve and category a label map shows: a strong map classifier reads real maps and stage 1's.

Stage 1's own classifier (the one beside its discriminator) is small, trained alongside G, and is the very
classifier G learnt to please, so its reading of stage 1's maps may be optimistic
(``where_control_is_lost.py``). This script trains an independent reader instead: a timm ``resnet10t`` on
one-hot label maps (7 channels) of real training people, with a head for sleeve and one for category, each
batch drawn from fresh people (``--people``, the painter draws any number) and every other batch mirrored.
It then reads, on the first ``--num-test`` test people of a finished run:

1. the real label maps (the reader's ceiling: how much a map can show);
2. stage 1's maps with the person's own sentence;
3. stage 1's maps with the partner's sentence (the evaluation's redress).

Row 1 against the image detector's ceiling says how much of an attribute lives in the map at all; rows 2
and 3 against row 1 say how much stage 1 draws. About 7 minutes on 2 idle CPU cores with the defaults::

    .venv/bin/python benchmarks/map_attributes.py --run runs/demo
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from fashion_gan import runs  # noqa: E402
from fashion_gan.config import RunConfig  # noqa: E402
from fashion_gan.inference.redress import Redresser  # noqa: E402
from fashion_gan.modeling import NUM_LABELS  # noqa: E402

from condgan.layers import one_hot_labels  # noqa: E402

ATTRIBUTES = {"sleeve": 4, "category": 19}
ROWS = (
    "real label maps (the reader's ceiling)",
    "stage 1's maps, own sentence",
    "stage 1's maps, partner's sentence (the evaluation)",
)


class MapReader(nn.Module):
    """A timm backbone on one-hot label maps ``(B, NUM_LABELS, H, W)`` with one linear head per attribute."""

    def __init__(self, backbone: str = "resnet10t") -> None:
        super().__init__()
        import timm

        self.backbone = timm.create_model(backbone, num_classes=0, in_chans=NUM_LABELS)
        width = self.backbone.num_features
        self.heads = nn.ModuleDict({name: nn.Linear(width, n) for name, n in ATTRIBUTES.items()})

    def forward(self, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits per attribute from integer label maps ``(B, H, W)``."""
        features = self.backbone(one_hot_labels(labels.long(), NUM_LABELS).float())
        return {name: head(features) for name, head in self.heads.items()}


def train_reader(
    cfg: RunConfig, *, steps: int, people: int, batch_size: int = 64, seed: int = 0
) -> MapReader:
    """A ``MapReader`` trained ``steps`` AdamW steps (cosine decay, bf16 autocast) on real label maps of
    ``people`` people."""
    data = runs.make_dataset(cfg.replace(data={"num_train": people}).data, "train")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        reader = MapReader()
    optimizer = torch.optim.AdamW(reader.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    generator = torch.Generator().manual_seed(seed)
    reader.train()
    for step in range(steps):
        batch = data.get_batch(torch.randint(len(data), (batch_size,), generator=generator).tolist())
        labels = (
            batch["labels"].flip(-1) if step % 2 else batch["labels"]
        )  # every attribute is mirror-invariant
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = reader(labels)
        loss = sum(F.cross_entropy(logits[name].float(), batch[name].long()) for name in ATTRIBUTES)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    return reader.eval()


@torch.no_grad()
def measure(run_dir: Path, reader: MapReader, num_test: int, batch_size: int) -> dict[str, dict[str, float]]:
    """Row title -> attribute -> accuracy of ``reader`` on real and stage-1 maps of ``num_test`` people."""
    cfg = RunConfig.load(run_dir / "config.json")
    test_set = runs.make_dataset(cfg.data, "test")
    redresser = Redresser(run_dir, render="compositional", identity="none")
    n = min(num_test, len(test_set))
    hits: dict[str, dict[str, list[torch.Tensor]]] = {row: {a: [] for a in ATTRIBUTES} for row in ROWS}
    for start in range(0, n, batch_size):
        idx = list(range(start, min(start + batch_size, n)))
        people = test_set.get_batch(idx)
        partner = test_set.get_batch(test_set.redress_pairs[idx].tolist())
        maps = (
            (people["labels"], people),
            (redresser.generate(people, people["word_ids"], identity="none")["labels"], people),
            (redresser.generate(people, partner["word_ids"], identity="none")["labels"], partner),
        )
        for row, (labels, wanted) in zip(ROWS, maps, strict=True):
            logits = reader(labels)
            for name in ATTRIBUTES:
                hits[row][name].append((logits[name].argmax(1) == wanted[name].long()).float())
    return {row: {a: torch.cat(v).mean().item() for a, v in cols.items()} for row, cols in hits.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="a trained run folder (make demo: runs/demo)")
    parser.add_argument("--steps", type=int, default=1600, help="the reader's training steps (default 1600)")
    parser.add_argument(
        "--people", type=int, default=1_000_000, help="distinct training people it draws from (default 1e6)"
    )
    parser.add_argument("--num-test", type=int, default=512, help="test people (default 512)")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    for name in ("steps", "people", "num_test", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: expected an int >= 1, got {getattr(args, name)}")
    if not (args.run / "config.json").is_file():
        parser.error(f"--run: expected a run folder with config.json, got {args.run}")
    start = time.perf_counter()
    cfg = RunConfig.load(args.run / "config.json")
    if cfg.data.source != "synthetic":
        parser.error(f"--run: expected a run on the synthetic data, got data.source {cfg.data.source!r}")
    reader = train_reader(cfg, steps=args.steps, people=args.people, batch_size=args.batch_size)
    table = measure(args.run, reader, args.num_test, args.batch_size)
    print(f"| {args.run} (reader: {args.steps} steps, {args.people} people) | sleeve | category |")
    print("|---|---|---|")
    for row, values in table.items():
        print(f"| {row} | {values['sleeve']:.3f} | {values['category']:.3f} |")
    print(f"({args.num_test} people, {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
