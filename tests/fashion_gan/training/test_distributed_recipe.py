"""The FashionGAN recipe on several processes: ``torchrun --standalone --nproc_per_node=2`` on the CPU (gloo).

- The step-indexed sampler: rank r takes slice r of the step's global batch (indices and noise), the same for
  any number of processes and any resume point; the >65,536-item path draws uniformly.
- ``torchrun ... -m fashion_gan train`` works: per-rank seeds, only rank 0 writes checkpoints, metrics and
  samples, every rank stops at the same step on SIGTERM, the processes exit cleanly.
- 2 processes x 2 samples against 1 process x 4 samples (the same global batch):
  * with BatchNorm replaced by identity and the mismatched pairs formed the same way, the two runs agree to
    float32 rounding (losses 1e-5, weight updates 1e-4 relative);
  * with the recipe's BatchNorm, each rank normalises its own 2 samples: the step-1 losses agree within a few
    per cent only (observed <= 0.4%, gradient norms <= 2%), see ``docs/distributed.md``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import safetensors.torch
import torch
from fashion_gan.config import RunConfig, preset
from fashion_gan.modeling import get_stage
from fashion_gan.modeling.shape import ShapeStage
from fashion_gan.training import sampling as sampling_mod
from fashion_gan.training.loop import train_stage
from fashion_gan.training.sampling import StepBatches, step_indices, step_noise
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from condgan.train import latest_checkpoint, load_checkpoint, read_metrics, seed_everything

REPO = Path(__file__).resolve().parents[3]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
LOSSES = ("d_total", "d_real", "d_mismatch", "d_fake", "g_adv", "g_rec", "g_total")

#: Tiny fp32 run options; the per-process batch size is added by each test.
TINY = [
    "--stage", "shape", "--preset", "demo", "--precision", "fp32", "--image-size", "32", "--width", "0.0625",
    "--no-progress", "--set", "text.steps=20", "--set", "data.workers=0", "--set", "data.num_train=256",
    "--set", "data.num_test=32", "--set", "train.log_every=1", "--set", "train.checkpoint_every=1",
    "--set", "train.threads=1", "--set", "train.classifier_init=''",
]  # fmt: skip


def tiny_cfg(steps: int, batch_size: int) -> RunConfig:
    return preset("demo").replace(
        data={"image_size": 32, "num_train": 256, "num_test": 32, "workers": 0},
        text={"steps": 20},
        model={"width": 0.0625},
        train={
            "steps": steps,
            "batch_size": batch_size,
            "precision": "fp32",
            "log_every": 1,
            "threads": 1,
            "classifier_init": "",  # the shipped teacher is for 64x64
        },
    )


def env() -> dict[str, str]:
    out = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        out.pop(var, None)
    return out


def no_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm layer by identity (in place)."""
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, nn.Identity())
        else:
            no_batchnorm(child)
    return module


# ------------------------------------------------------------------------------------------------------------
# the step-indexed sampler


@settings(deadline=None, max_examples=25)
@given(
    step=st.integers(0, 10_000),
    seed=st.integers(0, 2**31),
    world_size=st.sampled_from([1, 2, 3, 4, 8]),
    per_rank=st.integers(1, 6),
    extra=st.integers(0, 50),
)
def test_each_rank_takes_its_slice_of_the_global_batch(step, seed, world_size, per_rank, extra):
    global_batch = world_size * per_rank
    kw = dict(global_batch=global_batch, seed=seed)
    whole = step_indices(step, num_items=global_batch + extra, **kw)
    slices = [step_indices(step, num_items=global_batch + extra, rank=r, world_size=world_size, **kw) for r in
              range(world_size)]  # fmt: skip
    assert torch.equal(torch.cat(slices), whole)
    assert (
        len(set(whole.tolist())) == global_batch
        and 0 <= int(whole.min())
        and int(whole.max()) < global_batch + extra
    )
    noise = step_noise(step, dim=3, **kw)
    parts = [step_noise(step, dim=3, rank=r, world_size=world_size, **kw) for r in range(world_size)]
    assert torch.equal(torch.cat(parts), noise) and noise.shape == (global_batch, 3)


def test_batches_depend_only_on_the_step_not_on_the_resume_point():
    class Tiny:
        def __len__(self):
            return 50

        def get_batch(self, indices):
            return {"index": torch.tensor(indices)}

    kw = dict(global_batch=4, seed=3, noise_dim=5)
    fresh = StepBatches(Tiny(), start_step=0, num_steps=10, **kw)
    resumed = StepBatches(Tiny(), start_step=6, num_steps=4, **kw)
    for k in range(4):
        assert torch.equal(resumed[k]["index"], fresh[6 + k]["index"])
        assert torch.equal(resumed[k]["noise"], fresh[6 + k]["noise"])
    assert not torch.equal(fresh[0]["index"], fresh[1]["index"])
    assert not torch.equal(
        fresh[0]["noise"], StepBatches(Tiny(), start_step=0, num_steps=1, **{**kw, "seed": 4})[0]["noise"]
    )


def test_large_datasets_are_sampled_uniformly():
    # Above 65,536 items the draw avoids an O(N) permutation; it must stay uniform (a sorted de-duplication
    # of over-drawn indices would keep the smallest ones: mean ~ N/4 instead of N/2).
    n, draws = 200_000, []
    for step in range(300):
        idx = step_indices(step, num_items=n, global_batch=64, seed=0)
        assert len(set(idx.tolist())) == 64
        draws.append(idx)
    fractions = torch.cat(draws).double() / n
    assert abs(fractions.mean().item() - 0.5) < 0.02  # 19,200 uniform draws: standard error 0.002
    assert abs((fractions > 0.9).double().mean().item() - 0.1) < 0.02


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            dict(global_batch=6, world_size=4),
            ValueError,
            "global_batch: expected a multiple of world_size=4, got 6",
        ),
        (
            dict(global_batch=4, num_items=3),
            ValueError,
            "global_batch: expected at most the dataset size 3, got 4",
        ),
        (
            dict(rank=2, world_size=2),
            ValueError,
            r"rank: expected an int in \[0, 1\] \(world_size=2\), got 2",
        ),
        (dict(seed=-1), ValueError, "seed: expected an int >= 0, got -1"),
        (dict(global_batch=2.0), TypeError, "global_batch: expected an int >= 1, got float 2.0"),
        (dict(step=True), TypeError, "step: expected an int >= 0, got bool True"),
    ],
)
def test_sampler_errors_name_the_argument(kwargs, error, message):
    call = dict(step=0, num_items=10, global_batch=4, seed=0, rank=0, world_size=1) | kwargs
    with pytest.raises(error, match=message):
        step_indices(call.pop("step"), **call)


# ------------------------------------------------------------------------------------------------------------
# torchrun

PROBE = r'''
"""fashion_gan.cli.main with recorders: which rank wrote what, its seed, the indices it trained on."""
import json, os, sys
from torch import nn
import fashion_gan.training.sampling as sampling
import fashion_gan.training.loop as T

rank = int(os.environ.get("RANK", "0"))
calls = {"writes": [], "indices": [], "seeds": []}
from fashion_gan.modeling.shape import ShapeStage
real_build, real_indices, real_seed = ShapeStage.build, sampling.step_indices, T.seed_everything

def no_batchnorm(module):
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, nn.Identity())
        else:
            no_batchnorm(child)

def build(self, cfg):
    g, d = real_build(self, cfg)
    no_batchnorm(g), no_batchnorm(d)
    return g, d

def step_indices(step, **kw):
    out = real_indices(step, **kw)
    calls["indices"].append([step, out.tolist()])
    return out

def seed_everything(seed, rank_=0):
    calls["seeds"].append(real_seed(seed, rank_))
    return calls["seeds"][-1]

def recording(name, fn):
    def wrapper(*args, **kwargs):
        calls["writes"].append(name)
        return fn(*args, **kwargs)
    return wrapper

ShapeStage.build, sampling.step_indices, T.seed_everything = build, step_indices, seed_everything
T.save_checkpoint = recording("checkpoint", T.save_checkpoint)
T.save_stage_samples = recording("samples", T.save_stage_samples)
T.MetricsLog.write = recording("metrics", T.MetricsLog.write)
from fashion_gan.cli import main
try:
    code = main(sys.argv[1:])
finally:
    with open(os.path.join(os.environ["PROBE_OUT"], f"calls-rank{rank}.json"), "w") as f:
        json.dump(calls, f)
sys.exit(code)
'''


def run_torchrun(
    argv: list[str], *, cwd: Path, timeout: float = 240, extra_env=None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*TORCHRUN, *argv], cwd=cwd, env={**env(), **(extra_env or {})}, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def build_stage(cfg, stage: str):
    """The fresh (seeded) generator and discriminator of ``stage``."""
    return get_stage(stage).build(cfg)


def updates(run: Path, step: int, build=build_stage) -> dict[str, torch.Tensor]:
    """Each net's weights at ``step`` minus its initial weights (rebuilt from the seed), flattened."""
    cfg = RunConfig.load(run / "config.json")
    seed_everything(cfg.train.seed, 0)  # what train_stage does right before building the nets
    initial = build(cfg, "shape")
    out = {}
    for name, net in zip(("generator", "discriminator"), initial, strict=True):
        path = run / "shape" / "checkpoints" / f"step-{step:08d}" / f"{name}.safetensors"
        saved = safetensors.torch.load_file(str(path))
        keys = [k for k in saved if saved[k].is_floating_point() and "running_" not in k]
        start = net.state_dict()
        out[name] = torch.cat([(saved[k] - start[k]).flatten() for k in keys])
    return out


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def worst_rel(two: list[dict], one: list[dict]) -> float:
    keys = (*LOSSES, "d_grad_norm", "g_grad_norm")
    return max(rel(a[k], b[k]) for a, b in zip(two, one, strict=True) for k in keys)


REAL_SHAPE_BUILD = ShapeStage.build  # before any test patches it


def build_without_batchnorm(cfg, stage):
    g, d = REAL_SHAPE_BUILD(get_stage(stage), cfg)
    no_batchnorm(g), no_batchnorm(d)
    return g, d


def test_two_processes_reproduce_one_process_without_batchnorm(tmp_path, monkeypatch):
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    steps, run2 = 3, tmp_path / "two"
    argv = [str(probe), "train", "--out", str(run2), "--steps", str(steps), "--batch-size", "2", *TINY]
    done = run_torchrun(argv, cwd=REPO, extra_env={"PROBE_OUT": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr

    calls = [json.loads((tmp_path / f"calls-rank{r}.json").read_text()) for r in (0, 1)]
    # Only rank 0 writes: checkpoints, metrics and the sample sheet; rank 1 writes nothing.
    assert calls[1]["writes"] == []
    assert calls[0]["writes"].count("checkpoint") == steps and calls[0]["writes"].count("metrics") == steps
    assert calls[0]["writes"].count("samples") == 1
    # Per-rank seeding: the ranks seed differently (their noise streams are independent).
    assert calls[0]["seeds"][0] != calls[1]["seeds"][0]
    # The step-indexed sampler: at every step rank r trained on slice r of the one-process global batch.
    for step in range(steps):
        both = step_indices(step, num_items=256, global_batch=4, seed=0).tolist()
        assert [dict(calls[r]["indices"])[step] for r in (0, 1)] == [both[:2], both[2:]]

    # The same global batch in one process (in-process run), with the nets the probe used and the mismatched
    # pairs formed as two processes form them (each rank deranges its own slice).
    real_mismatch = sampling_mod.step_mismatch

    def per_rank_mismatch(step, *, batch, seed, rank=0):
        half = batch // 2
        return torch.cat([real_mismatch(step, batch=half, seed=seed, rank=r) + half * r for r in (0, 1)])

    monkeypatch.setattr(ShapeStage, "build", lambda self, cfg: build_without_batchnorm(cfg, "shape"))
    monkeypatch.setattr(sampling_mod, "step_mismatch", per_rank_mismatch)
    run1 = tmp_path / "one"
    train_stage(tiny_cfg(steps, 4), stage="shape", run_dir=run1, progress=False)
    two = read_metrics(run2 / "shape" / "metrics.jsonl")
    assert [r["step"] for r in two] == [1, 2, 3]  # one record per step: rank 0's, averaged over the ranks
    worst_loss = worst_rel(two, read_metrics(run1 / "shape" / "metrics.jsonl"))
    assert worst_loss < 1e-5
    u1, u2 = (updates(r, steps, build_without_batchnorm) for r in (run1, run2))
    worst_update = max(((u2[k] - u1[k]).norm() / u1[k].norm()).item() for k in u1)
    assert worst_update < 1e-4
    print(
        f"\nno BatchNorm, 2x2 vs 1x4: losses, grad norms rel {worst_loss:.1e}, updates rel {worst_update:.1e}"
    )


def test_torchrun_cli_with_batchnorm_tracks_one_process(tmp_path):
    steps, run2, run1 = 2, tmp_path / "two", tmp_path / "one"
    argv = [
        "-m",
        "fashion_gan",
        "train",
        "--out",
        str(run2),
        "--steps",
        str(steps),
        "--batch-size",
        "2",
        *TINY,
    ]
    done = run_torchrun(argv, cwd=REPO)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Traceback" not in output and "Warning" not in output, output
    assert output.count("shape: trained in") == 2  # both ranks finished and left
    assert sorted(p.name for p in (run2 / "shape" / "samples").iterdir()) == [f"step-{steps:08d}.png"]
    for step in (1, 2):
        load_checkpoint(run2 / "shape" / "checkpoints" / f"step-{step:08d}", modules={
            "generator": build_stage(tiny_cfg(steps, 2), "shape")[0]}, restore_rng=False)  # fmt: skip

    train_stage(tiny_cfg(steps, 4), stage="shape", run_dir=run1, progress=False)
    two = read_metrics(run2 / "shape" / "metrics.jsonl")
    one = read_metrics(run1 / "shape" / "metrics.jsonl")
    # Step 1 starts from the same weights and sees the same samples and noise; only BatchNorm differs (each
    # rank normalises its 2 samples, one process all 4), and the mismatched pairs (rolled within each rank).
    step1 = worst_rel(two[:1], one[:1])
    assert 1e-7 < step1 < 0.1
    later = worst_rel(two, one)
    print(
        f"\nBatchNorm, 2x2 vs 1x4: losses, grad norms rel {step1:.1e} at step 1, {later:.1e} by step {steps}"
    )


def test_sigterm_to_torchrun_stops_every_rank_after_the_same_step(tmp_path):
    out = tmp_path / "run"
    log = tmp_path / "torchrun.log"
    argv = ["-m", "fashion_gan", "train", "--out", str(out), "--steps", "500", "--batch-size", "2", *TINY,
            "--set", "train.checkpoint_every=100"]  # fmt: skip
    with open(log, "w") as f:
        proc = subprocess.Popen([*TORCHRUN, *argv], cwd=REPO, env=env(), stdout=f, stderr=subprocess.STDOUT)
    metrics = out / "shape" / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not (metrics.is_file() and len(read_metrics(metrics)) >= 2):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)  # what a scheduler sends; torchrun forwards it to every worker
    proc.wait(timeout=120)
    text = log.read_text()
    step = read_metrics(metrics)[-1]["step"]
    # Both ranks finished the same step, rank 0 wrote its checkpoint, both said how to resume and left.
    assert text.count(f"stopped by SIGTERM after step {step} of 500") == 2, text
    assert latest_checkpoint(out / "shape" / "checkpoints").name == f"step-{step:08d}"
    assert proc.returncode == 1  # torchrun's own status after forwarding a signal (the workers exit with 3)
    # torchrun itself reports the signal with its own SignalException traceback; no frame comes from ours.
    assert "examples/fashion_gan" not in text and "condgan/" not in text, text
