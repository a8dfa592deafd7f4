"""Which stage loses the sentence's garment: the run's detector read at each step of the redress.

Four rows, each read by the run's own attribute detector (``<run>/detector/attributes``, trained by
``fashion-gan evaluate`` on real training images) on the first ``--num-test`` test people:

1. real test images, against their own attributes (the detector's ceiling);
2. stage 2 alone, rendering each person's REAL label map with the person's own sentence: only the render and
   the detector can lose anything here;
3. both stages with the person's own sentence: stage 1 draws the map again;
4. both stages with the partner's sentence: the evaluation's redress protocol (identity mode ``none``).

Rows 2 and 4 against row 1 say how much the render and stage 1 each cost. Four more rows take row 4 apart:

5. the real label maps, read by stage 1's own attribute classifier (the one beside its discriminator,
   ``model.classifier``; sleeve and category only, a map has no colour): that classifier's ceiling;
6. stage 1's label maps of row 4, read by the same classifier: is the map right before the render paints it?
   Rows 5 and 6 are left out when stage 1 has no classifier;
7. row 4 over the people whose partner's sentence asks for the sleeve they already wear;
8. row 4 over the people asked for another sleeve;
9. and 10. the same two for category;
11. the people of row 10, their pictures read against their OWN category: how often the redress draws the
    garment the person already wears instead of the one asked for (category only);
12. to 15. row 4's sleeve over the people asked for each sleeve (long, short, sleeveless, unspecified: a
    sentence without a sleeve names none that a picture could show).

On the synthetic people the true picture of a redress exists: the person drawn in the partner's garments
(``SyntheticMannequins.dressed_as``). Two more rows, over the pairs whose twin wears the partner's category,
colour and sleeve (a man dressed as a woman in a dress wears another category):

16. stage 2 alone on that TRUE map of the redress, with the partner's sentence: what the render loses when
    the map is right;
17. row 4 over the same pairs. Rows 16 and 17 apart is what stage 1's maps cost.

Run after ``make demo`` (and its evaluation, which trains the detector)::

    .venv/bin/python benchmarks/where_control_is_lost.py --run runs/demo

With ``--paste`` it also asks which pixels of row 2 the detector misses: each extra row is row 2 with the REAL
image's pixels pasted over one part (one label's region, the 1-pixel band along every label edge, that band's
background side, everything but the edge band). A part whose real pixels bring row 2 up to row 1 is where the
render differs from a photograph in a way the detector reads.

About a minute on 2 CPU cores for 512 people.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from fashion_gan import runs  # noqa: E402
from fashion_gan.config import RunConfig  # noqa: E402
from fashion_gan.data.contract import SLEEVE_NAMES  # noqa: E402
from fashion_gan.evaluation.detectors import load_detector  # noqa: E402
from fashion_gan.evaluation.judges import MULTICOLOR, targets_of  # noqa: E402
from fashion_gan.inference.redress import Redresser  # noqa: E402
from fashion_gan.modeling import NUM_LABELS, get_stage  # noqa: E402
from fashion_gan.modeling.conditions import images_to_float  # noqa: E402

from condgan.layers import one_hot_labels  # noqa: E402
from condgan.nets import DiscriminatorWithClassifier  # noqa: E402
from condgan.train import latest_checkpoint, load_checkpoint, read_checkpoint_meta  # noqa: E402

COLUMNS = ("color_solid", "color_multi", "sleeve", "category")
LABEL_NAMES = ("background", "hair", "face", "upper clothes", "lower clothes", "legs", "arms")


def paste_parts(labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Part name -> bool mask ``(B, 1, H, W)``: each label's region, the edge band and its complements.

    The edge band holds the pixels with another label within one pixel (8-neighbourhood).
    """
    one_hot = torch.nn.functional.one_hot(labels.long(), 7).permute(0, 3, 1, 2).float()
    band = torch.nn.functional.max_pool2d(one_hot, 3, 1, 1).sum(1, keepdim=True) > 1
    parts = {f"the {name}": (labels == k).unsqueeze(1) for k, name in enumerate(LABEL_NAMES)}
    parts["the edge band"] = band
    parts["the edge band's background side"] = band & (labels == 0).unsqueeze(1)
    parts["all but the edge band"] = ~band
    return parts


REAL_MAP_ROW = "real label maps, read by stage 1's own classifier (its ceiling)"
MAP_ROW = "stage 1's label maps of the evaluation, read by stage 1's own classifier"
SAME_SLEEVE_ROW = "both stages, partner's sentence, the sleeve the person wears"
OTHER_SLEEVE_ROW = "both stages, partner's sentence, another sleeve"
SAME_CATEGORY_ROW = "both stages, partner's sentence, the category the person wears"
OTHER_CATEGORY_ROW = "both stages, partner's sentence, another category"
KEPT_CATEGORY_ROW = "both stages, partner's sentence, another category: read as the person's own"
ASKED_SLEEVE_ROWS = tuple(f"both stages, partner's sentence, asked {name}" for name in SLEEVE_NAMES)
TRUE_REDRESS_ROW = "stage 2 alone: the true map of the person in the partner's garments, partner's sentence"
TRUE_REDRESS_PAIRS_ROW = "both stages, partner's sentence, the same pairs"


def stage_one_classifier(run_dir: Path, cfg: RunConfig) -> torch.nn.Module | None:
    """The attribute classifier beside stage 1's discriminator (eval mode), or None when it has none.

    Stage 1 is built from its checkpoint's own configuration (the run's ``config.json`` when the checkpoint
    has none): its model fields (``model.d_head``) may differ from the run's.
    """
    ckpt = latest_checkpoint(run_dir / "shape" / "checkpoints")
    if ckpt is None:
        raise SystemExit(f"--run: expected a trained stage 1 in {run_dir / 'shape'}, got no checkpoint")
    saved = read_checkpoint_meta(ckpt).get("config")
    stage = get_stage("shape")
    _, discriminator = stage.build(stage.configure(RunConfig.from_dict(saved) if saved else cfg))
    if not isinstance(discriminator, DiscriminatorWithClassifier):
        return None
    load_checkpoint(ckpt, modules={"discriminator": discriminator}, restore_rng=False)
    return discriminator.classifier.eval()


def _map_hits(classifier, labels: torch.Tensor, targets: dict) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        logits = classifier(one_hot_labels(labels.long(), NUM_LABELS).float())
    nan = torch.full(labels.shape[:1], float("nan"))
    out = {"color_solid": nan, "color_multi": nan}
    for name in ("sleeve", "category"):
        out[name] = (logits[name].argmax(1) == targets[name]).float()
    return out


def _subset(hits: dict[str, torch.Tensor], rows: torch.Tensor) -> dict[str, torch.Tensor]:
    return {name: value[rows] for name, value in hits.items()}


def _only(hits: dict[str, torch.Tensor], column: str) -> dict[str, torch.Tensor]:
    """``hits`` with every column but ``column`` blanked (NaN): a row that reads one attribute only."""
    return {
        name: value if name == column else torch.full_like(value, math.nan) for name, value in hits.items()
    }


def _hits(detector, images_u8: torch.Tensor, targets: dict) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        logits = detector(images_to_float(images_u8))
    multi = targets["color"] == MULTICOLOR
    color = (logits["color"].argmax(1) == targets["color"]).float()
    nan = torch.full_like(color, float("nan"))
    out = {"color_solid": torch.where(multi, nan, color), "color_multi": torch.where(multi, color, nan)}
    for name in ("sleeve", "category"):
        out[name] = (logits[name].argmax(1) == targets[name]).float()
    return out


def measure(
    run_dir: Path, num_test: int, batch_size: int, paste: bool = False
) -> dict[str, dict[str, float]]:
    """Row title -> column -> accuracy (NaN-free means over the people the column applies to)."""
    folder = run_dir / "detector" / "attributes"
    if not (folder / "detector.json").is_file():
        raise SystemExit(f"--run: expected a detector in {folder} (run fashion-gan evaluate first), got none")
    detector = load_detector(folder)
    cfg = RunConfig.load(run_dir / "config.json")
    test_set = runs.make_dataset(cfg.data, "test")
    redresser = Redresser(run_dir, render="compositional", identity="none")
    classifier = stage_one_classifier(run_dir, cfg)
    n = min(num_test, len(test_set))
    parts: dict[str, dict[str, list[torch.Tensor]]] = {}

    def add(row: str, hits: dict[str, torch.Tensor]) -> None:
        for name, value in hits.items():
            parts.setdefault(row, {}).setdefault(name, []).append(value)

    for start in range(0, n, batch_size):
        idx = list(range(start, min(start + batch_size, n)))
        people = test_set.get_batch(idx)
        partner = test_set.get_batch(test_set.redress_pairs[idx].tolist())
        own = targets_of(people)
        add("real test images (ceiling)", _hits(detector, people["image"], own))
        alone = redresser.render_labels(people, people["word_ids"], people["labels"])
        add("stage 2 alone: real label map, own sentence", _hits(detector, alone["images"], own))
        for part, mask in (paste_parts(people["labels"]) if paste else {}).items():
            pasted = torch.where(mask, people["image"], alone["images"])
            add(f"stage 2 alone, real pixels of {part}", _hits(detector, pasted, own))
        both = redresser.generate(people, people["word_ids"], identity="none")
        add("both stages, own sentence", _hits(detector, both["images"], own))
        redressed = redresser.generate(people, partner["word_ids"], identity="none")
        wanted = targets_of(partner)
        hits = _hits(detector, redressed["images"], wanted)
        add("both stages, partner's sentence (the evaluation)", hits)
        if classifier is not None:
            add(REAL_MAP_ROW, _map_hits(classifier, people["labels"], own))
            add(MAP_ROW, _map_hits(classifier, redressed["labels"], wanted))
        same = wanted["sleeve"] == own["sleeve"]
        add(SAME_SLEEVE_ROW, _subset(hits, same))
        add(OTHER_SLEEVE_ROW, _subset(hits, ~same))
        same = wanted["category"] == own["category"]
        add(SAME_CATEGORY_ROW, _subset(hits, same))
        add(OTHER_CATEGORY_ROW, _subset(hits, ~same))
        # How often the redress draws the person's old category instead of the one asked for.
        add(KEPT_CATEGORY_ROW, _only(_subset(_hits(detector, redressed["images"], own), ~same), "category"))
        for k, row in enumerate(ASKED_SLEEVE_ROWS):
            add(row, _only(_subset(hits, wanted["sleeve"] == k), "sleeve"))
        if hasattr(test_set, "dressed_as"):  # synthetic people: the redress's true picture exists
            true = test_set.dressed_as(idx, test_set.redress_pairs[idx])
            same_garment = [true[name] == wanted[name] for name in ("category", "color", "sleeve")]
            wears = torch.stack(same_garment).all(0)
            shown = redresser.render_labels(people, partner["word_ids"], true["labels"])
            add(TRUE_REDRESS_ROW, _subset(_hits(detector, shown["images"], wanted), wears))
            add(TRUE_REDRESS_PAIRS_ROW, _subset(hits, wears))
    return {
        row: {name: torch.cat(values).nanmean().item() for name, values in columns.items()}
        for row, columns in parts.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="a trained run folder (make demo: runs/demo)")
    parser.add_argument("--num-test", type=int, default=512, help="test people (default 512)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--paste", action="store_true", help="also stage 2 alone with real pixels pasted over each part"
    )
    args = parser.parse_args(argv)
    if args.num_test < 1 or args.batch_size < 1:
        parser.error(
            f"--num-test and --batch-size: expected ints >= 1, got {args.num_test}, {args.batch_size}"
        )
    start = time.perf_counter()
    table = measure(args.run, args.num_test, args.batch_size, paste=args.paste)
    print(f"| {args.run} | colour (solid) | colour (multicolour) | sleeve | category |")
    print("|---|---|---|---|---|")
    for row, values in table.items():
        cells = ("-" if math.isnan(values[c]) else f"{values[c]:.3f}" for c in COLUMNS)
        print(f"| {row} | " + " | ".join(cells) + " |")
    print(f"({args.num_test} people, {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
