"""Train one FashionGAN stage (or a One-Step baseline) with condgan's thin GAN step.

Each model trains on ground-truth segmentations, as the official code does: stage 1 (shape) learns the 7-class
map from the merged 4x8x8 spatial constraint and the design code; stage 2 (render) learns the image from the
colour-coded ground-truth map; the two are chained only at generation time.

Everything a run needs to continue lives in its folder (``<run>/<model>/``): ``checkpoints/step-*/`` (safetensors
weights, optimizer states, RNG states, config, written atomically), ``metrics.jsonl`` and ``samples/*.png``.
``resume=True`` continues from the last complete checkpoint: the batches are a function of the step
(:mod:`fashion_gan.sampling`) and the RNG states are restored, so on CPU in deterministic mode a resumed run
reproduces an uninterrupted one.
"""

from __future__ import annotations

import math
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from condgan.losses import l1_reconstruction, segmentation_cross_entropy
from condgan.train import (
    GracefulExit,
    MetricsLog,
    NonFiniteError,
    conditional_gan_step,
    init_distributed,
    latest_checkpoint,
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
from condgan.train.distributed import barrier, unwrap_model

from . import runs
from .conditions import build_conditions
from .config import RunConfig
from .models import build_stage, design_code, stage_inputs
from .sampling import StepBatches
from .visualize import save_stage_samples

__all__ = ["train_stage", "TrainingStopped"]


class TrainingStopped(RuntimeError):
    """Training stopped early (a signal or a non-finite value); the message says how to resume."""


def _device(name: str, dist_device: torch.device) -> torch.device:
    if name == "auto":
        return dist_device
    return torch.device(name)


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

    Args:
        cfg: the run configuration (saved into every checkpoint; a resume checks it matches).
        stage: which model to train; ``cfg.model.render`` / ``cfg.model.onestep_constraint`` pick the variant.
        run_dir: the run folder; the model's files go to ``run_dir / runs.model_dir_name(...)``.
        resume: continue from the last complete checkpoint (an error if there is none).
        progress: show a progress bar (rate and ETA) on the main process.
        max_steps: stop after this many steps in this call (as if interrupted), for tests of resume.

    Returns:
        The model folder.
    """
    run_dir = Path(run_dir)
    tc = cfg.train
    dist = init_distributed()
    device = _device(tc.device, dist.device)
    if tc.threads and device.type == "cpu":
        torch.set_num_threads(tc.threads)
    seed_everything(tc.seed, dist.rank)

    model_dir = run_dir / runs.model_dir_name(stage, cfg.model)
    ckpt_dir = model_dir / "checkpoints"
    if dist.is_main:
        runs.prepare_run_dir(run_dir, cfg)
    barrier()
    text_encoder = runs.ensure_text_encoder(run_dir, cfg, dist_is_main=dist.is_main).to(device)
    dataset = runs.make_dataset(cfg.data, "train")
    test_set = runs.make_dataset(cfg.data, "test")

    models = build_stage(cfg, stage)
    generator, discriminator = models.generator.to(device), models.discriminator.to(device)
    if tc.channels_last:
        to_channels_last(generator, discriminator)
    g_opt = make_adam(generator.parameters(), lr=tc.lr, betas=tc.betas, device=device)
    d_opt = make_adam(discriminator.parameters(), lr=tc.lr, betas=tc.betas, device=device)
    precision = make_precision(device, mode=tc.precision)
    ema = make_ema(generator, tc.ema_decay) if tc.ema_decay > 0 else None
    modules = {"generator": generator, "discriminator": discriminator}
    if ema is not None:
        modules["generator_ema"] = ema
    optimizers = {"generator": g_opt, "discriminator": d_opt}
    scalers = {"grad_scaler": precision.scaler} if precision.scaler is not None else {}

    start_step = 0
    latest = latest_checkpoint(ckpt_dir)
    if resume:
        if latest is None:
            raise FileNotFoundError(f"--resume: no complete checkpoint under {ckpt_dir}; start without --resume")
        info = load_checkpoint(latest, modules=modules, optimizers=optimizers, scalers=scalers)
        runs.check_same_config(info.config, cfg, path=latest)
        start_step = info.step
        # Per-rank RNG: the checkpoint holds rank 0's state; other ranks re-derive theirs from the step.
        if dist.rank:
            seed_everything(tc.seed + 7919 * start_step, dist.rank)
    elif latest is not None:
        raise FileExistsError(
            f"{model_dir} already has checkpoints (latest {latest.name}); pass --resume to continue it, "
            "or choose another --out"
        )
    log = None
    if dist.is_main:
        log_path = model_dir / "metrics.jsonl"
        log = MetricsLog.resume(log_path, start_step) if resume else MetricsLog(log_path)

    g_train = wrap_ddp(generator, dist)
    d_train = wrap_ddp(discriminator, dist)
    if tc.compile:
        g_train, d_train = torch.compile(g_train), torch.compile(d_train)

    end_step = tc.steps if max_steps is None else min(tc.steps, start_step + max_steps)
    loader = DataLoader(
        StepBatches(
            dataset,
            start_step=start_step,
            num_steps=end_step - start_step,
            global_batch=tc.batch_size * dist.world_size,
            seed=tc.seed,
            rank=dist.rank,
            world_size=dist.world_size,
        ),
        batch_size=None,
        num_workers=cfg.data.workers,
        pin_memory=device.type == "cuda",
        prefetch_factor=4 if cfg.data.workers > 0 else None,
        persistent_workers=False,
    )
    fixed = runs.fixed_test_batch(test_set, count=8)
    bar = _progress(progress and dist.is_main, start_step, tc.steps, model_dir.name)
    t_last, n_last = time.perf_counter(), 0
    step = start_step
    stopped_by = None
    with GracefulExit() as stop:
        for batch in loader:
            cond = build_conditions(
                batch["image"].to(device, non_blocking=True),
                batch["labels"].to(device, non_blocking=True),
                constraint_size=cfg.model.constraint_size,
                constraint_mode=cfg.model.constraint_mode,
            )
            with torch.no_grad():
                code = design_code(text_encoder, batch["word_ids"].to(device), cond.appearance, cfg.model)
            z = torch.randn(code.shape[0], cfg.model.z_dim, device=device)
            inputs = stage_inputs(models, cond, code, z)
            if tc.channels_last:
                inputs = _channels_last_inputs(inputs)
            reconstruction = _reconstruction(models.kind, cond)
            weight = tc.seg_weight if models.kind == "shape" else tc.l1_weight
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
                    reconstruction=reconstruction,
                    reconstruction_weight=weight,
                    loss=tc.loss,
                    d_weights=tc.d_weights,
                    single_d_call=tc.single_d_call,
                    precision=precision,
                    on_nonfinite="skip" if tc.on_nonfinite == "skip" else "raise",
                    stage=model_dir.name,
                    step=step + 1,
                )
            except NonFiniteError as err:
                # The last checkpoint holds finite weights; never write this state over it.
                raise TrainingStopped(
                    f"{err}. Training of {model_dir.name} stopped at step {step + 1}; the last checkpoint "
                    f"({latest_checkpoint(ckpt_dir)}) is intact. Lower the learning rate or set "
                    "train.on_nonfinite='skip' to skip such steps."
                ) from err
            if ema is not None:
                update_ema(ema, generator)
            step += 1
            n_last += code.shape[0] * dist.world_size
            if bar is not None:
                bar.update(1)
                bar.set_postfix(d=f"{losses['d_total']:.3f}", g=f"{losses['g_adv']:.3f}", rec=f"{losses['g_rec']:.3f}")
            if log is not None and (step % tc.log_every == 0 or step == end_step):
                now = time.perf_counter()
                log.write({"step": step, **losses, "images_per_s": n_last / max(now - t_last, 1e-9)})
                t_last, n_last = now, 0
            if dist.is_main and (step % tc.sample_every == 0 or step == tc.steps):
                save_stage_samples(
                    models, ema.module if ema is not None else generator, text_encoder, fixed, cfg,
                    model_dir / "samples" / f"step-{step:08d}.png", device=device,
                )
            stop_now = stop.stop_requested
            if step % tc.checkpoint_every == 0 or step == end_step or stop_now:
                if dist.is_main:
                    save_checkpoint(
                        ckpt_dir,
                        step=step,
                        modules=modules,
                        optimizers=optimizers,
                        scalers=scalers,
                        config=cfg.to_dict(),
                        extra_state={"stage": stage, "model": model_dir.name},
                        keep_last=tc.keep_last,
                    )
                barrier()
            if stop_now:
                stopped_by = stop.signal_name or "a stop request"
                break
    if bar is not None:
        bar.close()
    if stopped_by is not None:
        msg = (
            f"stopped by {stopped_by} after step {step}; checkpoint written. Resume with: "
            f"fashion-gan train --out {run_dir} --stage {stage} --resume"
        )
        if dist.is_main:
            print(msg, file=sys.stderr)
        raise TrainingStopped(msg)
    return model_dir


def _reconstruction(kind: str, cond):
    if kind == "shape":
        return lambda fake: segmentation_cross_entropy(fake, cond.labels)
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
    return tqdm(total=total, initial=start, desc=name, unit="step", dynamic_ncols=True, smoothing=0.1)


_ = (math, nullcontext, unwrap_model)
