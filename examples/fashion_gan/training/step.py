"""One training step of any stage: from a uint8 batch to the losses, through condgan's GAN step.

[`make_step`][fashion_gan.training.step.make_step] is what ``fashion-gan train`` runs every step and what the
benchmarks time, so the two can never drift apart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

from condgan.nets import DiscriminatorWithClassifier
from condgan.train import AuxiliaryClassification, Precision, conditional_gan_step

from ..config import RunConfig
from ..modeling import Conditions, Stage, StepInputs, build_conditions, design_code
from ..modeling.conditions import constraints_and_appearance
from .generated_maps import GeneratedMaps
from .sleeve_edges import sleeve_edge_weights

__all__ = [
    "make_step",
    "prepare_step",
    "PreparedStep",
    "prepare_inputs",
    "channels_last_inputs",
    "batch_conditions",
    "twin_conditions",
    "auxiliary_task",
]


def channels_last_inputs(inputs: StepInputs) -> StepInputs:
    """Every 4-d tensor of ``inputs`` in ``torch.channels_last`` memory format (others unchanged)."""

    def cl(t):
        return t.contiguous(memory_format=torch.channels_last) if torch.is_tensor(t) and t.ndim == 4 else t

    return StepInputs(*(None if group is None else tuple(cl(t) for t in group) for group in inputs))


def batch_conditions(batch: dict, cfg: RunConfig, device: torch.device):
    """The [`Conditions`][fashion_gan.modeling.conditions.Conditions] of a uint8 batch, on ``device``."""
    return build_conditions(
        batch["image"].to(device, non_blocking=True),
        batch["labels"].to(device, non_blocking=True),
        constraint_size=cfg.model.constraint_size,
        constraint_mode=cfg.model.constraint_mode,
    )


def twin_conditions(stage: Stage, cond: Conditions, batch: dict, cfg: RunConfig, device: torch.device):
    """``cond`` with the spatial constraints and the appearance code of the batch's garment twins
    (``batch["twin_image"]``, ``batch["twin_labels"]``; ``train.shape_garment_twins``); the label maps, the
    pictures and the one-hot maps stay the person's own, so stage 1 still learns to draw the person's map."""
    if stage.kind != "shape":
        raise ValueError(f"batch: only stage 1 trains on garment twins, got twin pictures for {stage.name}")
    constraint4, constraint7, appearance = constraints_and_appearance(
        batch["twin_image"].to(device, non_blocking=True),
        batch["twin_labels"].to(device, non_blocking=True),
        constraint_size=cfg.model.constraint_size,
        constraint_mode=cfg.model.constraint_mode,
    )
    return dataclasses.replace(cond, constraint4=constraint4, constraint7=constraint7, appearance=appearance)


class PreparedStep(NamedTuple):
    """One step's tensors: the networks' inputs, the batch's (true) conditions, the L1's pixel weights
    ``(B, H, W)`` (None: every pixel counts)."""

    inputs: StepInputs
    cond: Conditions
    pixel_weight: torch.Tensor | None


def prepare_step(
    stage: Stage,
    batch: dict,
    *,
    cfg: RunConfig,
    text_encoder: nn.Module,
    device: torch.device,
    maps: GeneratedMaps | None = None,
    step: int = 0,
) -> PreparedStep:
    """The networks' inputs of one step from a uint8 batch, the batch's conditions and the L1's weights.

    The conditions on ``device``, the frozen design code, ``batch["noise"]`` as z, ``batch["mismatch"]`` as
    the mismatched pairs when present (else the batch rolled by one), in channels_last when
    ``cfg.train.channels_last``. With ``maps`` (a render model and ``train.render_generated_maps``) G renders
    stage 1's maps in some rows and D judges that fake with them, while D's real and mismatched pairs keep the
    true maps; the pixel weights are 1 where G's map agrees with the true one, else 0. For stage 1 with
    ``train.shape_sleeve_edge_weight`` the weights are those of
    [`sleeve_edge_weights`][fashion_gan.training.sleeve_edges.sleeve_edge_weights] (its cross-entropy's).
    """
    cond = batch_conditions(batch, cfg, device)
    if "twin_labels" in batch:
        cond = twin_conditions(stage, cond, batch, cfg, device)
    with torch.no_grad():
        code = design_code(text_encoder, batch["word_ids"].to(device), cond.appearance, cfg.model)
    z = batch["noise"].to(device, non_blocking=True)
    mismatch = batch.get("mismatch")
    mismatch = None if mismatch is None else mismatch.to(device)
    inputs = stage.step_inputs(cond, code, z, mismatch)
    pixel_weight = None
    if maps is not None:
        if not stage.two_stage:
            raise ValueError(f"maps: only a render model paints stage 1's maps, this is {stage.name}")
        drawn, pixel_weight = maps(cond, code, step)
        fake_side = stage.step_inputs(drawn, code, z, mismatch)
        inputs = inputs._replace(g_inputs=fake_side.g_inputs, fake_conditions=fake_side.fake_conditions)
    if stage.kind == "shape" and cfg.train.shape_sleeve_edge_weight:
        pixel_weight = sleeve_edge_weights(cond.labels, batch["sleeve"], cfg.train.shape_sleeve_edge_weight)
    if cfg.train.channels_last:
        inputs = channels_last_inputs(inputs)
    return PreparedStep(inputs, cond, pixel_weight)


def prepare_inputs(
    stage: Stage, batch: dict, *, cfg: RunConfig, text_encoder: nn.Module, device: torch.device
) -> tuple[StepInputs, Conditions]:
    """The networks' inputs of one step from a uint8 batch, and the batch's conditions
    ([`prepare_step`][fashion_gan.training.step.prepare_step] without generated maps)."""
    prepared = prepare_step(stage, batch, cfg=cfg, text_encoder=text_encoder, device=device)
    return prepared.inputs, prepared.cond


def auxiliary_task(
    discriminator: nn.Module, batch: dict, *, cfg: RunConfig, device: torch.device
) -> AuxiliaryClassification | None:
    """The step's auxiliary classification when D carries a classifier (``model.classifier``), else None.

    The targets are the batch's own attributes: the generator draws each person from their own sentence.
    """
    if not isinstance(discriminator, DiscriminatorWithClassifier):
        return None
    heads = discriminator.classifier.head_sizes
    targets = {name: batch[name].to(device, non_blocking=True).long() for name in heads}
    return AuxiliaryClassification(
        classifier=discriminator.classifier, targets=targets, g_weight=cfg.train.class_weight
    )


def _snapshot_buffers(*modules: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(b, b.detach().clone()) for m in modules for b in m.buffers()]


@torch.no_grad()
def _restore_buffers(snapshot: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    for live, saved in snapshot:
        live.copy_(saved)


def make_step(
    stage: Stage,
    *,
    cfg: RunConfig,
    generator: nn.Module,
    discriminator: nn.Module,
    g_optimizer: torch.optim.Optimizer,
    d_optimizer: torch.optim.Optimizer,
    text_encoder: nn.Module,
    precision: Precision,
    device: torch.device,
    g_train: nn.Module | None = None,
    d_train: nn.Module | None = None,
    check_finite: bool = True,
    maps: GeneratedMaps | None = None,
) -> Callable[[dict, int], dict[str, float]]:
    """A function ``(batch, step) -> losses`` that trains ``stage`` one step on a uint8 batch.

    Each call builds the step's inputs ([`prepare_inputs`][fashion_gan.training.step.prepare_inputs]: the
    conditions, the frozen design code, the noise and the mismatched pairs, channels_last if asked) and runs
    ``condgan.train.conditional_gan_step`` with the run's loss, D weights, single D call and precision (and
    the [`auxiliary_task`][fashion_gan.training.step.auxiliary_task] when D carries a classifier). With
    ``cfg.train.on_nonfinite == "skip"`` a skipped step also restores the BatchNorm statistics its forward
    passes had already updated, so nothing non-finite stays behind.

    Args:
        stage: the model to train.
        cfg: the run configuration (its ``train`` and ``model`` sections).
        generator: G (its buffers are restored after a skipped step).
        discriminator: D.
        g_optimizer: steps G.
        d_optimizer: steps D.
        text_encoder: the frozen sentence encoder.
        precision: from ``condgan.train.make_precision``.
        device: where the batch goes.
        g_train: what is called to run G (a DDP wrapper or a compiled module; default ``generator``).
        d_train: the same for D.
        check_finite: check losses and gradient norms before each optimizer step.
        maps: stage 1's maps for part of each batch (``train.render_generated_maps``; render models only).

    Returns:
        ``step(batch, step_number)``: the losses of ``conditional_gan_step`` (``step_number`` names the
        step in error messages).
    """
    tc = cfg.train
    on_nonfinite = "skip" if tc.on_nonfinite == "skip" else "raise"
    g_call = generator if g_train is None else g_train
    d_call = discriminator if d_train is None else d_train

    def step(batch: dict, step_number: int) -> dict[str, float]:
        inputs, cond, pixel_weight = prepare_step(
            stage, batch, cfg=cfg, text_encoder=text_encoder, device=device, maps=maps, step=step_number
        )
        # BatchNorm updates its running statistics in the forward pass, before any NaN check: keep a copy so
        # that a skipped step leaves no NaN behind in the buffers (or in the next checkpoint).
        buffers = _snapshot_buffers(generator, discriminator) if on_nonfinite == "skip" else None
        losses = conditional_gan_step(
            generator=g_call,
            discriminator=d_call,
            g_optimizer=g_optimizer,
            d_optimizer=d_optimizer,
            g_inputs=inputs.g_inputs,
            real=inputs.real,
            mismatched=inputs.mismatched,
            fake_conditions=inputs.fake_conditions,
            reconstruction=stage.reconstruction_loss(
                cond,
                l1_downsample=tc.l1_downsample,
                l1_label_weights=tc.l1_label_weights,
                pixel_weight=pixel_weight,
            ),
            reconstruction_weight=stage.reconstruction_weight(cfg),
            loss=tc.loss,
            d_weights=tc.d_weights,
            single_d_call=tc.single_d_call,
            precision=precision,
            auxiliary=auxiliary_task(discriminator, batch, cfg=cfg, device=device),
            check_finite=check_finite,
            on_nonfinite=on_nonfinite,
            stage=stage.name,
            step=step_number,
        )
        if losses["skipped"] and buffers is not None:
            _restore_buffers(buffers)
        return losses

    return step
