"""Train one FashionGAN stage (or a One-Step baseline) with condgan's thin GAN step.

Each model trains on ground-truth segmentations, as the official code does: stage 1 (shape) learns the 7-class
map from the merged 4x8x8 spatial constraint and the design code; stage 2 (render) learns the image from the
colour-coded ground-truth map; the two are chained only at generation time.

Everything a run needs to continue lives in its folder (``<run>/<model>/``): ``checkpoints/step-*/``
(safetensors weights, optimizer states, RNG states, config, written atomically), ``metrics.jsonl`` and
``samples/*.png``. ``resume=True`` continues from the last complete checkpoint: the batches and the noise are
functions of the step (:mod:`fashion_gan.sampling`) and the RNG states are restored, so on the CPU a resumed
run reproduces an uninterrupted one.

Faults (see ``docs/faults.md``): SIGINT/SIGTERM finish the current step, write a checkpoint and raise
:class:`TrainingStopped` (the CLI exits with status 3 and says how to resume); a NaN/Inf loss or gradient
stops the run naming the stage, step and loss (or, with ``train.on_nonfinite="skip"``, skips the step and
counts it); weights that are not finite are never written over a checkpoint; a full disk or an unwritable
folder stops the run with the path named and the previous checkpoint intact. Under torchrun every rank stops
at the same step.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.distributed as torch_dist
from torch.utils.data import DataLoader

from condgan.losses import l1_reconstruction, segmentation_cross_entropy
from condgan.train import (
    CheckpointError,
    GracefulExit,
    MetricsLog,
    NonFiniteError,
    conditional_gan_step,
    init_distributed,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    make_adam,
    make_ema,
    make_precision,
    save_checkpoint,
    seed_everything,
    to_channels_last,
    update_ema,
    wrap_ddp,
)
from condgan.train.distributed import barrier

from . import runs
from .conditions import build_conditions
from .config import STAGES, RunConfig
from .models import build_stage, design_code, stage_inputs
from .sampling import StepBatches
from .visualize import save_stage_samples

__all__ = ["train_stage", "check_train_config", "TrainingStopped", "resume_command"]


class TrainingStopped(RuntimeError):
    """Training stopped before its last step; the message says why and how to continue.

    Raised after a stop signal (a checkpoint of the current step was written), a non-finite loss, gradient or
    weight (the last checkpoint is intact), or an output that could not be written (disk full, unwritable
    folder; the last checkpoint is intact). The ``fashion-gan`` CLI prints the message and exits with
    status 3.

    Attributes:
        reason: ``"signal"``, ``"nonfinite"`` or ``"write"``.
        step: The last completed training step (``None`` when unknown).
        checkpoint: The checkpoint folder to resume from (``None`` when there is none).
    """

    def __init__(self, message: str, *, reason: str, step: int | None, checkpoint: Path | None) -> None:
        super().__init__(message)
        self.reason = reason
        self.step = step
        self.checkpoint = checkpoint


def resume_command(run_dir: str | Path, stage: str, cfg: RunConfig) -> str:
    """The ``fashion-gan train`` command line that resumes ``stage`` of the run in ``run_dir``.

    Examples:
        >>> from fashion_gan.config import preset
        >>> resume_command("runs/x", "render", preset("demo").replace(model={"render": "ih1"}))
        'fashion-gan train --out runs/x --stage render --render ih1 --resume'
    """
    if stage not in STAGES:
        raise ValueError(f"stage: expected one of {STAGES}, got {stage!r}")
    extra = ""
    if stage == "render":
        extra = f" --render {cfg.model.render}"
    elif stage == "onestep":
        extra = f" --onestep-constraint {cfg.model.onestep_constraint}"
    return f"fashion-gan train --out {run_dir} --stage {stage}{extra} --resume"


def check_train_config(cfg: RunConfig) -> RunConfig:
    """Check the whole configuration before any work (:meth:`RunConfig.validate`); errors name the field.

    Examples:
        >>> from fashion_gan.config import preset
        >>> check_train_config(preset("demo").replace(train={"log_every": 0}))
        Traceback (most recent call last):
        ...
        ValueError: train.log_every: expected an int >= 1, got 0
    """
    if not isinstance(cfg, RunConfig):
        raise TypeError(f"cfg: expected a fashion_gan.config.RunConfig, got {type(cfg).__name__}")
    return cfg.validate()


class _NoSignals:
    """Stand-in for GracefulExit where signal handlers cannot be installed (not the main thread)."""

    stop_requested = False
    signal_name = None

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _stop_guard():
    return GracefulExit() if threading.current_thread() is threading.main_thread() else _NoSignals()


def _ignore_stop_signals(worker_id: int) -> None:
    """DataLoader workers leave SIGINT/SIGTERM to the main process, which stops cleanly after its step.

    A terminal's Ctrl-C (or a scheduler's SIGTERM to the whole job) reaches the workers too; a worker that
    died of it would turn the graceful stop into "DataLoader worker exited unexpectedly". Workers still exit
    when the main process shuts the loader down, or when it dies (their watchdog notices).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _any_rank(flag: bool, device: torch.device, world_size: int) -> bool:
    """True when ``flag`` is set on any rank (so every rank stops at the same step)."""
    if world_size == 1:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=device)
    torch_dist.all_reduce(t, op=torch_dist.ReduceOp.MAX)
    return bool(t.item())


def _mean_over_ranks(values: dict[str, float], device: torch.device, world_size: int) -> dict[str, float]:
    """Average the step's logged numbers over the ranks (each rank's are means over its slice)."""
    t = torch.tensor(list(values.values()), dtype=torch.float64, device=device)
    torch_dist.all_reduce(t, op=torch_dist.ReduceOp.SUM)
    mean = dict(zip(values, (t / world_size).tolist(), strict=True))
    return {k: round(v) if isinstance(values[k], int) else v for k, v in mean.items()}  # counts stay ints


def _device(name: str, dist_device: torch.device) -> torch.device:
    if name == "auto":
        return dist_device
    return torch.device(name)


def _snapshot_buffers(*modules: torch.nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(b, b.detach().clone()) for m in modules for b in m.buffers()]


@torch.no_grad()
def _restore_buffers(snapshot: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    for live, saved in snapshot:
        live.copy_(saved)


def _start_step(ckpt_dir: Path, resume: bool, model_dir: Path, modules, optimizers, scalers, cfg, is_main):
    """Load the checkpoint to resume from; return (step, extra_state). A fresh start refuses checkpoints."""
    latest = latest_checkpoint(ckpt_dir)
    folders = list_checkpoints(ckpt_dir)
    if not resume:
        if latest is not None or folders:
            name = latest.name if latest is not None else folders[-1].name
            raise FileExistsError(
                f"{model_dir} already has checkpoints (latest {name}); pass --resume to continue it, "
                "or choose another --out"
            )
        return 0, {}
    if latest is None:
        if folders:  # there were checkpoints, all damaged: say which file, never restart silently
            load_checkpoint(folders[-1], modules=modules, optimizers=optimizers, scalers=scalers)
            raise CheckpointError(f"{ckpt_dir}: no complete checkpoint among {[f.name for f in folders]}")
        if is_main:
            print(
                f"{model_dir.name}: --resume: no checkpoint under {ckpt_dir} yet, starting at step 0",
                flush=True,
            )
        return 0, {}
    newest = int(latest.name.split("-")[1])
    skipped = [f.name for f in folders if int(f.name.split("-")[1]) > newest]
    # Check the configuration first, so a mismatch names the field rather than listing tensor shapes.
    runs.check_same_config(runs.read_checkpoint_meta(latest).get("config", {}), cfg, path=latest)
    info = load_checkpoint(latest, modules=modules, optimizers=optimizers, scalers=scalers)
    if is_main:
        note = f" (skipped damaged {skipped})" if skipped else ""
        print(f"{model_dir.name}: resuming from {latest} (step {info.step}){note}", flush=True)
    return info.step, dict(info.extra_state)


def train_stage(
    cfg: RunConfig,
    *,
    stage: str,
    run_dir: str | Path,
    resume: bool = False,
    progress: bool = True,
    max_steps: int | None = None,
) -> Path:
    """Train ``stage`` (``"shape"``, ``"render"`` or ``"onestep"``) of ``cfg`` in ``run_dir``.

    Runs the same under ``python`` and ``torchrun``: each process trains on its slice of the step's global
    batch (``cfg.train.batch_size`` per process), DDP averages the gradients, and only rank 0 writes
    checkpoints, metrics and sample sheets.

    Args:
        cfg: the run configuration (saved into every checkpoint; a resume checks the model and data match).
        stage: which model to train; ``cfg.model.render`` / ``cfg.model.onestep_constraint`` pick the variant.
        run_dir: the run folder; the model's files go to ``run_dir / runs.model_dir_name(...)``.
        resume: continue from the last complete checkpoint (from step 0 when the model has none yet; an error
            when it has checkpoints and all are damaged).
        progress: show a progress bar (rate and ETA) on the main process.
        max_steps: stop after this many steps in this call (as if interrupted), for tests of resume.

    Returns:
        The model folder.

    Raises:
        TrainingStopped: a stop signal, a non-finite value, or an output that could not be written.
        FileExistsError: checkpoints exist and ``resume`` is False.
        ValueError, TypeError: an invalid configuration (the field is named).
        condgan.train.CheckpointError: every checkpoint of the model is damaged (the file is named).
    """
    if stage not in STAGES:
        raise ValueError(f"stage: expected one of {STAGES}, got {stage!r}")
    check_train_config(cfg)
    if max_steps is not None:
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"max_steps: expected an int >= 1 or None, got {max_steps!r}")
    if not isinstance(run_dir, (str, Path)):
        raise TypeError(f"run_dir: expected a str or Path, got {type(run_dir).__name__}")
    run_dir = Path(run_dir)
    tc = cfg.train
    # train.device=cpu on a machine with GPUs: gloo and CPU tensors (NCCL needs CUDA ones).
    dist = init_distributed(device="cpu" if tc.device == "cpu" else None)
    device = _device(tc.device, dist.device)
    if tc.threads and device.type == "cpu":
        torch.set_num_threads(tc.threads)
    model_dir = run_dir / runs.model_dir_name(stage, cfg.model)
    hint = resume_command(run_dir, stage, cfg)
    with _stop_guard() as stop:  # a signal from here on stops cleanly (after the current step)
        return _train(cfg, stage, run_dir, model_dir, hint, dist, device, stop, resume, progress, max_steps)


def _train(cfg, stage, run_dir, model_dir, hint, dist, device, stop, resume, progress, max_steps) -> Path:
    tc = cfg.train
    ckpt_dir = model_dir / "checkpoints"
    if dist.is_main:
        with _writing(model_dir, None, hint, None):
            runs.prepare_run_dir(run_dir, cfg)
            model_dir.mkdir(parents=True, exist_ok=True)
    barrier()
    text_encoder = runs.ensure_text_encoder(run_dir, cfg, dist_is_main=dist.is_main).to(device)
    dataset = runs.make_dataset(cfg.data, "train")
    test_set = runs.make_dataset(cfg.data, "test")

    # Seed here, after the text encoder (trained or loaded), so the initial weights never depend on it.
    seed_everything(tc.seed, dist.rank)
    models = build_stage(cfg, stage)
    generator, discriminator = models.generator.to(device), models.discriminator.to(device)
    if tc.channels_last:
        to_channels_last(generator, discriminator)
    # Fused Adam on the CPU too: one pass per tensor, measured 4x faster than foreach (docs/speed.md).
    g_opt = make_adam(generator.parameters(), lr=tc.lr, betas=tc.betas, device=device, fused=True)
    d_opt = make_adam(discriminator.parameters(), lr=tc.lr, betas=tc.betas, device=device, fused=True)
    precision = make_precision(device, mode=tc.precision)
    ema = make_ema(generator, tc.ema_decay) if tc.ema_decay > 0 else None
    modules = {"generator": generator, "discriminator": discriminator}
    if ema is not None:
        modules["generator_ema"] = ema
    optimizers = {"generator": g_opt, "discriminator": d_opt}
    scalers = {"grad_scaler": precision.scaler} if precision.scaler is not None else {}

    start_step, extra = _start_step(
        ckpt_dir, resume, model_dir, modules, optimizers, scalers, cfg, dist.is_main
    )
    for opt in (g_opt, d_opt):  # the config wins over the checkpoint's hyper-parameters (e.g. a lower lr)
        for group in opt.param_groups:
            group["lr"], group["betas"] = tc.lr, tuple(tc.betas)
    # The checkpoint holds rank 0's RNG; other ranks re-derive theirs from the step.
    if start_step and dist.rank:
        seed_everything(tc.seed + 7919 * start_step, dist.rank)
    skipped_steps = int(extra.get("skipped_steps", 0))
    end_step = tc.steps if max_steps is None else min(tc.steps, start_step + max_steps)
    if start_step >= end_step:
        if dist.is_main:
            print(
                f"{model_dir.name}: already at step {start_step} of {tc.steps}; nothing to train", flush=True
            )
        return model_dir

    batches = StepBatches(
        dataset,
        start_step=start_step,
        num_steps=end_step - start_step,
        global_batch=tc.batch_size * dist.world_size,
        seed=tc.seed,
        rank=dist.rank,
        world_size=dist.world_size,
        noise_dim=cfg.model.z_dim,
    )
    log = None
    if dist.is_main:
        # MetricsLog.resume drops records after start_step: a fresh start also drops a stale log's records.
        with _writing(model_dir / "metrics.jsonl", None, hint, None):
            log = MetricsLog.resume(model_dir / "metrics.jsonl", start_step)

    g_train = wrap_ddp(generator, dist)
    d_train = wrap_ddp(discriminator, dist)
    if tc.compile:
        g_train, d_train = torch.compile(g_train), torch.compile(d_train)

    step = start_step
    last_saved: Path | None = latest_checkpoint(ckpt_dir) if dist.is_main else None

    def checkpoint() -> None:
        nonlocal last_saved
        if dist.is_main:
            target = ckpt_dir / f"step-{step:08d}"
            try:
                with _writing(target, last_saved, hint, step):
                    last_saved = save_checkpoint(
                        ckpt_dir,
                        step=step,
                        modules=modules,
                        optimizers=optimizers,
                        scalers=scalers,
                        config=cfg.to_dict(),
                        extra_state={"stage": stage, "model": model_dir.name, "skipped_steps": skipped_steps},
                        keep_last=tc.keep_last,  # pruned crash-safely (renamed, then deleted)
                    )
            except NonFiniteError as err:
                raise TrainingStopped(
                    f"{err}: the weights of {model_dir.name} are not finite after step {step}, so "
                    f"no checkpoint was written; {_intact(last_saved)}. Lower train.lr, or resume with "
                    f"train.on_nonfinite='stop' to find the step where it diverged: {hint}",
                    reason="nonfinite",
                    step=step,
                    checkpoint=last_saved,
                ) from err
        barrier()

    def stopped(by: str) -> TrainingStopped:
        return TrainingStopped(
            f"{model_dir.name}: stopped by {by} after step {step} of {tc.steps}; checkpoint "
            f"{ckpt_dir / f'step-{step:08d}'} written. To continue, run the same command again with "
            f"--resume, e.g. {hint}",
            reason="signal",
            step=step,
            checkpoint=ckpt_dir / f"step-{step:08d}",
        )

    if _any_rank(stop.stop_requested, dist.device, dist.world_size):  # a signal during the set-up
        if step == 0:  # a fresh start: write step 0 so that --resume has a checkpoint to continue from
            checkpoint()
        raise stopped(stop.signal_name or "a stop request")

    loader = DataLoader(
        batches,
        batch_size=None,
        num_workers=cfg.data.workers,
        pin_memory=device.type == "cuda",
        prefetch_factor=4 if cfg.data.workers > 0 else None,
        persistent_workers=False,
        worker_init_fn=_ignore_stop_signals if cfg.data.workers > 0 else None,
        # Its own generator: iterating must not draw from the global RNG, or a resumed run would be one draw
        # ahead of an uninterrupted one (dropout noise would differ).
        generator=torch.Generator(),
    )
    fixed = runs.fixed_test_batch(test_set, count=8)
    bar = _progress(progress and dist.is_main, start_step, tc.steps, model_dir.name)
    t_last, n_last = time.perf_counter(), 0
    on_nonfinite = "skip" if tc.on_nonfinite == "skip" else "raise"
    try:
        for batch in loader:
            cond = build_conditions(
                batch["image"].to(device, non_blocking=True),
                batch["labels"].to(device, non_blocking=True),
                constraint_size=cfg.model.constraint_size,
                constraint_mode=cfg.model.constraint_mode,
            )
            with torch.no_grad():
                code = design_code(text_encoder, batch["word_ids"].to(device), cond.appearance, cfg.model)
            z = batch["noise"].to(device, non_blocking=True)
            inputs = stage_inputs(models, cond, code, z)
            if tc.channels_last:
                inputs = _channels_last_inputs(inputs)
            # BatchNorm updates its running statistics in the forward pass, before any NaN check: keep a copy
            # so that a skipped step leaves no NaN behind in the buffers (or in the next checkpoint).
            buffers = _snapshot_buffers(generator, discriminator) if on_nonfinite == "skip" else None
            try:
                losses = conditional_gan_step(
                    generator=g_train,
                    discriminator=d_train,
                    g_optimizer=g_opt,
                    d_optimizer=d_opt,
                    g_inputs=inputs.g_inputs,
                    real=inputs.real,
                    mismatched=inputs.mismatched,
                    fake_conditions=inputs.fake_conditions,
                    reconstruction=_reconstruction(models.kind, cond),
                    reconstruction_weight=tc.seg_weight if models.kind == "shape" else tc.l1_weight,
                    loss=tc.loss,
                    d_weights=tc.d_weights,
                    single_d_call=tc.single_d_call,
                    precision=precision,
                    on_nonfinite=on_nonfinite,
                    stage=model_dir.name,
                    step=step + 1,
                )
            except NonFiniteError as err:
                # The last checkpoint holds finite weights; never write this state over it.
                raise TrainingStopped(
                    f"{err}. Training of {model_dir.name} stopped at step {step + 1}; "
                    f"{_intact(last_saved)}. Lower train.lr, or set train.on_nonfinite='skip' to skip "
                    f"such steps: {hint} --set train.on_nonfinite=skip",
                    reason="nonfinite",
                    step=step,
                    checkpoint=last_saved,
                ) from err
            if losses["skipped"]:
                skipped_steps += 1
                _restore_buffers(buffers)
            if ema is not None:
                update_ema(ema, generator)
            step += 1
            n_last += code.shape[0] * dist.world_size
            if bar is not None:
                bar.update(1)
                bar.set_postfix(
                    d=f"{losses['d_total']:.3f}", g=f"{losses['g_adv']:.3f}", rec=f"{losses['g_rec']:.3f}"
                )
            log_now = step % tc.log_every == 0 or step == end_step
            if log_now and dist.world_size > 1:  # every rank takes part; rank 0 logs the mean over ranks
                losses = _mean_over_ranks(losses, dist.device, dist.world_size)
            if log is not None and log_now:
                now = time.perf_counter()
                record = {"step": step, **losses, "skipped_steps": skipped_steps}
                record["images_per_s"] = n_last / max(now - t_last, 1e-9)
                with _writing(log.path, last_saved, hint, step):
                    log.write(record)
                t_last, n_last = now, 0
            if dist.is_main and (step % tc.sample_every == 0 or step == tc.steps):
                path = model_dir / "samples" / f"step-{step:08d}.png"
                with _writing(path, last_saved, hint, step):
                    save_stage_samples(
                        models,
                        ema.module if ema is not None else generator,
                        text_encoder,
                        fixed,
                        cfg,
                        path,
                        device=device,
                    )
            stop_now = _any_rank(stop.stop_requested, dist.device, dist.world_size)
            if step % tc.checkpoint_every == 0 or step == end_step or stop_now:
                checkpoint()
            if stop_now:
                raise stopped(stop.signal_name or "a stop request on another rank")
    finally:
        if bar is not None:
            bar.close()
        if log is not None:
            log.close()
    return model_dir


def _intact(last: Path | None) -> str:
    return f"the last checkpoint ({last}) is intact" if last is not None else "no checkpoint was written yet"


@contextlib.contextmanager
def _writing(path: Path, last: Path | None, hint: str, step: int | None) -> Iterator[None]:
    """Turn a failed write (disk full, permissions, a file where a folder should be) into TrainingStopped."""
    try:
        yield
    except (OSError, CheckpointError) as err:
        reason = str(err) if isinstance(err, CheckpointError) else f"{err.strerror or err}"
        raise TrainingStopped(
            f"could not write {path}: {reason}; {_intact(last)}. Free some space or fix the folder's "
            f"permissions, then continue with: {hint}",
            reason="write",
            step=step,
            checkpoint=last,
        ) from err


def _reconstruction(kind: str, cond):
    if kind == "shape":
        # build_conditions' one-hot already checked the label range: no second scan (a device sync) per step.
        return lambda fake: segmentation_cross_entropy(fake, cond.labels, check_labels=False)
    return lambda fake: l1_reconstruction(fake, cond.images)


def _channels_last_inputs(inputs):
    def cl(t):
        return t.contiguous(memory_format=torch.channels_last) if torch.is_tensor(t) and t.ndim == 4 else t

    return inputs._replace(
        g_inputs=tuple(cl(t) for t in inputs.g_inputs),
        real=tuple(cl(t) for t in inputs.real),
        mismatched=None if inputs.mismatched is None else tuple(cl(t) for t in inputs.mismatched),
        fake_conditions=tuple(cl(t) for t in inputs.fake_conditions),
    )


def _progress(enabled: bool, start: int, total: int, name: str):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the recipe's extra installs tqdm; without it, train silently
        return None
    return tqdm(
        total=total, initial=start, desc=name, unit="step", dynamic_ncols=True, smoothing=0.1, file=sys.stderr
    )
