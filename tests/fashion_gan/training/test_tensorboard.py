"""``train --tensorboard``: scalars, learning rates, sample sheets and the config in TensorBoard's event
files, metrics.jsonl unchanged, and a resume that does not double the curves."""

from __future__ import annotations

import pytest
import torch
from fashion_gan import cli

from condgan.train import read_metrics

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def _events(folder):
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    return acc


def _train(out, steps, tiny_options, *extra):
    threads = torch.get_num_threads()
    try:
        argv = ["train", "--out", str(out), "--stage", "shape", *tiny_options, "--steps", str(steps), *extra]
        return cli.main([*argv, "--set", "train.sample_every=2"])
    finally:
        torch.set_num_threads(threads)


def test_tensorboard_logs_what_metrics_jsonl_logs_and_more(fresh_run, tiny_options):
    assert _train(fresh_run, 4, tiny_options, "--tensorboard") == 0
    model = fresh_run / "shape"
    acc = _events(model / "tensorboard")
    tags = acc.Tags()
    records = read_metrics(model / "metrics.jsonl")
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    for key in ("d_total", "g_adv", "g_rec"):
        values = [e.value for e in acc.Scalars(f"loss/{key}")]
        assert values == pytest.approx([r[key] for r in records])
    assert "train/images_per_s" in tags["scalars"] and "lr/generator" in tags["scalars"]
    assert [e.step for e in acc.Images("samples")] == [2, 4]
    assert "config/text_summary" in tags["tensors"] or any("config" in t for t in tags["tensors"])


def test_resume_does_not_double_the_curves(fresh_run, tiny_options):
    assert _train(fresh_run, 2, tiny_options, "--tensorboard") == 0
    assert _train(fresh_run, 4, tiny_options, "--tensorboard", "--resume") == 0
    steps = [e.step for e in _events(fresh_run / "shape" / "tensorboard").Scalars("loss/d_total")]
    assert sorted(steps) == [1, 2, 3, 4]


def test_without_the_switch_there_is_no_tensorboard_folder(fresh_run, tiny_options):
    assert _train(fresh_run, 2, tiny_options) == 0
    assert not (fresh_run / "shape" / "tensorboard").exists()
