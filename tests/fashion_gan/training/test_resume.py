"""Resume: an interrupted run continues where it stopped and matches an uninterrupted one exactly.

Runs go through :func:`fashion_gan.training.loop.train_stage` with ``max_steps`` (stop after that many steps,
as if interrupted, with a checkpoint of the last step) on the tiny configuration of ``conftest.py``, on the
CPU, in fp32, with ``torch.use_deterministic_algorithms(True)`` and ``data.workers=0``. "The same" means
EXACTLY the same: every loss and gradient norm in ``metrics.jsonl`` compared with ``==``, and every tensor of
the final checkpoint (generator, discriminator, both Adam states, the RNG state) compared with
``torch.equal``.

The training loop gives its ``DataLoader`` its own generator: creating the iterator would otherwise draw one
number from the GLOBAL torch RNG after the checkpoint's RNG state was restored, and a resumed run would be one
draw ahead (Dropout in the stage-2 generators and the saved RNG state would differ).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import safetensors.torch
import torch
from fashion_gan.training import loop as loop_mod
from fashion_gan.training import sampling as sampling_mod
from fashion_gan.training.loop import train_stage

from condgan.train import CheckpointError, latest_checkpoint, load_checkpoint, lr_factor, read_metrics, set_lr

STEPS = 6
VALUE_KEYS = (
    "d_total",
    "d_real",
    "d_mismatch",
    "d_fake",
    "g_adv",
    "g_rec",
    "g_total",
    "d_grad_norm",
    "g_grad_norm",
)
TENSOR_FILES = (
    "generator.safetensors",
    "discriminator.safetensors",
    "generator.optimizer.safetensors",
    "discriminator.optimizer.safetensors",
    "rng.safetensors",
)
VARIANTS = {
    "shape": ("shape", {}),
    "render_compositional": ("render", {"render": "compositional"}),
    "render_ih1": ("render", {"render": "ih1"}),
    "onestep_84": ("onestep", {"onestep_constraint": 4}),
}


def values(model_dir: Path) -> list[dict]:
    return [
        {"step": r["step"], **{k: r[k] for k in VALUE_KEYS}}
        for r in read_metrics(model_dir / "metrics.jsonl")
    ]


def final_tensors(model_dir: Path, *, rng: bool = True) -> dict[str, torch.Tensor]:
    """Every tensor of the last checkpoint: weights, buffers, Adam states and (``rng``) the RNG state."""
    folder = latest_checkpoint(model_dir / "checkpoints")
    out = {}
    for name in TENSOR_FILES if rng else TENSOR_FILES[:-1]:
        for key, tensor in safetensors.torch.load_file(str(folder / name)).items():
            out[f"{name}:{key}"] = tensor
    return out


def assert_same_tensors(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:5]}"


def interrupted_twice(cfg, stage: str, run: Path) -> Path:
    """Train ``STEPS`` steps in three calls: 2 steps, resume for 2 more, resume to the end."""
    train_stage(cfg, stage=stage, run_dir=run, progress=False, max_steps=2)
    train_stage(cfg, stage=stage, run_dir=run, progress=False, resume=True, max_steps=2)
    return train_stage(cfg, stage=stage, run_dir=run, progress=False, resume=True)


def test_interrupted_run_continues_where_it_stopped(tiny_cfg, new_run, capsys):
    cfg = tiny_cfg(train={"steps": STEPS})
    run = new_run("run")
    model_dir = train_stage(cfg, stage="shape", run_dir=run, progress=False, max_steps=3)
    assert latest_checkpoint(model_dir / "checkpoints").name == "step-00000003"
    assert [r["step"] for r in read_metrics(model_dir / "metrics.jsonl")] == [1, 2, 3]
    assert not (model_dir / "samples" / f"step-{STEPS:08d}.png").exists()

    train_stage(cfg, stage="shape", run_dir=run, progress=False, resume=True, max_steps=2)
    assert "resuming from" in capsys.readouterr().out
    assert latest_checkpoint(model_dir / "checkpoints").name == "step-00000005"
    assert [r["step"] for r in read_metrics(model_dir / "metrics.jsonl")] == [1, 2, 3, 4, 5]

    train_stage(cfg, stage="shape", run_dir=run, progress=False, resume=True)
    records = read_metrics(model_dir / "metrics.jsonl")
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]  # no gap, no duplicate
    info = load_checkpoint(model_dir / "checkpoints", modules={}, restore_rng=False)
    assert info.step == STEPS and info.extra_state["stage"] == "shape"
    assert (model_dir / "samples" / f"step-{STEPS:08d}.png").is_file()

    before = (model_dir / "metrics.jsonl").read_text()
    train_stage(cfg, stage="shape", run_dir=run, progress=False, resume=True)  # finished: nothing to do
    assert f"already at step {STEPS} of {STEPS}" in capsys.readouterr().out
    assert (model_dir / "metrics.jsonl").read_text() == before


@pytest.mark.usefixtures("deterministic")
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_resumed_run_equals_uninterrupted_run(variant, tiny_cfg, new_run):
    stage, model = VARIANTS[variant]
    cfg = tiny_cfg(model=model, train={"steps": STEPS, "precision": "fp32"}, data={"workers": 0})
    whole = train_stage(cfg, stage=stage, run_dir=new_run("whole"), progress=False)
    pieces = interrupted_twice(cfg, stage, new_run("pieces"))
    assert whole.name == pieces.name == variant
    assert values(pieces) == values(whole)  # exactly equal floats, every step
    assert_same_tensors(final_tensors(pieces), final_tensors(whole))


@pytest.mark.usefixtures("deterministic")
def test_decaying_rate_follows_the_step_and_resumes_exactly(tiny_cfg, new_run, monkeypatch):
    """train.lr_decay: each step's rate is lr * lr_factor(step), in one call or across resumes."""
    cfg = tiny_cfg(
        # shape_lr_decay None: stage 1 follows train.lr_decay (the tiny run's demo preset sets its own)
        train={
            "steps": STEPS,
            "precision": "fp32",
            "lr_decay": "linear",
            "lr_decay_start": 0.5,
            "shape_lr_decay": None,
        },
        data={"workers": 0},
    )
    rates = []

    def recording(optimizers, lr):
        rates.append(lr)
        set_lr(optimizers, lr)

    monkeypatch.setattr(loop_mod, "set_lr", recording)
    whole = train_stage(cfg, stage="shape", run_dir=new_run("whole"), progress=False)
    base = cfg.train.lr
    assert rates == pytest.approx([base * lr_factor(s, STEPS, "linear", 0.5) for s in range(1, STEPS + 1)])
    assert rates == pytest.approx([base, base, base, base, base * 2 / 3, base / 3])
    pieces = interrupted_twice(cfg, "shape", new_run("pieces"))
    assert values(pieces) == values(whole)
    assert_same_tensors(final_tensors(pieces), final_tensors(whole))
    # A constant rate trains other weights: the decay reached the optimizers.
    constant = train_stage(
        cfg.replace(train={"lr_decay": "none"}), stage="shape", run_dir=new_run("constant"), progress=False
    )
    assert values(constant)[:4] == values(whole)[:4]  # the first four steps run at the full rate in both
    assert values(constant)[-1] != values(whole)[-1]


def test_training_loader_leaves_the_global_rng_alone(tiny_cfg, new_run, monkeypatch):
    got_generator = []

    class Recording(sampling_mod.DataLoader):
        def __init__(self, *args, **kwargs):
            got_generator.append(kwargs.get("generator") is not None)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(sampling_mod, "DataLoader", Recording)
    train_stage(tiny_cfg(train={"steps": 1}), stage="shape", run_dir=new_run("run"), progress=False)
    assert got_generator == [True]


@pytest.mark.usefixtures("deterministic")
def test_metrics_log_when_logging_every_other_step(tiny_cfg, new_run):
    cfg = tiny_cfg(train={"steps": STEPS, "log_every": 2, "precision": "fp32"})
    whole = train_stage(cfg, stage="shape", run_dir=new_run("whole"), progress=False)
    run = new_run("pieces")
    pieces = train_stage(cfg, stage="shape", run_dir=run, progress=False, max_steps=3)
    assert [r["step"] for r in read_metrics(pieces / "metrics.jsonl")] == [2, 3]  # + the step it stopped at
    train_stage(cfg, stage="shape", run_dir=run, progress=False, resume=True)
    assert [r["step"] for r in values(whole)] == [2, 4, 6]
    resumed = values(pieces)
    assert [r["step"] for r in resumed] == [2, 3, 4, 6]  # increasing: no duplicate, nothing missing
    assert [r for r in resumed if r["step"] != 3] == values(whole)
    assert_same_tensors(final_tensors(pieces), final_tensors(whole))


def test_resume_without_a_checkpoint_starts_at_step_0(tiny_cfg, new_run, capsys):
    cfg = tiny_cfg(train={"steps": 2})
    model_dir = train_stage(cfg, stage="onestep", run_dir=new_run("run"), progress=False, resume=True)
    assert "no checkpoint under" in capsys.readouterr().out
    assert [r["step"] for r in read_metrics(model_dir / "metrics.jsonl")] == [1, 2]


def test_resume_refuses_another_configuration(tiny_cfg, new_run):
    cfg = tiny_cfg(train={"steps": STEPS})
    run = new_run("run")
    model_dir = train_stage(cfg, stage="shape", run_dir=run, progress=False, max_steps=2)
    weights = final_tensors(model_dir)
    other = cfg.replace(model={"constraint_mode": "area"})
    with pytest.raises(ValueError, match="model.constraint_mode: checkpoint 'bicubic', requested 'area'"):
        train_stage(other, stage="shape", run_dir=run, progress=False, resume=True)
    with pytest.raises(ValueError, match="different configuration .data.num_train: run"):
        train_stage(
            cfg.replace(data={"num_train": 32}), stage="shape", run_dir=run, progress=False, resume=True
        )
    with pytest.raises((ValueError, CheckpointError), match="another configuration"):
        train_stage(
            cfg.replace(model={"width": 0.125}), stage="shape", run_dir=run, progress=False, resume=True
        )
    assert_same_tensors(final_tensors(model_dir), weights)  # nothing was written
    assert [r["step"] for r in read_metrics(model_dir / "metrics.jsonl")] == [1, 2]
    assert json.loads((run / "config.json").read_text())["model"]["width"] == 0.0625


def test_train_stage_names_the_width_of_another_checkpoint(tiny_cfg, new_run):
    cfg = tiny_cfg(train={"steps": STEPS})
    run = new_run("run")
    train_stage(cfg, stage="shape", run_dir=run, progress=False, max_steps=1)
    with pytest.raises(ValueError, match="model.width: checkpoint 0.0625, requested 0.125"):
        train_stage(
            cfg.replace(model={"width": 0.125}), stage="shape", run_dir=run, progress=False, resume=True
        )
