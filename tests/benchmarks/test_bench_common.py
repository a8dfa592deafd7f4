"""benchmarks/bench_common.py: timing, FLOP counting, memory, variants, tables, JSON."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn


@pytest.fixture(scope="module")
def bc(bench):
    return bench("bench_common")


def test_time_interleaved_alternates_the_order_and_counts_rounds(bc):
    calls = []
    fns = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b"), "c": lambda: calls.append("c")}
    times = bc.time_interleaved(fns, warmup=1, iters=2)
    assert calls == ["a", "b", "c"] + ["a", "b", "c"] + ["c", "b", "a"]
    assert {k: len(v) for k, v in times.items()} == {"a": 2, "b": 2, "c": 2}
    assert all(t >= 0 for v in times.values() for t in v)


def test_time_interleaved_min_seconds_adds_rounds_up_to_four_times(bc):
    times = bc.time_interleaved({"x": lambda: None}, warmup=0, iters=2, min_seconds=10.0)
    assert len(times["x"]) == 8


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fns": {}}, ValueError, "fns: expected at least one function to time, got none"),
        ({"fns": {"a": 3}}, TypeError, "fns\\['a'\\]: expected a callable, got int"),
        ({"fns": {"a": print}, "iters": 0}, ValueError, "iters: expected an int >= 1, got 0"),
        ({"fns": {"a": print}, "warmup": -1}, ValueError, "warmup: expected an int >= 0, got -1"),
    ],
)
def test_time_interleaved_validation(bc, kwargs, error, match):
    with pytest.raises(error, match=match):
        bc.time_interleaved(**kwargs)


def test_count_flops_of_a_linear_layer(bc):
    layer, x = nn.Linear(8, 5), torch.randn(3, 8)
    assert bc.count_flops(lambda: layer(x)) == 2 * 3 * 8 * 5
    assert bc.count_flops(lambda: layer(x).sum().backward()) == 2 * (2 * 3 * 8 * 5)  # + weight gradient
    x.requires_grad_()
    assert bc.count_flops(lambda: layer(x).sum().backward()) == 3 * (2 * 3 * 8 * 5)  # + input gradient


def test_peak_memory_on_cpu_sees_a_big_allocation(bc):
    base = bc.peak_memory(lambda: None, "cpu")
    assert base["kind"] == "cpu_peak_rss" and base["bytes"] > 0
    big = bc.peak_memory(lambda: torch.ones(64, 2**20, dtype=torch.uint8).add_(1), "cpu")
    if big["reset"]:  # the peak could be reset: the 64 MiB tensor shows
        assert big["bytes"] - big["before_bytes"] >= 48 * 2**20


def test_variants_and_build_iteration_validation(bc):
    cpu = bc.condgan_variant("cpu")
    assert (cpu.precision, cpu.channels_last, cpu.compile, cpu.single_d_call, cpu.adam) == (
        "bf16",
        True,
        False,
        True,
        "fused",
    )
    assert bc.condgan_variant("cuda").compile is True
    assert bc.condgan_variant("cuda", compile=False).compile is False
    cfg = bc.run_config(image_size=32, width=0.0625)
    batch = bc.synthetic_batch(32, 2)
    with pytest.raises(ValueError, match=r"model: expected one of \[.*'shape'.*\], got 'render'"):
        bc.build_iteration("render", bc.PLAIN, cfg=cfg, device="cpu", batch=batch)
    with pytest.raises(TypeError, match="variant: expected a Variant, got str"):
        bc.build_iteration("shape", "plain", cfg=cfg, device="cpu", batch=batch)
    with pytest.raises(ValueError, match="variant.adam: expected 'auto', 'fused', 'foreach' or 'loop', got"):
        bc.build_iteration("shape", bc.Variant("x", adam="sgd"), cfg=cfg, device="cpu", batch=batch)


def test_synthetic_batch_and_config(bc):
    batch = bc.synthetic_batch(32, 3)
    assert batch["image"].shape == (3, 3, 32, 32) and batch["image"].dtype == torch.uint8
    assert batch["labels"].shape == (3, 32, 32) and batch["word_ids"].dtype == torch.int64
    cfg = bc.run_config(image_size=64, width=0.5, batch_size=8)
    assert (cfg.data.image_size, cfg.model.width, cfg.train.batch_size) == (64, 0.5, 8)
    assert cfg.preset == "faithful"


def test_format_table_and_write_json(bc, tmp_path):
    rows = [{"a": 1234.5, "b": 0.012345, "c": None}, {"a": 3.14159, "b": "x"}]
    table = bc.format_table(rows, ["a", "b", "c"])
    expected = ["| a | b | c |", "|---|---|---|", "| 1,234 | 0.0123 |  |", "| 3.14 | x |  |"]
    assert table.splitlines() == expected
    path = bc.write_json(tmp_path / "sub" / "r.json", {"v": bc.Variant("v"), "d": torch.device("cpu")})
    doc = json.loads(path.read_text())
    assert doc["v"]["name"] == "v" and doc["d"] == "cpu"
    assert not list(tmp_path.glob("sub/*.tmp"))


def test_environment(bc):
    env = bc.environment("cpu")
    assert env["torch"] == torch.__version__ and env["device"] == "cpu" and env["threads"] >= 1
    assert "date" in env and "load_average" in env
