"""Train one FashionGAN stage (or a One-Step baseline): set-up, the step, and a loop of small duties.

Each model trains on ground-truth segmentations, as the official code does: stage 1 (shape) learns the 7-class
map from the merged 4x8x8 spatial constraint and the design code; stage 2 (render) learns the image from the
colour-coded ground-truth map; the two are chained only at generation time (unless
``train.render_generated_maps`` gives the render stage 1's own maps for part of each batch).

Everything a run needs to continue lives in its folder (``<run>/<model>/``): ``checkpoints/step-*/``
(safetensors weights, optimizer states, RNG states, config, written atomically), ``metrics.jsonl`` and
``samples/*.png``. ``resume=True`` continues from the last complete checkpoint: the batches, the noise and the
mismatched pairs are functions of the step ([`StepBatches`][fashion_gan.training.sampling.StepBatches]) and
the RNG states are restored, so on the CPU a resumed run reproduces an uninterrupted one.

Faults (see ``docs/faults.md`` and [`stopping`][fashion_gan.training.stopping]): a stop signal finishes the
step and writes a checkpoint; a NaN/Inf loss or gradient stops the run naming the stage, step and loss (or,
with ``train.on_nonfinite="skip"``, skips the step and counts it); weights that are not finite are never
written over a checkpoint; a full disk or an unwritable folder stops the run with the path named.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from condgan._checks import check_int
from condgan.train import (
    CheckpointError,
    DistInfo,
    MetricsLog,
    NonFiniteError,
    checkpoint_step,
    init_distributed,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    lr_factor,
    make_adam,
    make_ema,
    make_precision,
    read_checkpoint_meta,
    save_checkpoint,
    seed_everything,
    set_lr,
    to_channels_last,
    update_ema,
    wrap_ddp,
)
from condgan.train.distributed import barrier

from .. import runs
from ..config import RunConfig
from ..modeling import Stage, stage_for
from .generated_maps import GeneratedMaps, load_stage_one
from .samples import save_stage_samples
from .sampling import StepBatches, step_loader
from .step import make_step
from .stopping import (
    TrainingStopped,
    any_rank,
    intact,
    mean_over_ranks,
    stop_guard,
    writing,
)
from .teacher import load_teacher, teacher_path
from .tensorboard import TensorBoardLog
from .warmup import CLASSIFIER_WARMUP_BATCH, warm_up_stage_classifier

__all__ = ["train_stage", "check_train_config", "TrainingStopped", "resume_command"]


def resume_command(run_dir: str | Path, stage: str | Stage, cfg: RunConfig) -> str:
    """The ``fashion-gan train`` command line that resumes ``stage`` of the run in ``run_dir``.

    Examples:
        >>> from fashion_gan.config import preset
        >>> resume_command("runs/x", "render", preset("demo").replace(model={"render": "ih1"}))
        'fashion-gan train --out runs/x --stage render --render ih1 --resume'
    """
    if not isinstance(stage, Stage):
        stage = stage_for(stage, cfg.model)
    return f"fashion-gan train --out {run_dir} {' '.join(stage.cli_words())} --resume"


def check_train_config(cfg: RunConfig) -> RunConfig:
    """Check the whole configuration before any work
    ([`RunConfig.validate`][fashion_gan.config.RunConfig.validate]); errors name the field.

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


def train_stage(
    cfg: RunConfig,
    *,
    stage: str | Stage,
    run_dir: str | Path,
    resume: bool = False,
    progress: bool = True,
    max_steps: int | None = None,
) -> Path:
    """Train ``stage`` of ``cfg`` in ``run_dir``; return the model folder.

    Runs the same under ``python`` and ``torchrun``: each process trains on its slice of the step's global
    batch (``cfg.train.batch_size`` per process), DDP averages the gradients, and only rank 0 writes
    checkpoints, metrics and sample sheets.

    Args:
        cfg: the run configuration, with the stage's own fields applied
            ([`Stage.configure`][fashion_gan.modeling.stage.Stage.configure]; saved into every checkpoint,
            and a resume checks the model and data match).
        stage: a [`Stage`][fashion_gan.modeling.stage.Stage], or a ``--stage`` word (``"shape"``,
            ``"render"``, ``"onestep"``) whose variant ``cfg.model.render`` / ``onestep_constraint`` pick.
        run_dir: the run folder; the model's files go to ``run_dir / stage.name``.
        resume: continue from the last complete checkpoint (from step 0 when the model has none yet; an error
            when it has checkpoints and all are damaged).
        progress: show a progress bar (rate and ETA) on the main process.
        max_steps: stop after this many steps in this call (as if interrupted), for tests of resume.

    Raises:
        TrainingStopped: a stop signal, a non-finite value, or an output that could not be written.
        FileExistsError: checkpoints exist and ``resume`` is False.
        ValueError, TypeError: an invalid configuration (the field is named).
        condgan.train.CheckpointError: every checkpoint of the model is damaged (the file is named).
    """
    check_train_config(cfg)
    if not isinstance(stage, Stage):
        stage = stage_for(stage, cfg.model)
    # The stage's own fields (stage 1's train.shape_*, the render's steps), as `fashion-gan train` applies
    # them: configure is idempotent, so a configured cfg passes unchanged.
    cfg = stage.configure(cfg)
    if max_steps is not None:
        check_int("max_steps", max_steps, low=1)
    if not isinstance(run_dir, (str, Path)):
        raise TypeError(f"run_dir: expected a str or Path, got {type(run_dir).__name__}")
    tc = cfg.train
    # train.device=cpu on a machine with GPUs: gloo and CPU tensors (NCCL needs CUDA ones).
    dist = init_distributed(device="cpu" if tc.device == "cpu" else None)
    device = dist.device if tc.device == "auto" else torch.device(tc.device)
    if tc.threads and device.type == "cpu":
        torch.set_num_threads(tc.threads)
    with stop_guard() as stop:  # a signal from here on stops cleanly (after the current step)
        trainer = _Trainer.set_up(cfg, stage, Path(run_dir), dist, device, resume)
        return trainer.run(stop, progress=progress, max_steps=max_steps)


@dataclass
class _Trainer:
    """Everything one model's training holds, and the loop's small duties (log, sample, checkpoint, stop)."""

    cfg: RunConfig
    stage: Stage
    run_dir: Path
    dist: DistInfo
    device: torch.device
    text_encoder: nn.Module
    generator: nn.Module
    discriminator: nn.Module
    ema: nn.Module | None
    optimizers: dict
    scalers: dict
    precision: object
    step: int = 0
    skipped_steps: int = 0
    last_saved: Path | None = None
    log: MetricsLog | None = None
    board: TensorBoardLog | None = None
    last_record: dict = field(default_factory=dict)
    rate: list = field(default_factory=lambda: [time.perf_counter(), 0])

    @property
    def model_dir(self) -> Path:
        return self.run_dir / self.stage.name

    @property
    def ckpt_dir(self) -> Path:
        return self.model_dir / "checkpoints"

    @property
    def hint(self) -> str:
        return resume_command(self.run_dir, self.stage, self.cfg)

    @property
    def modules(self) -> dict[str, nn.Module]:
        out = {"generator": self.generator, "discriminator": self.discriminator}
        if self.ema is not None:
            out["generator_ema"] = self.ema
        return out

    # ---- set-up ----

    @classmethod
    def set_up(cls, cfg, stage, run_dir, dist, device, resume) -> _Trainer:
        """Folders, the text encoder, fresh (seeded) networks and optimizers, then the resumed checkpoint."""
        model_dir = run_dir / stage.name
        if dist.is_main:
            with writing(model_dir, None, resume_command(run_dir, stage, cfg), None):
                runs.prepare_run_dir(run_dir, cfg)
                model_dir.mkdir(parents=True, exist_ok=True)
        barrier()
        text_encoder = runs.ensure_text_encoder(run_dir, cfg, dist_is_main=dist.is_main).to(device)
        # Seed here, after the text encoder (trained or loaded), so the initial weights never depend on it.
        seed_everything(cfg.train.seed, dist.rank)
        generator, discriminator = (net.to(device) for net in stage.build(cfg))
        if cfg.train.channels_last:
            to_channels_last(generator, discriminator)
        precision = make_precision(device, mode=cfg.train.precision)
        trainer = cls(
            cfg=cfg,
            stage=stage,
            run_dir=run_dir,
            dist=dist,
            device=device,
            text_encoder=text_encoder,
            generator=generator,
            discriminator=discriminator,
            ema=_make_ema(generator, cfg.train),
            # Fused Adam on the CPU too: one pass per tensor, measured 4x faster than foreach (docs/speed.md).
            optimizers={
                name: make_adam(
                    net.parameters(), lr=cfg.train.lr, betas=cfg.train.betas, device=device, fused=True
                )
                for name, net in (("generator", generator), ("discriminator", discriminator))
            },
            scalers={"grad_scaler": precision.scaler} if precision.scaler is not None else {},
            precision=precision,
        )
        trainer.restore(resume)
        return trainer

    def restore(self, resume: bool) -> None:
        """Load the checkpoint to resume from (a fresh start refuses existing checkpoints)."""
        latest, folders = latest_checkpoint(self.ckpt_dir), list_checkpoints(self.ckpt_dir)
        extra: dict = {}
        if not resume and (latest is not None or folders):
            name = latest.name if latest is not None else folders[-1].name
            raise FileExistsError(
                f"{self.model_dir} already has checkpoints (latest {name}); pass --resume to continue it, "
                "or choose another --out"
            )
        if resume and latest is None and folders:  # all damaged: name the file, never restart silently
            load_checkpoint(
                folders[-1], modules=self.modules, optimizers=self.optimizers, scalers=self.scalers
            )
            raise CheckpointError(
                f"{self.ckpt_dir}: no complete checkpoint among {[f.name for f in folders]}"
            )
        if resume and latest is None:
            self._say(f"--resume: no checkpoint under {self.ckpt_dir} yet, starting at step 0")
        elif resume:
            skipped = [f.name for f in folders if checkpoint_step(f) > checkpoint_step(latest)]
            # Check the configuration first, so a mismatch names the field rather than listing tensor shapes.
            runs.check_same_config(read_checkpoint_meta(latest).get("config", {}), self.cfg, path=latest)
            info = load_checkpoint(
                latest, modules=self.modules, optimizers=self.optimizers, scalers=self.scalers
            )
            note = f" (skipped damaged {skipped})" if skipped else ""
            self._say(f"resuming from {latest} (step {info.step}){note}")
            self.step, extra = info.step, dict(info.extra_state)
        for opt in self.optimizers.values():  # the config wins over the checkpoint's hyper-parameters
            for group in opt.param_groups:
                group["lr"], group["betas"] = self.cfg.train.lr, tuple(self.cfg.train.betas)
        if self.step and self.dist.rank:  # the checkpoint holds rank 0's RNG; other ranks re-derive theirs
            seed_everything(self.cfg.train.seed + 7919 * self.step, self.dist.rank)
        self.skipped_steps = int(extra.get("skipped_steps", 0))
        self.last_saved = latest if self.dist.is_main else None

    # ---- the loop ----

    def run(self, stop, *, progress: bool, max_steps: int | None) -> Path:
        """Train from ``self.step`` to ``train.steps`` (or ``max_steps`` more); return the model folder."""
        tc = self.cfg.train
        end_step = tc.steps if max_steps is None else min(tc.steps, self.step + max_steps)
        if self.step >= end_step:
            self._say(f"already at step {self.step} of {tc.steps}; nothing to train")
            return self.model_dir
        if self.dist.is_main:
            # MetricsLog.resume drops records after the start step: a fresh start also drops a stale log's.
            with writing(self.model_dir / "metrics.jsonl", None, self.hint, None):
                self.log = MetricsLog.resume(self.model_dir / "metrics.jsonl", self.step)
                if tc.tensorboard:
                    board_dir = self.model_dir / "tensorboard"
                    self.board = TensorBoardLog(board_dir, start_step=self.step, config=self.cfg.to_dict())
        if any_rank(stop.stop_requested, self.dist.device, self.dist.world_size):  # a signal during set-up
            if self.step == 0:  # a fresh start: write step 0 so that --resume has a checkpoint to continue
                self.checkpoint()
            raise self.stopped(stop.signal_name or "a stop request")
        if self.step == 0 and tc.classifier_init and not self.stage.reads_maps:
            self.load_teacher()
        if self.step == 0 and tc.classifier_warmup:
            self.warm_up_classifier(stop, progress)
        train_step = self.make_train_step()
        fixed = runs.fixed_test_batch(runs.make_dataset(self.cfg.data, "test"), count=8)
        bar = _progress(progress and self.dist.is_main, self.step, tc.steps, self.stage.name)
        try:
            for batch in self.loader(end_step):
                losses = self.train_one(train_step, batch)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(
                        d=f"{losses['d_total']:.3f}", g=f"{losses['g_adv']:.3f}", rec=f"{losses['g_rec']:.3f}"
                    )
                self.after_step(losses, batch, fixed, stop, end_step)
        finally:
            if bar is not None:
                bar.close()
            if self.log is not None:
                self.log.close()
            if self.board is not None:
                if self.step >= tc.steps and self.last_record:
                    self.board.hparams(self.cfg.to_dict(), self.last_record)
                self.board.close()
        return self.model_dir

    def load_teacher(self) -> None:
        """``train.classifier_init``: D's classifier starts as the teacher, before step 0 (image models)."""
        load_teacher(self.cfg, self.discriminator)
        self._say(f"classifier: starts from the teacher {teacher_path(self.cfg.train.classifier_init)}")

    def warm_up_classifier(self, stop, progress: bool) -> None:
        """``train.classifier_warmup``: D's classifier learns the real samples alone, before step 0."""
        start = time.perf_counter()
        losses = warm_up_stage_classifier(
            self.stage,
            self.discriminator,
            self.cfg,
            device=self.device,
            stop=stop,
            progress=progress and self.dist.is_main,
        )
        tail = losses[-min(len(losses), 50) :]
        self._say(
            f"classifier warm-up: {len(losses)} steps of {CLASSIFIER_WARMUP_BATCH} real samples in "
            f"{time.perf_counter() - start:.0f} s, loss {losses[0]:.3f} -> {sum(tail) / len(tail):.3f} "
            f"(mean of the last {len(tail)})"
        )

    def make_train_step(self):
        g_train, d_train = wrap_ddp(self.generator, self.dist), wrap_ddp(self.discriminator, self.dist)
        if self.cfg.train.compile:
            g_train, d_train = torch.compile(g_train), torch.compile(d_train)
        maps = None
        if self.stage.two_stage and self.cfg.train.render_generated_maps:
            maps = GeneratedMaps(
                load_stage_one(self.run_dir, self.cfg, device=self.device),
                fraction=self.cfg.train.render_generated_maps,
                z_dim=self.cfg.model.z_dim,
                seed=self.cfg.train.seed,
                rank=self.dist.rank,
            )
        return make_step(
            self.stage,
            cfg=self.cfg,
            generator=self.generator,
            discriminator=self.discriminator,
            g_optimizer=self.optimizers["generator"],
            d_optimizer=self.optimizers["discriminator"],
            text_encoder=self.text_encoder,
            precision=self.precision,
            device=self.device,
            g_train=g_train,
            d_train=d_train,
            maps=maps,
        )

    def loader(self, end_step: int) -> DataLoader:
        """Whole step batches from worker processes, a function of the step (see ``StepBatches``)."""
        cfg, dist = self.cfg, self.dist
        # Stage 1 alone reads the twins: the render must see the person's own picture and appearance.
        twins = cfg.train.shape_garment_twins and self.stage.kind == "shape"
        batches = StepBatches(
            runs.make_dataset(cfg.data, "train", garment_twins=twins),
            start_step=self.step,
            num_steps=end_step - self.step,
            global_batch=cfg.train.batch_size * dist.world_size,
            seed=cfg.train.seed,
            rank=dist.rank,
            world_size=dist.world_size,
            noise_dim=cfg.model.z_dim,
        )
        return step_loader(batches, workers=cfg.data.workers, device=self.device)

    def train_one(self, train_step, batch: dict) -> dict:
        """One step; a non-finite loss or gradient becomes TrainingStopped (or a counted skip)."""
        tc = self.cfg.train
        if tc.lr_decay != "none":  # a function of the step: a resumed run continues the same rates
            factor = lr_factor(self.step + 1, tc.steps, tc.lr_decay, tc.lr_decay_start)
            set_lr(self.optimizers.values(), tc.lr * factor)
        try:
            losses = train_step(batch, self.step + 1)
        except NonFiniteError as err:
            # The last checkpoint holds finite weights; never write this state over it.
            raise TrainingStopped(
                f"{err}. Training of {self.stage.name} stopped at step {self.step + 1}; "
                f"{intact(self.last_saved)}. Lower train.lr, or set train.on_nonfinite='skip' to skip "
                f"such steps: {self.hint} --set train.on_nonfinite=skip",
                reason="nonfinite",
                step=self.step,
                checkpoint=self.last_saved,
            ) from err
        if losses["skipped"]:
            self.skipped_steps += 1
        if self.ema is not None:
            update_ema(self.ema, self.generator)
        self.step += 1
        self.rate[1] += batch["image"].shape[0] * self.dist.world_size
        return losses

    def after_step(self, losses: dict, batch: dict, fixed: dict, stop, end_step: int) -> None:
        """Log, sample, checkpoint and stop as the step number and the signals say."""
        tc, step = self.cfg.train, self.step
        if step % tc.log_every == 0 or step == end_step:
            self.write_log(losses)
        if self.dist.is_main and (step % tc.sample_every == 0 or step == tc.steps):
            path = self.model_dir / "samples" / f"step-{step:08d}.png"
            with writing(path, self.last_saved, self.hint, step):
                generator = self.ema.module if self.ema is not None else self.generator
                save_stage_samples(
                    self.stage, generator, self.text_encoder, fixed, self.cfg, path, device=self.device
                )
                if self.board is not None:
                    self.board.image(path, step=step)
        stop_now = any_rank(stop.stop_requested, self.dist.device, self.dist.world_size)
        if step % tc.checkpoint_every == 0 or step == end_step or stop_now:
            self.checkpoint()
        if stop_now:
            raise self.stopped(stop.signal_name or "a stop request on another rank")

    def write_log(self, losses: dict) -> None:
        """One metrics.jsonl record (every rank takes part; rank 0 writes the mean over ranks)."""
        if self.dist.world_size > 1:
            losses = mean_over_ranks(losses, self.dist.device, self.dist.world_size)
        if self.log is None:
            return
        now = time.perf_counter()
        record = {"step": self.step, **losses, "skipped_steps": self.skipped_steps}
        record["images_per_s"] = self.rate[1] / max(now - self.rate[0], 1e-9)
        with writing(self.log.path, self.last_saved, self.hint, self.step):
            self.log.write(record)
            if self.board is not None:
                lrs = {name: opt.param_groups[0]["lr"] for name, opt in self.optimizers.items()}
                self.board.scalars(record, step=self.step, lrs=lrs)
        self.last_record = record
        self.rate[:] = [now, 0]

    def checkpoint(self) -> None:
        """Write ``step-<step>`` atomically (rank 0); never write non-finite weights over the last one."""
        if self.dist.is_main:
            step = self.step
            try:
                with writing(self.ckpt_dir / f"step-{step:08d}", self.last_saved, self.hint, step):
                    self.last_saved = save_checkpoint(
                        self.ckpt_dir,
                        step=step,
                        modules=self.modules,
                        optimizers=self.optimizers,
                        scalers=self.scalers,
                        config=self.cfg.to_dict(),
                        extra_state={
                            "stage": self.stage.kind,
                            "model": self.stage.name,
                            "skipped_steps": self.skipped_steps,
                        },
                        keep_last=self.cfg.train.keep_last,  # pruned crash-safely (renamed, then deleted)
                    )
            except NonFiniteError as err:
                raise TrainingStopped(
                    f"{err}: the weights of {self.stage.name} are not finite after step {step}, so "
                    f"no checkpoint was written; {intact(self.last_saved)}. Lower train.lr, or resume with "
                    f"train.on_nonfinite='stop' to find the step where it diverged: {self.hint}",
                    reason="nonfinite",
                    step=step,
                    checkpoint=self.last_saved,
                ) from err
        barrier()

    def stopped(self, by: str) -> TrainingStopped:
        target = self.ckpt_dir / f"step-{self.step:08d}"
        return TrainingStopped(
            f"{self.stage.name}: stopped by {by} after step {self.step} of {self.cfg.train.steps}; "
            f"checkpoint {target} written. To continue, run the same command again with --resume, e.g. "
            f"{self.hint}",
            reason="signal",
            step=self.step,
            checkpoint=target,
        )

    def _say(self, message: str) -> None:
        if self.dist.is_main:
            print(f"{self.stage.name}: {message}", flush=True)


def _make_ema(generator: nn.Module, train) -> nn.Module | None:
    """The EMA copy of G that ``train.ema_decay`` asks for (None at 0), buffers per ``train.ema_buffers``."""
    if train.ema_decay <= 0:
        return None
    return make_ema(generator, train.ema_decay, average_buffers=train.ema_buffers == "average")


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
