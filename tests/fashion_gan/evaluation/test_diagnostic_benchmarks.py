"""The two diagnostic scripts of ``benchmarks/``: where control is lost, and the category's Bayes ceiling."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from fashion_gan import runs
from fashion_gan.config import RunConfig
from fashion_gan.evaluation.judges import ensure_detector

BENCH_DIR = Path(__file__).resolve().parents[3] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def where():
    return _load("where_control_is_lost")


@pytest.fixture(scope="module")
def ceiling():
    return _load("category_ceiling")


def test_where_control_is_lost_reads_every_step(where, run_copy, capsys):
    cfg = RunConfig.load(run_copy / "config.json")
    threads = torch.get_num_threads()
    try:
        with torch.enable_grad():
            ensure_detector(
                run_copy, runs.make_dataset(cfg.data, "train"), steps=2, device="cpu", progress=False
            )
        table = where.measure(run_copy, 6, 4)
        assert where.main(["--run", str(run_copy), "--num-test", "6", "--batch-size", "4"]) == 0
    finally:
        torch.set_num_threads(threads)
    assert list(table) == [
        "real test images (ceiling)",
        "stage 2 alone: real label map, own sentence",
        "both stages, own sentence",
        "both stages, partner's sentence (the evaluation)",
    ]
    for row in table.values():
        assert set(row) == set(where.COLUMNS)
        for value in row.values():
            assert math.isnan(value) or 0.0 <= value <= 1.0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("| colour (solid) | colour (multicolour) | sleeve | category |")
    assert len([line for line in lines if line.startswith("| ")]) == 5  # header and four rows


def test_where_control_is_lost_needs_a_detector(where, run_copy):
    with pytest.raises(SystemExit, match="expected a detector in .*detector/attributes"):
        where.measure(run_copy, 4, 4)


def test_where_control_is_lost_argument_errors(where, capsys):
    with pytest.raises(SystemExit):
        where.main(["--run", "x", "--num-test", "0"])
    assert "expected ints >= 1, got 0" in capsys.readouterr().err


def test_the_true_category_is_always_possible(ceiling):
    """The likelihoods follow the painter: no person shows something its own category cannot draw."""
    features = ceiling.drawn_features(3000)
    for continuous in (True, False):
        for i in range(3000):
            p = ceiling.posterior(features, i, continuous=continuous)
            assert p[features["category"][i]] > 0, (i, continuous)


def test_more_to_see_is_a_higher_ceiling(ceiling, capsys):
    assert ceiling.main(["--people", "2000"]) == 0
    out = capsys.readouterr().out
    perfect = float(out.split("perfect perception: category accuracy ")[1].split()[0])
    partial = float(out.split("without hem height and looseness: category accuracy ")[1].split()[0])
    assert 0.85 < perfect <= 1.0 and 0.6 < partial < perfect
    with pytest.raises(SystemExit):
        ceiling.main(["--people", "0"])
    assert np.isfinite(perfect)
