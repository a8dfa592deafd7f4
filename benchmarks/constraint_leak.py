"""How much of the garment a person already wears stage 1 can read from its own inputs besides the sentence.

Stage 1 sees the person's merged 4x8x8 spatial constraint and the design code's appearance part (skin and hair
colour, hair extent). Both are meant to carry the body, not the garment. This script trains small probes
(a linear layer and a one-hidden-layer MLP, full-batch Adam, seeded) to read the person's OWN sleeve and
category from each, on real training people, and reports their accuracy on test people beside the majority
class. A probe far above the majority class means the input carries the attribute: with a partner's sentence
stage 1 is then told two different things. About 3 minutes on 2 busy CPU cores with the defaults::

    .venv/bin/python benchmarks/constraint_leak.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from fashion_gan.config import preset  # noqa: E402
from fashion_gan.data.synthetic import SyntheticMannequins  # noqa: E402
from fashion_gan.modeling.conditions import build_conditions  # noqa: E402

ATTRIBUTES = {"sleeve": 4, "category": 19}


def probe_inputs(data: SyntheticMannequins, count: int) -> dict:
    """``constraint`` (N, 4*m*m), ``appearance`` (N, 7) and the attributes (N,) of the first ``count``
    people of ``data``, with the demo preset's constraint (8x8, bicubic)."""
    if count > len(data):
        raise SystemExit(f"expected at most {len(data)} people of the {data.split} split, got {count}")
    model = preset("demo").model
    parts: dict[str, list[torch.Tensor]] = {}
    for start in range(0, count, 256):
        batch = data.get_batch(list(range(start, min(count, start + 256))))
        cond = build_conditions(
            batch["image"],
            batch["labels"],
            constraint_size=model.constraint_size,
            constraint_mode=model.constraint_mode,
        )
        values = {"constraint": cond.constraint4.flatten(1), "appearance": cond.appearance}
        values.update({name: batch[name].long() for name in ATTRIBUTES})
        for name, value in values.items():
            parts.setdefault(name, []).append(value)
    return {name: torch.cat(value) for name, value in parts.items()}


def probe_accuracy(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    classes: int,
    *,
    hidden: int = 0,
    steps: int = 500,
    seed: int = 0,
) -> float:
    """Test accuracy of a probe (linear, or an MLP with ``hidden`` units) fitted to standardised inputs."""
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    with torch.random.fork_rng():  # seeded weights; the global RNG is left as it was
        torch.manual_seed(seed)
        width = x_train.shape[1]
        net = (
            nn.Linear(width, classes)
            if not hidden
            else nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, classes))
        )
    opt = torch.optim.Adam(net.parameters(), lr=1e-2, weight_decay=1e-4)
    with torch.enable_grad():
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.cross_entropy(net(x_train), y_train).backward()
            opt.step()
    with torch.no_grad():
        return (net(x_test).argmax(1) == y_test).float().mean().item()


def measure(train_people: int, test_people: int, steps: int = 500) -> dict[str, dict[str, float]]:
    """Attribute -> {"majority class", "<input> linear", "<input> MLP"} -> test accuracy."""
    train = probe_inputs(SyntheticMannequins(split="train", image_size=64), train_people)
    test = probe_inputs(SyntheticMannequins(split="test", image_size=64, num_test=test_people), test_people)
    table: dict[str, dict[str, float]] = {}
    for name, classes in ATTRIBUTES.items():
        majority = torch.bincount(train[name], minlength=classes).argmax()
        row = {"majority class": (test[name] == majority).float().mean().item()}
        for source in ("constraint", "appearance"):
            for kind, hidden in (("linear", 0), ("MLP", 256)):
                row[f"{source} {kind}"] = probe_accuracy(
                    train[source], train[name], test[source], test[name], classes, hidden=hidden, steps=steps
                )
        table[name] = row
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-people", type=int, default=8000, help="training people (default 8000)")
    parser.add_argument("--test-people", type=int, default=512, help="test people (default 512)")
    parser.add_argument("--steps", type=int, default=500, help="probe training steps (default 500)")
    args = parser.parse_args(argv)
    if min(args.train_people, args.test_people, args.steps) < 1:
        parser.error(
            "--train-people, --test-people and --steps: expected ints >= 1, got "
            f"{args.train_people}, {args.test_people}, {args.steps}"
        )
    start = time.perf_counter()
    table = measure(args.train_people, args.test_people, args.steps)
    columns = list(next(iter(table.values())))
    print("| the person's own | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(f"{row[c]:.3f}" for c in columns) + " |")
    seconds = time.perf_counter() - start
    print(f"({args.train_people} training and {args.test_people} test people, {seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
