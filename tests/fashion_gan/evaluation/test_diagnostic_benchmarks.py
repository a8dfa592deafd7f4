"""The diagnostic scripts of ``benchmarks/``: where control is lost, the category's Bayes ceiling, and what
stage 1's own inputs say of the garment a person wears."""

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


@pytest.fixture(scope="module")
def leak():
    return _load("constraint_leak")


@pytest.fixture(scope="module")
def maps():
    return _load("map_attributes")


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
        where.REAL_MAP_ROW,  # the demo preset's stage 1 has a classifier beside its D
        where.MAP_ROW,
        where.SAME_SLEEVE_ROW,
        where.OTHER_SLEEVE_ROW,
        where.SAME_CATEGORY_ROW,
        where.OTHER_CATEGORY_ROW,
        where.KEPT_CATEGORY_ROW,
        *where.ASKED_SLEEVE_ROWS,
        where.TRUE_REDRESS_ROW,  # synthetic people: the redress's true picture exists
        where.TRUE_REDRESS_PAIRS_ROW,
    ]
    for row in table.values():
        assert set(row) == set(where.COLUMNS)
        for value in row.values():
            assert math.isnan(value) or 0.0 <= value <= 1.0
    kept = table[where.KEPT_CATEGORY_ROW]  # category only: read against the person's own
    assert [name for name in where.COLUMNS if not math.isnan(kept[name])] in ([], ["category"])
    for row in where.ASKED_SLEEVE_ROWS:  # sleeve only
        assert all(math.isnan(table[row][name]) for name in where.COLUMNS if name != "sleeve")
    for row in (where.REAL_MAP_ROW, where.MAP_ROW):  # a label map has no colour
        assert math.isnan(table[row]["color_solid"]) and math.isnan(table[row]["color_multi"])
        assert 0.0 <= table[row]["sleeve"] <= 1.0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("| colour (solid) | colour (multicolour) | sleeve | category |")
    assert len([line for line in lines if line.startswith("| ")]) == 18  # header and seventeen rows
    assert any(line.startswith(f"| {where.MAP_ROW} | - | - | ") for line in lines)


def test_stage_one_classifier_only_when_stage_one_has_one(where, run_copy, monkeypatch):
    cfg = RunConfig.load(run_copy / "config.json")
    # Built from the checkpoint's own config: a run config with another D head still loads it.
    classifier = where.stage_one_classifier(run_copy, cfg.replace(model={"d_head": "projection"}))
    assert not classifier.training and set(classifier.head_sizes) == {"sleeve", "category"}
    monkeypatch.setattr(where, "read_checkpoint_meta", lambda path: {})  # a checkpoint without its config
    assert where.stage_one_classifier(run_copy, cfg.replace(model={"classifier": False})) is None


def test_paste_rows_put_real_pixels_over_each_part(where, run_copy):
    cfg = RunConfig.load(run_copy / "config.json")
    with torch.enable_grad():
        ensure_detector(run_copy, runs.make_dataset(cfg.data, "train"), steps=2, device="cpu", progress=False)
    table = where.measure(run_copy, 4, 4, paste=True)
    pasted = [row for row in table if row.startswith("stage 2 alone, real pixels of")]
    assert len(pasted) == 7 + 3  # every label, the edge band, its background side, all but the band
    # pasting everything but the band and then the band gives back the real image: both rows exist
    assert "stage 2 alone, real pixels of the edge band" in table
    assert "stage 2 alone, real pixels of all but the edge band" in table


def test_paste_parts_cover_the_picture(where):
    labels = torch.zeros(1, 6, 6, dtype=torch.long)
    labels[0, 2:4, 2:4] = 3  # a 2x2 garment on the background
    parts = where.paste_parts(labels)
    regions = torch.stack([parts[f"the {name}"] for name in where.LABEL_NAMES]).long()
    assert torch.equal(regions.sum(0), torch.ones(1, 1, 6, 6, dtype=torch.long))  # a partition
    band = parts["the edge band"]
    assert int(band.sum()) == 16  # the 4x4 square around the garment: its 4 pixels and 12 neighbours
    assert torch.equal(band | parts["all but the edge band"], torch.ones_like(band))
    outside = parts["the edge band's background side"]
    assert int(outside.sum()) == 12 and not (outside & parts["the upper clothes"]).any()


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
    sleeve = float(out.split("sleeve, perfect perception and the category known: accuracy ")[1].split()[0])
    assert 0.95 < sleeve < 1.0  # an unspecified sleeve is drawn as a visible one
    with pytest.raises(SystemExit):
        ceiling.main(["--people", "0"])
    assert np.isfinite(perfect)


def test_sleeve_ceiling_is_one_without_unspecified_sleeves(ceiling, monkeypatch):
    cdf = ceiling.SLEEVE_CDF.copy()
    cdf[:, 3] = cdf[:, 2]  # no probability left for "unspecified"
    cdf[:, 2] = np.minimum(cdf[:, 2], 1.0)
    monkeypatch.setattr(ceiling, "SLEEVE_CDF", cdf)
    assert ceiling.sleeve_ceiling({"category": np.arange(len(cdf))}) == pytest.approx(1.0)


def test_a_probe_reads_what_its_input_holds(leak):
    """Inputs that are the class itself are read perfectly; pure noise no better than chance on balanced
    classes. The global RNG is left alone."""
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(200) % 4
    shown = torch.nn.functional.one_hot(y, 4).float() + 0.05 * torch.randn(200, 4, generator=gen)
    state = torch.get_rng_state()
    assert leak.probe_accuracy(shown[:150], y[:150], shown[150:], y[150:], 4, steps=200) == 1.0
    assert leak.probe_accuracy(shown[:150], y[:150], shown[150:], y[150:], 4, hidden=8, steps=200) == 1.0
    assert torch.equal(torch.get_rng_state(), state)
    noise = torch.randn(2000, 4, generator=gen)
    y = torch.arange(2000) % 4
    assert leak.probe_accuracy(noise[:1000], y[:1000], noise[1000:], y[1000:], 4, steps=200) < 0.35


def test_constraint_leak_prints_every_probe(leak, capsys):
    assert leak.main(["--train-people", "64", "--test-people", "16", "--steps", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "| the person's own | majority class | constraint linear | constraint MLP | appearance linear | "
        "appearance MLP |"
    )
    for line, name in zip(lines[2:4], ("sleeve", "category"), strict=True):
        cells = line.strip("|").split("|")
        assert cells[0].strip() == name
        assert all(0.0 <= float(c) <= 1.0 for c in cells[1:])
    with pytest.raises(SystemExit):
        leak.main(["--steps", "0"])
    assert "expected ints >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="expected at most 20000 people of the train split, got 20001"):
        leak.main(["--train-people", "20001", "--test-people", "4", "--steps", "1"])


def test_a_map_reader_reads_one_hot_maps_and_leaves_the_global_rng_alone(maps, trained_run):
    cfg = RunConfig.load(trained_run / "config.json")
    state = torch.get_rng_state()
    threads = torch.get_num_threads()
    try:
        reader = maps.train_reader(cfg, steps=2, people=96, batch_size=4)
        again = maps.train_reader(cfg, steps=2, people=96, batch_size=4)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(torch.get_rng_state(), state)
    assert not reader.training
    for mine, other in zip(reader.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(mine, other)  # seeded: the same reader twice
    labels = torch.randint(0, 7, (3, 32, 32))
    with torch.no_grad():
        logits = reader(labels)
    assert {name: tuple(t.shape) for name, t in logits.items()} == {"sleeve": (3, 4), "category": (3, 19)}


def test_map_attributes_reads_real_and_stage_one_maps(maps, trained_run, capsys):
    threads = torch.get_num_threads()
    try:
        argv = ["--run", str(trained_run), "--steps", "2", "--people", "96", "--num-test", "6"]
        assert maps.main([*argv, "--batch-size", "4"]) == 0
    finally:
        torch.set_num_threads(threads)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("(reader: 2 steps, 96 people) | sleeve | category |")
    rows = [line for line in lines[2:] if line.startswith("| ")]
    assert [row.split(" | ")[0][2:] for row in rows] == list(maps.ROWS)
    for row in rows:
        assert all(0.0 <= float(cell) <= 1.0 for cell in row.strip("|").split("|")[1:])


def test_map_attributes_argument_errors(maps, tmp_path, capsys):
    with pytest.raises(SystemExit):
        maps.main(["--run", str(tmp_path), "--steps", "0"])
    assert "--steps: expected an int >= 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        maps.main(["--run", str(tmp_path / "none")])
    assert "expected a run folder with config.json" in capsys.readouterr().err
