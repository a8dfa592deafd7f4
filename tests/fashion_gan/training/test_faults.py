"""Faults a FashionGAN training run must survive, injected for real.

- SIGKILL at random moments, many times, each run resumed with ``--resume``: every resume starts from the
  last complete checkpoint, every checkpoint folder loads, the metrics log has each step exactly once, and
  the losses equal those of an uninterrupted run bit for bit.
- SIGTERM / SIGINT (to the whole process group, as a terminal's Ctrl-C or a scheduler does): the step
  finishes, a checkpoint is written, the process exits with status 3 and a resume hint, without a traceback.
- NaN / Inf losses (a huge learning rate, or a NaN injected into one step's design code): the run stops naming
  the stage, step and loss; with ``train.on_nonfinite=skip`` the steps are skipped and counted; non-finite
  weights are never written over a checkpoint.
- A full disk (``OSError(ENOSPC)`` injected into the checkpoint and metrics writes) and unwritable folders: a
  clear error naming the path, the previous checkpoint intact.
- Crafted pickles where checkpoints, text-encoder weights or the official ``rnn_latest.pth`` are expected
  never run (the marker file they would create stays absent) and give an error naming the file.
- Truncated or corrupt checkpoints and official-release files (``G2.h5``, ``.mat``): errors naming the file.

Training runs on a tiny configuration (32x32, width 1/16, batch 4, ``data.workers=0`` unless the test is about
the loader workers) so that each run takes seconds.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from fashion_gan import cli
from fashion_gan.config import RunConfig, preset
from fashion_gan.modeling import get_stage
from fashion_gan.training import loop as train_mod
from fashion_gan.training import step as step_mod
from fashion_gan.training.loop import TrainingStopped, train_stage

from condgan.train import checkpoint as checkpoint_mod
from condgan.train import latest_checkpoint, list_checkpoints, load_checkpoint, read_metrics

REPO = Path(__file__).resolve().parents[3]

#: The tiny configuration, as CLI options (the --set overrides come last, so they win over any preset).
TINY = [
    "--preset", "demo", "--image-size", "32", "--width", "0.0625", "--batch-size", "4", "--no-progress",
    "--set", "text.steps=20", "--set", "data.workers=0", "--set", "data.num_train=256",
    "--set", "data.num_test=32", "--set", "train.log_every=1", "--set", "train.checkpoint_every=1",
    "--set", "train.sample_every=1000", "--set", "train.threads=1", "--set", "train.classifier_init=''",
    # A constant rate: the killed runs aim at another train.steps than the last segment, and a decaying rate
    # is a function of train.steps (the demo preset's stage 1 decays).
    "--set", "train.shape_lr_decay=none",
]  # fmt: skip

LOSS_KEYS = ("d_total", "d_real", "d_mismatch", "d_fake", "g_adv", "g_rec", "g_total", "skipped")


def tiny_cfg(steps: int, **train) -> RunConfig:
    """The same tiny configuration as a RunConfig, for in-process runs."""
    base = preset("demo").replace(
        data={"image_size": 32, "num_train": 256, "num_test": 32, "workers": 0},
        text={"steps": 20},
        model={"width": 0.0625},
        train={
            "steps": steps,
            "batch_size": 4,
            "log_every": 1,
            "checkpoint_every": 1,
            "sample_every": 1000,
            "classifier_init": "",  # the shipped teacher is for 64x64
            "shape_lr_decay": "none",  # as TINY
        },
    )
    return base.replace(train=train) if train else base


def train_argv(out: Path, steps: int, *extra: str, stage: str = "shape") -> list[str]:
    return ["train", "--out", str(out), "--stage", stage, "--resume", "--steps", str(steps), *TINY, *extra]


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.pop("RANK", None), env.pop("WORLD_SIZE", None)
    return env


def launch(argv: list[str], log: Path) -> subprocess.Popen:
    """Start ``python -m fashion_gan <argv>`` in its own process group, stdout+stderr to ``log``."""
    with open(log, "w") as f:
        return subprocess.Popen(
            [sys.executable, "-m", "fashion_gan", *argv],
            cwd=REPO,
            env=subprocess_env(),
            stdout=f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def metrics_steps(model_dir: Path) -> list[int]:
    path = model_dir / "metrics.jsonl"
    return [r["step"] for r in read_metrics(path)] if path.is_file() else []


def load_every_checkpoint(model_dir: Path) -> list[int]:
    """Load every step folder (strict, hash-verified) into fresh nets; check the weights are finite."""
    steps = []
    for folder in list_checkpoints(model_dir / "checkpoints"):
        meta = json.loads((folder / "meta.json").read_text())
        generator, discriminator = get_stage(meta["extra_state"]["model"]).build(
            RunConfig.from_dict(meta["config"])
        )
        info = load_checkpoint(
            folder,
            modules={"generator": generator, "discriminator": discriminator},
            restore_rng=False,
        )
        for name, net in (("generator", generator), ("discriminator", discriminator)):
            for key, t in net.state_dict().items():
                assert not t.is_floating_point() or torch.isfinite(t).all(), (
                    f"{folder}: {name}.{key} not finite"
                )
        steps.append(info.step)
    return steps


def resumed_from(log: Path) -> int | None:
    """The step a run says it resumed from (None: it said it started at step 0 without a checkpoint)."""
    for line in log.read_text().splitlines():
        if "resuming from" in line:
            return int(line.split("(step ")[1].split(")")[0])
        if "no checkpoint under" in line:
            return None
    raise AssertionError(f"{log}: the run did not say where it resumed from:\n{log.read_text()}")


# ------------------------------------------------------------------------------------------------------------
# SIGKILL at random moments


def test_sigkill_at_random_moments_resumes_from_the_last_complete_checkpoint(tmp_path):
    kills, long_run = 8, 1000  # killed runs aim at 1000 steps: none of them can finish before its kill
    out = tmp_path / "run"
    model_dir = out / "shape"
    rng = random.Random(1234)
    history = []
    for attempt in range(kills):
        expected = latest_checkpoint(model_dir / "checkpoints")  # the last complete checkpoint before launch
        log = tmp_path / f"attempt{attempt}.log"
        proc = launch(train_argv(out, long_run), log)
        if attempt in (
            0,
            4,
        ):  # these land in the set-up (text encoder, checkpoint load, log rewrite) or soon after
            time.sleep(rng.uniform(0.3, 2.5))
        else:  # the others while training; a checkpoint is written after every step
            wait_for(lambda log=log, p=proc: "step" in log.read_text() or p.poll() is not None, 60, "set-up")
            time.sleep(rng.uniform(0.5, 3.0))
        assert proc.poll() is None, log.read_text()
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
        text = log.read_text()
        assert "Traceback" not in text, text
        if "resuming from" in text or "no checkpoint under" in text:
            # Every resume starts from the last complete checkpoint at the time of the launch.
            assert resumed_from(log) == (None if expected is None else int(expected.name.split("-")[1])), text
        # After every kill: each checkpoint folder is complete and loads; `latest` names a complete one.
        saved = load_every_checkpoint(model_dir)
        pointer = model_dir / "checkpoints" / "latest"
        if pointer.exists():
            assert int(pointer.read_text().strip().split("-")[1]) in saved
        history.append((attempt, max(metrics_steps(model_dir), default=0), saved[-1] if saved else None))

    # The same command, as the job's last segment, now ends 5 steps after the last checkpoint.
    last = latest_checkpoint(model_dir / "checkpoints")
    final = (int(last.name.split("-")[1]) if last else 0) + 5
    log = tmp_path / "final.log"
    proc = launch(train_argv(out, final), log)
    assert proc.wait(timeout=120) == 0, log.read_text()
    assert resumed_from(log) == (int(last.name.split("-")[1]) if last else None)
    assert not [p for p in (model_dir / "checkpoints").iterdir() if p.name.startswith(".")], "leftovers"
    # The step counter and the log continue without gaps or duplicates up to the final step ...
    assert metrics_steps(model_dir) == list(range(1, final + 1))
    assert latest_checkpoint(model_dir / "checkpoints").name == f"step-{final:08d}"
    # ... and the killed-and-resumed run computed exactly what an uninterrupted run computes.
    reference = tmp_path / "reference"
    train_stage(
        tiny_cfg(final, checkpoint_every=1000, threads=1), stage="shape", run_dir=reference, progress=False
    )
    got = [{k: r[k] for k in LOSS_KEYS} for r in read_metrics(model_dir / "metrics.jsonl")]
    want = [{k: r[k] for k in LOSS_KEYS} for r in read_metrics(reference / "shape" / "metrics.jsonl")]
    assert got == want
    print(
        f"\nSIGKILL: (attempt, last logged step, last checkpoint) after each kill: {history}; final {final}"
    )


# ------------------------------------------------------------------------------------------------------------
# SIGTERM and SIGINT


@pytest.mark.parametrize(
    ("sig", "workers", "group"),
    [(signal.SIGTERM, 1, True), (signal.SIGINT, 0, False)],
    ids=["SIGTERM-to-the-group-with-a-loader-worker", "SIGINT-to-the-process"],
)
def test_stop_signal_finishes_the_step_checkpoints_and_exits_3(tmp_path, sig, workers, group):
    out = tmp_path / "run"
    model_dir = out / "shape"
    log = tmp_path / "run.log"
    proc = launch(
        train_argv(out, 500, "--set", f"data.workers={workers}", "--set", "train.checkpoint_every=100"), log
    )
    wait_for(lambda: proc.poll() is not None or len(metrics_steps(model_dir)) >= 2, 90, "two training steps")
    # A terminal's Ctrl-C and some schedulers signal the whole group, DataLoader workers included.
    os.killpg(proc.pid, sig) if group else proc.send_signal(sig)
    assert proc.wait(timeout=90) == 3
    text = log.read_text()
    assert "Traceback" not in text and "Error" not in text, text
    stopped_at = max(metrics_steps(model_dir))
    assert f"stopped by {signal.Signals(sig).name} after step {stopped_at} of 500" in text, text
    assert f"fashion-gan train --out {out} --stage shape --resume" in text, text
    # The step that was running finished, was logged, and is the checkpoint that was written.
    assert latest_checkpoint(model_dir / "checkpoints").name == f"step-{stopped_at:08d}"
    assert load_every_checkpoint(model_dir)[-1] == stopped_at

    # The hint works: resuming continues from that step, with nothing lost or repeated in the log.
    # (The same data.workers: runs.prepare_run_dir compares the whole data section, workers included.)
    extra = ("--set", f"data.workers={workers}", "--set", "train.checkpoint_every=100")
    code = cli.main(train_argv(out, stopped_at + 2, *extra))
    assert code == 0
    assert metrics_steps(model_dir) == list(range(1, stopped_at + 3))


def test_stop_requested_during_set_up_writes_step_0_so_resume_works(tmp_path, monkeypatch, capsys):
    real_prepare = train_mod.runs.prepare_run_dir

    def prepare_then_signal(run_dir, cfg):
        real_prepare(run_dir, cfg)
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the text encoder and the nets are being built

    monkeypatch.setattr(train_mod.runs, "prepare_run_dir", prepare_then_signal)
    with pytest.raises(TrainingStopped, match="stopped by SIGTERM after step 0 of 4") as info:
        train_stage(tiny_cfg(4), stage="shape", run_dir=tmp_path, progress=False)
    assert info.value.reason == "signal"
    assert latest_checkpoint(tmp_path / "shape" / "checkpoints").name == "step-00000000"
    monkeypatch.undo()
    train_stage(tiny_cfg(4), stage="shape", run_dir=tmp_path, resume=True, progress=False)
    assert metrics_steps(tmp_path / "shape") == [1, 2, 3, 4]
    assert "resuming from" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------------------------
# Non-finite losses, gradients and weights


def test_huge_learning_rate_stops_naming_stage_step_and_loss(tmp_path, capsys):
    assert cli.main(train_argv(tmp_path, 2)) == 0
    # Resumed with lr 1e30 (the config's lr wins over the checkpoint's): D's first update makes G's loss NaN.
    code = cli.main(train_argv(tmp_path, 6, "--set", "train.lr=1e30"))
    err = capsys.readouterr().err
    assert code == 3, err
    assert "non-finite g_adv = nan at stage 'shape', step 3" in err and "Traceback" not in err
    assert "step-00000002) is intact" in err
    assert "--set train.on_nonfinite=skip" in err  # says what to do
    assert load_every_checkpoint(tmp_path / "shape") == [1, 2]  # nothing written after the NaN


class NaNAtSteps:
    """Wraps design_code: the code of the chosen steps (1-based, counted from this run's start) is NaN."""

    def __init__(self, steps):
        self.steps, self.calls = set(steps), 0
        self.real = step_mod.design_code

    def __call__(self, *args, **kwargs):
        self.calls += 1
        code = self.real(*args, **kwargs)
        return torch.full_like(code, float("nan")) if self.calls in self.steps else code


def test_nan_in_a_batch_stops_at_that_step_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setattr(step_mod, "design_code", NaNAtSteps({3}))
    with pytest.raises(TrainingStopped) as info:
        train_stage(tiny_cfg(6), stage="shape", run_dir=tmp_path, progress=False)
    message = str(info.value)
    assert "non-finite d_real = nan at stage 'shape', step 3" in message
    assert "step-00000002) is intact" in message and info.value.reason == "nonfinite"
    assert load_every_checkpoint(tmp_path / "shape") == [1, 2]  # nothing written after the NaN
    assert metrics_steps(tmp_path / "shape") == [1, 2]


def test_skip_mode_skips_nan_steps_counts_them_and_keeps_buffers_finite(tmp_path, monkeypatch):
    cfg = tiny_cfg(7, on_nonfinite="skip")
    monkeypatch.setattr(step_mod, "design_code", NaNAtSteps({3, 5}))
    train_stage(cfg, stage="shape", run_dir=tmp_path, progress=False, max_steps=5)
    monkeypatch.setattr(step_mod, "design_code", NaNAtSteps({1}))  # the resumed run's first step: step 6
    train_stage(cfg, stage="shape", run_dir=tmp_path, resume=True, progress=False)
    records = read_metrics(tmp_path / "shape" / "metrics.jsonl")
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["skipped"] for r in records] == [0, 0, 2, 0, 2, 2, 0]  # D and G steps both skipped
    assert [r["skipped_steps"] for r in records] == [0, 0, 1, 1, 2, 3, 3]  # counted across the resume
    # BatchNorm saw the NaN batch in its forward pass; its running statistics were restored, so every
    # checkpoint (written after each step, including the skipped ones) is finite.
    assert load_every_checkpoint(tmp_path / "shape")[-1] == 7


def test_non_finite_weights_are_never_written_over_a_checkpoint(tmp_path, monkeypatch):
    cfg = tiny_cfg(6, on_nonfinite="skip")
    train_stage(cfg, stage="shape", run_dir=tmp_path, progress=False, max_steps=2)
    ckpts = tmp_path / "shape" / "checkpoints"
    before = {p.name: p.read_bytes() for p in (ckpts / "step-00000002").iterdir()}
    real_step = step_mod.conditional_gan_step

    def overflowing_step(**kwargs):  # an update that overflowed while every loss and gradient was finite
        out = real_step(**kwargs)
        if kwargs["step"] == 3:
            with torch.no_grad():
                next(kwargs["generator"].parameters()).fill_(float("inf"))
        return out

    monkeypatch.setattr(step_mod, "conditional_gan_step", overflowing_step)
    with pytest.raises(TrainingStopped) as info:
        train_stage(cfg, stage="shape", run_dir=tmp_path, resume=True, progress=False)
    message = str(info.value)
    assert "non-finite generator." in message and "at stage 'checkpoint', step 3" in message
    assert "not finite after step 3, so no checkpoint was written" in message
    assert "step-00000002) is intact" in message and info.value.reason == "nonfinite"
    assert latest_checkpoint(ckpts).name == "step-00000002"
    assert [p.name for p in list_checkpoints(ckpts)] == ["step-00000001", "step-00000002"]
    assert {p.name: p.read_bytes() for p in (ckpts / "step-00000002").iterdir()} == before
    load_every_checkpoint(tmp_path / "shape")


def test_a_learning_rate_beyond_float32_is_a_config_error(tmp_path, capsys):
    assert cli.main(train_argv(tmp_path, 2, "--set", "train.lr=1e39")) == 2
    assert "train.lr: expected a finite number in (0.0, " in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------------------
# A full disk, unwritable folders


def test_disk_full_during_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch, capsys):
    real_write, calls = checkpoint_mod._write_file, {"n": 0}

    def write_until_full(path, data):
        calls["n"] += 1
        if (
            calls["n"] > 2 * 9 + 3
        ):  # two checkpoints (8 files + meta.json each) succeed, the third fails midway
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_write(path, data)

    monkeypatch.setattr(checkpoint_mod, "_write_file", write_until_full)
    code = cli.main(train_argv(tmp_path, 6))
    err = capsys.readouterr().err
    assert code == 3, err
    assert "could not write" in err and "step-00000003" in err and "the disk is full" in err
    assert "the last checkpoint (" in err and "step-00000002) is intact" in err and "Traceback" not in err
    ckpts = tmp_path / "shape" / "checkpoints"
    assert latest_checkpoint(ckpts).name == "step-00000002"
    assert load_every_checkpoint(tmp_path / "shape") == [1, 2]
    assert not [p for p in ckpts.iterdir() if p.name.startswith(".")]  # no half-written folder left
    monkeypatch.undo()  # space freed: the run resumes from step 2
    assert cli.main(train_argv(tmp_path, 4)) == 0
    assert metrics_steps(tmp_path / "shape") == [1, 2, 3, 4]


def test_disk_full_while_logging_metrics(tmp_path, monkeypatch, capsys):
    real_write = train_mod.MetricsLog.write

    def write(self, record):
        if record["step"] == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, record)

    monkeypatch.setattr(train_mod.MetricsLog, "write", write)
    assert cli.main(train_argv(tmp_path, 6)) == 3
    err = capsys.readouterr().err
    assert f"could not write {tmp_path / 'shape' / 'metrics.jsonl'}: No space left on device" in err
    assert "step-00000002) is intact" in err
    assert latest_checkpoint(tmp_path / "shape" / "checkpoints").name == "step-00000002"


def test_unwritable_checkpoint_folder_is_named(tmp_path, capsys):
    (tmp_path / "shape").mkdir()
    (tmp_path / "shape" / "checkpoints").write_text("a file where the checkpoint folder should be")
    assert cli.main(train_argv(tmp_path, 3)) == 3
    err = capsys.readouterr().err
    assert f"cannot create the checkpoint directory {tmp_path / 'shape' / 'checkpoints'}" in err
    assert "no checkpoint was written yet" in err and "Traceback" not in err


def test_unwritable_model_folder_is_named(tmp_path, capsys):
    (tmp_path / "shape").write_text("a file where the model folder should be")
    assert cli.main(train_argv(tmp_path, 3)) == 3
    err = capsys.readouterr().err
    assert f"could not write {tmp_path / 'shape'}" in err and "Traceback" not in err


def test_out_below_a_regular_file_is_a_clean_cli_error(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    assert cli.main(train_argv(tmp_path / "file" / "run", 2)) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "file" / "run") in err and "Not a directory" in err and "Traceback" not in err


# ------------------------------------------------------------------------------------------------------------
# Crafted pickles never run


class Payload:
    """Unpickling this runs ``touch <marker>``: the test fails if the marker ever appears."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def pickle_bytes(marker: Path) -> bytes:
    return pickle.dumps({"weight": Payload(marker)})


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    """A tiny run with stage 1 and the compositional stage 2, two steps each (two checkpoints each)."""
    out = tmp_path_factory.mktemp("trained") / "run"
    assert cli.main(train_argv(out, 2)) == 0
    assert cli.main(train_argv(out, 2, stage="render")) == 0
    return out


@pytest.fixture
def run_copy(trained_run, tmp_path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(trained_run, out)
    return out


def test_pickle_as_checkpoint_weights_never_runs_and_resume_names_the_file(run_copy, tmp_path, capsys):
    marker = tmp_path / "PWNED"
    ckpts = run_copy / "shape" / "checkpoints"
    for folder in list_checkpoints(ckpts):  # every checkpoint replaced: nothing to fall back to
        (folder / "generator.safetensors").write_bytes(pickle_bytes(marker))
    assert cli.main(train_argv(run_copy, 4)) == 2
    err = capsys.readouterr().err
    assert f"{ckpts / 'step-00000002' / 'generator.safetensors'}: truncated or damaged" in err
    assert not marker.exists()


def test_pickle_with_a_forged_hash_is_still_not_unpickled(run_copy, tmp_path, capsys):
    """Training resumes from the generator's weights, generation reads the EMA copy when the run keeps one
    (the demo preset does): both files forged, both refused."""
    marker = tmp_path / "PWNED"
    folder = latest_checkpoint(run_copy / "shape" / "checkpoints")
    data = pickle_bytes(marker)
    meta = json.loads((folder / "meta.json").read_text())  # an attacker who also rewrites the hashes
    weights = [
        name for name in ("generator.safetensors", "generator_ema.safetensors") if name in meta["files"]
    ]
    for name in weights:
        (folder / name).write_bytes(data)
        meta["files"][name] = {"sha256": checkpoint_mod._sha256(data), "bytes": len(data)}
    (folder / "meta.json").write_text(json.dumps(meta))
    generate = ["generate", "--run", str(run_copy), "--grid", "--person", "0"]
    for argv, name in ((train_argv(run_copy, 4), "generator.safetensors"), (generate, weights[-1])):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert f"{folder / name}: not a valid safetensors file" in err
    assert not marker.exists()


def test_damaged_newest_checkpoint_falls_back_to_the_previous_one(run_copy, capsys):
    ckpts = run_copy / "shape" / "checkpoints"
    newest = ckpts / "step-00000002" / "generator.optimizer.safetensors"
    newest.write_bytes(newest.read_bytes()[:100])  # truncated
    assert cli.main(train_argv(run_copy, 3)) == 0
    out = capsys.readouterr().out
    assert f"resuming from {ckpts / 'step-00000001'} (step 1) (skipped damaged ['step-00000002'])" in out
    assert metrics_steps(run_copy / "shape") == [1, 2, 3]


@pytest.mark.parametrize("damage", ["truncated", "corrupt-meta", "missing-file"])
def test_damaged_checkpoints_name_the_file(run_copy, capsys, damage):
    ckpts = run_copy / "shape" / "checkpoints"
    for folder in list_checkpoints(ckpts):
        if damage == "truncated":
            path = folder / "discriminator.safetensors"
            path.write_bytes(path.read_bytes()[:-7])
        elif damage == "corrupt-meta":
            path = folder / "meta.json"
            path.write_text(path.read_text()[:40])
        else:
            path = folder / "rng.safetensors"
            path.unlink()
    assert cli.main(train_argv(run_copy, 4)) == 2
    err = capsys.readouterr().err
    assert str(ckpts / "step-00000002" / path.name) in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["train", "generate"])
def test_pickle_as_text_encoder_weights_never_runs(run_copy, tmp_path, capsys, command):
    marker = tmp_path / "PWNED"
    (run_copy / "text_encoder.safetensors").write_bytes(pickle_bytes(marker))
    argv = train_argv(run_copy, 4) if command == "train" else ["generate", "--run", str(run_copy), "--grid"]
    try:
        code = cli.main(argv)
    finally:
        assert not marker.exists()
    assert code == 2
    assert str(run_copy / "text_encoder.safetensors") in capsys.readouterr().err


def test_generate_with_a_damaged_checkpoint_names_the_file(run_copy, tmp_path, capsys):
    marker = tmp_path / "PWNED"
    for folder in list_checkpoints(run_copy / "render_compositional" / "checkpoints"):
        for weights in folder.glob("generator*.safetensors"):  # the generator and its EMA copy
            if "optimizer" not in weights.name:
                weights.write_bytes(pickle_bytes(marker))
    assert cli.main(["generate", "--run", str(run_copy), "--grid", "--person", "0"]) == 2
    assert not marker.exists()
    assert "generator_ema.safetensors" in capsys.readouterr().err  # the file generation reads


@pytest.mark.parametrize("fmt", ["zip", "legacy", "raw-pickle"])
def test_pickle_as_official_rnn_latest_pth_never_runs(tmp_path, capsys, fmt):
    marker = tmp_path / "PWNED"
    path = tmp_path / "rnn_latest.pth"
    if fmt == "raw-pickle":
        path.write_bytes(pickle_bytes(marker))
    else:
        state = {"rnn.weight_ih_l0": torch.zeros(2), "evil": Payload(marker)}
        torch.save(state, path, _use_new_zipfile_serialization=fmt == "zip")
    code = cli.main([*train_argv(tmp_path / "run", 2), "--text-encoder", str(path)])
    err = capsys.readouterr().err
    assert not marker.exists()
    assert code == 2, err
    assert f"{path}: " in err and "Traceback" not in err


# ------------------------------------------------------------------------------------------------------------
# Truncated or corrupt official-release files, through the CLI


@pytest.fixture(scope="module")
def official_release(tmp_path_factory) -> Path:
    from fashion_gan.data.export import export_official_layout
    from fashion_gan.data.synthetic import SyntheticMannequins

    root = tmp_path_factory.mktemp("release")
    kw = dict(image_size=128, num_train=8, num_test=4, seed=3)
    export_official_layout(
        SyntheticMannequins(split="train", **kw), SyntheticMannequins(split="test", **kw), root
    )
    return root


@pytest.mark.parametrize(
    ("relpath", "damage"),
    [
        ("supervision_signals/G2.h5", "truncate"),
        ("supervision_signals/G2.h5", "garbage"),
        ("benchmark/language_original.mat", "truncate"),
        ("benchmark/ind.mat", "garbage"),
    ],
)
def test_damaged_release_files_are_named(official_release, tmp_path, capsys, relpath, damage):
    root = tmp_path / "release"
    shutil.copytree(official_release, root)
    path = root / relpath
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"\x89garbage" + data[64:])
    argv = [
        *train_argv(tmp_path / "run", 2), "--data-source", "official", "--data-root", str(root),
        "--image-size", "128", "--batch-size", "2", "--set", "data.num_train=8", "--set", "data.num_test=4",
    ]  # fmt: skip
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err
