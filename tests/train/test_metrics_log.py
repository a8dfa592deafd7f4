"""Tests of condgan.train.metrics_log: JSONL append, crash-safe resume without gaps or duplicates."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.train import MetricsLog, read_metrics


def test_append_and_read(tmp_path):
    path = tmp_path / "run" / "metrics.jsonl"  # parent folders are created
    with MetricsLog(path) as log:
        log.log(1, d_total=torch.tensor(0.5), g=np.float32(2.0), name="a", nan=float("nan"))
        log.write({"step": 1, "fid": 12.5})
        assert log.last_step == 1
    records = read_metrics(path)
    assert records[0]["d_total"] == 0.5 and records[0]["g"] == 2.0 and math.isnan(records[0]["nan"])
    assert records[1] == {"step": 1, "fid": 12.5}
    assert path.read_text().count("\n") == 2


def test_each_record_is_fsynced(tmp_path, monkeypatch):
    calls = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd)))
    with MetricsLog(tmp_path / "m.jsonl") as log:
        for step in range(3):
            log.log(step, x=1.0)
    assert len(calls) == 3


def test_steps_must_not_go_backwards(tmp_path):
    with MetricsLog(tmp_path / "m.jsonl") as log:
        log.log(5, x=1)
        with pytest.raises(ValueError, match=r"record\['step'\]: expected >= the last logged step 5, got 3"):
            log.log(3, x=1)
    # reopening without resume keeps the guard
    with MetricsLog(tmp_path / "m.jsonl") as log, pytest.raises(ValueError, match="MetricsLog.resume"):
        log.log(4, x=1)


def test_resume_truncates_later_records(tmp_path):
    path = tmp_path / "m.jsonl"
    with MetricsLog(path) as log:
        for step in range(1, 11):
            log.log(step, loss=float(step))
    with MetricsLog.resume(path, step=6) as log:
        assert log.last_step == 6
        for step in range(7, 9):
            log.log(step, loss=-float(step))
    steps = [r["step"] for r in read_metrics(path)]
    assert steps == [1, 2, 3, 4, 5, 6, 7, 8]  # no gap, no duplicate
    assert read_metrics(path)[-1]["loss"] == -8.0


def test_resume_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "m.jsonl"
    with MetricsLog(path) as log:
        for step in range(5):
            log.log(step, x=step)
    before = path.read_bytes()

    def crash(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="No space left"):
        MetricsLog.resume(path, step=2)
    monkeypatch.undo()
    assert path.read_bytes() == before  # old log intact
    assert [p.name for p in tmp_path.iterdir()] == ["m.jsonl"]  # no temporary file left


def test_torn_last_line_is_dropped(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"step": 1, "x": 1}\n{"step": 2, "x"')  # a crash in the middle of a write
    with pytest.warns(UserWarning, match="dropping a torn last line"):
        log = MetricsLog(path)
    log.log(2, x=2)
    log.close()
    assert read_metrics(path) == [{"step": 1, "x": 1}, {"step": 2, "x": 2}]
    path.write_text('{"step": 1}\n{"step": 3, "x"')
    with MetricsLog.resume(path, step=5) as log:
        assert log.last_step == 1
    assert path.read_text() == '{"step": 1}\n'


def test_resume_of_a_missing_file_creates_it(tmp_path):
    with MetricsLog.resume(tmp_path / "new.jsonl", step=10) as log:
        assert log.last_step is None
        log.log(11, x=1)
    assert read_metrics(tmp_path / "new.jsonl") == [{"step": 11, "x": 1}]


def test_corrupt_middle_line_is_reported(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"step": 1}\nnot json\n{"step": 2}\n')
    with pytest.raises(ValueError, match=r"m\.jsonl: line 2 is not valid JSON"):
        read_metrics(path)
    path.write_text('{"x": 1}\n')
    with pytest.raises(ValueError, match=r"line 1: expected a JSON object with an int 'step'"):
        MetricsLog(path)


@pytest.mark.parametrize(
    ("record", "error", "match"),
    [
        ({"x": 1}, ValueError, r"record: expected a 'step' key, got keys \['x'\]"),
        ({"step": -1}, ValueError, r"record\['step'\]: expected an int >= 0, got -1"),
        ({"step": 1.0}, TypeError, r"record\['step'\]: expected an int >= 0, got float 1.0"),
        ({"step": 1, "t": torch.zeros(2)}, ValueError, r"t: expected a scalar tensor, got shape \(2,\)"),
        (
            {"step": 1, "o": object()},
            TypeError,
            "o: expected a number, string, bool, None, list, dict or scalar",
        ),
        ([1], TypeError, "record: expected a mapping with an int 'step', got list"),
    ],
)
def test_write_validation(tmp_path, record, error, match):
    with MetricsLog(tmp_path / "m.jsonl") as log, pytest.raises(error, match=match):
        log.write(record)


def test_other_validation(tmp_path):
    with pytest.raises(TypeError, match="path: expected a str or os.PathLike, got int"):
        MetricsLog(3)
    with pytest.raises(ValueError, match="path: expected a file, got a directory"):
        MetricsLog(tmp_path)
    with pytest.raises(FileNotFoundError, match="path: expected an existing metrics file"):
        read_metrics(tmp_path / "absent.jsonl")
    with pytest.raises(ValueError, match="step: expected an int >= 0, got -3"):
        MetricsLog.resume(tmp_path / "m.jsonl", step=-3)
    log = MetricsLog(tmp_path / "m.jsonl")
    log.close()
    with pytest.raises(ValueError, match="is closed"):
        log.log(1, x=1)


@settings(deadline=None, max_examples=15)
@given(
    increments=st.lists(st.integers(0, 3), min_size=0, max_size=12),
    resume_at=st.integers(0, 40),
    more=st.integers(0, 4),
)
def test_resume_property(tmp_path_factory, increments, resume_at, more):
    """After resume(s), the log is the records with step <= s, then the new ones: sorted, nothing lost."""
    path = tmp_path_factory.mktemp("log") / "m.jsonl"
    steps, step = [], 0
    with MetricsLog(path, fsync=False) as log:
        for inc in increments:
            step += inc
            steps.append(step)
            log.log(step, v=step)
    with MetricsLog.resume(path, step=resume_at, fsync=False) as log:
        new = [resume_at + 1 + i for i in range(more)]
        for s in new:
            log.log(s, v=-s)
    got = [r["step"] for r in read_metrics(path)]
    assert got == [s for s in steps if s <= resume_at] + new
    assert got == sorted(got)
    assert all(json.loads(line) for line in path.read_text().splitlines())
