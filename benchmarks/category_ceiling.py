"""The best category accuracy any detector can reach on the synthetic people: a Bayes ceiling.

The synthetic painter draws a category only through a few things (``data/synthetic/tables.py`` and
``painters.py``): the hem height (uniform within the category's range), the looseness (the category's value
times a uniform factor 0.7..1.3), an open front, the neckline (round, V, or either), the family (top, dress,
romper, jumpsuit), trims (henley placket, jersey chest band, ribbed hems and cuffs of sweaters, bombers and
hoodies, none of them on prints), a hood (hoodies, half the parkas), a poncho's cape, a coat's wider hem and a
kimono's wide sleeves. Gender and the sleeve drawn also change the odds. This script computes, for each test
person, the exact posterior over the 19 categories given all of that and answers with its argmax:

- with perfect perception of every one of them (the ceiling of a perfect detector);
- without the two continuous ones, hem height and looseness (what is left when those cannot be read).

It also gives the sleeve ceiling: an "unspecified" sleeve is drawn as one of the three visible ones, so no
detector reads it from the picture.

    .venv/bin/python benchmarks/category_ceiling.py --people 20000

About 15 s. It reads the painter's tables, so it stays true while they do not change.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from fashion_gan.data.contract import CATEGORY_NAMES  # noqa: E402
from fashion_gan.data.synthetic.attributes import sample_attributes  # noqa: E402
from fashion_gan.data.synthetic.tables import (  # noqa: E402
    CAT,
    CAT_CDF_F,
    CAT_CDF_M,
    CATEGORY_SHAPE,
    MULTI,
    SLEEVE_CDF,
    cdf,
    column,
    pick,
)

UNSPECIFIED_SLEEVE_DRAWN = np.array([0.45, 0.35, 0.2])  # as Outfit.from_attributes draws it
RIBBED = (CAT["sweater"], CAT["bomber"], CAT["hoodie"])


def drawn_features(people: int, seed: int = 0) -> dict[str, np.ndarray]:
    """What the painter draws from each test person's category (and the gender, sleeve and print)."""
    a = sample_attributes(seed, "test", np.arange(people))
    u, cat, shape = a["u"], a["category"], CATEGORY_SHAPE[a["category"]]
    unspecified = pick(cdf(UNSPECIFIED_SLEEVE_DRAWN), column(u, "sleeve_geom"))
    return {
        "category": cat,
        "male": a["gender"] == 1,
        "multi": a["color"] == MULTI,
        "sleeve_drawn": np.where(a["sleeve"] == 3, unspecified, a["sleeve"]),
        "hem": shape[:, 0] + (shape[:, 1] - shape[:, 0]) * column(u, "hem"),
        "loose": shape[:, 2] * (0.7 + 0.6 * column(u, "loose")),
        "v_neck": np.where(shape[:, 4] == 2, column(u, "neck") < 0.5, shape[:, 4] == 1),
        "hood": (cat == CAT["hoodie"]) | ((cat == CAT["parka"]) & (column(u, "hood") < 0.5)),
    }


def posterior(f: dict[str, np.ndarray], i: int, *, continuous: bool) -> np.ndarray:
    """Unnormalised p(category | what person ``i`` shows), ``(19,)``."""
    s, k, c, multi = CATEGORY_SHAPE, np.arange(len(CATEGORY_SHAPE)), f["category"][i], f["multi"][i]
    sleeve = np.diff(np.concatenate([np.zeros((len(s), 1)), SLEEVE_CDF], 1), axis=1)  # as drawn
    sleeve_drawn = sleeve[:, :3] + sleeve[:, 3:4] * UNSPECIFIED_SLEEVE_DRAWN
    p = np.diff(np.concatenate([[0.0], CAT_CDF_M if f["male"][i] else CAT_CDF_F]))
    p = p * sleeve_drawn[:, f["sleeve_drawn"][i]]
    if continuous:
        lo, hi = s[:, 0], s[:, 1]
        p = p * ((f["hem"][i] >= lo - 1e-9) & (f["hem"][i] <= hi + 1e-9)) / np.maximum(hi - lo, 1e-3)
        loose = f["loose"][i]
        p = p * ((loose >= 0.7 * s[:, 2] - 1e-12) & (loose <= 1.3 * s[:, 2] + 1e-12)) / (0.6 * s[:, 2])
    p = p * (s[:, 3] == s[c, 3]) * (s[:, 5] == s[c, 5])  # open front, family
    p = p * np.where(s[:, 4] == 2, 0.5, s[:, 4] == f["v_neck"][i])
    p = p * (((k == CAT["henley"]) & ~multi) == ((c == CAT["henley"]) & ~multi))
    p = p * ((k == CAT["jersey"]) == (c == CAT["jersey"]))
    p = p * ((np.isin(k, RIBBED) & ~multi) == (np.isin(c, RIBBED) & ~multi))
    hood = np.where(k == CAT["hoodie"], 1.0, np.where(k == CAT["parka"], 0.5, 0.0))
    p = p * (hood if f["hood"][i] else 1.0 - hood)
    for name in ("poncho", "coat"):
        p = p * ((k == CAT[name]) == (c == CAT[name]))
    if f["sleeve_drawn"][i] != 2:  # a sleeveless kimono shows no kimono sleeves
        p = p * ((k == CAT["kimono"]) == (c == CAT["kimono"]))
    return p


def sleeve_ceiling(f: dict[str, np.ndarray]) -> float:
    """The best sleeve accuracy, even knowing each person's category: an "unspecified" sleeve (the official
    class 4, about 2% of people) is drawn as a long, short or no sleeve, so the picture shows one of the three
    and only the category's odds can tell it was unspecified. Exact over the drawn geometries."""
    counts = np.diff(np.concatenate([np.zeros((len(SLEEVE_CDF), 1)), SLEEVE_CDF], 1), axis=1)
    # p(label, drawn geometry | category): a specified sleeve is drawn as itself.
    joint = np.zeros((len(counts), 4, 3))
    joint[:, [0, 1, 2], [0, 1, 2]] = counts[:, :3]
    joint[:, 3, :] = counts[:, 3:4] * UNSPECIFIED_SLEEVE_DRAWN
    best = joint.max(axis=1).sum(axis=1)  # per category: guess the likeliest label for each geometry
    cat = f["category"]
    return float(np.mean(best[cat] / joint[cat].sum(axis=(1, 2))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=20000, help="test people (default 20000)")
    args = parser.parse_args(argv)
    if args.people < 1:
        parser.error(f"--people: expected an int >= 1, got {args.people}")
    f = drawn_features(args.people)
    truth = f["category"]
    for continuous, title in ((True, "perfect perception"), (False, "without hem height and looseness")):
        guess = np.array([np.argmax(posterior(f, i, continuous=continuous)) for i in range(args.people)])
        print(f"{title}: category accuracy {np.mean(guess == truth):.3f} ({args.people} test people)")
        if continuous:
            recall = {CATEGORY_NAMES[c]: np.mean(guess[truth == c] == c) for c in np.unique(truth)}
            print("  recall below 0.9:", {k: round(float(v), 3) for k, v in recall.items() if v < 0.9})
    print(f"sleeve, perfect perception and the category known: accuracy {sleeve_ceiling(f):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
