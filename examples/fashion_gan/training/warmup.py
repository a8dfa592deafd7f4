"""``train.classifier_warmup``: D's attribute classifier learns the real training samples before the GAN.

The AC-GAN classifier of ``model.classifier`` is the generator's only teacher of sleeve and category. Trained
only beside the GAN, the demo's render classifier read category right 0.29 of the time on real test images
after its 1,800 steps, so the generator was never taught category. The warm-up trains it alone first
([`warm_up_classifier`][condgan.train.warm_up_classifier]) on batches of
[`CLASSIFIER_WARMUP_BATCH`][fashion_gan.training.warmup.CLASSIFIER_WARMUP_BATCH] real training samples, drawn
with their mirror images, exactly as D's classifier sees them in the step
([`Stage.real_sample`][fashion_gan.modeling.stage.Stage.real_sample]). It runs once, before step 0 of a fresh
model; a resumed model has its warmed classifier in its checkpoints.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import torch
from torch import nn

from condgan.nets import DiscriminatorWithClassifier
from condgan.train import make_precision, warm_up_classifier

from .. import runs
from ..config import RunConfig
from ..modeling import Stage
from .sampling import StepBatches, step_loader
from .stopping import TrainingStopped

__all__ = ["CLASSIFIER_WARMUP_BATCH", "warm_up_stage_classifier"]

CLASSIFIER_WARMUP_BATCH = 64
"""Real samples per warm-up step (the judges' batch: the GAN's batch of 4-16 would need 4-16x the steps)."""

_SEED_OFFSET = 104729  # the warm-up's batches are drawn apart from the GAN's


def warm_up_stage_classifier(
    stage: Stage,
    discriminator: nn.Module,
    cfg: RunConfig,
    *,
    device: torch.device,
    stop=None,
    progress: bool = False,
) -> list[float]:
    """Train ``discriminator.classifier`` for ``cfg.train.classifier_warmup`` steps; return the step losses.

    The samples are the run's training people, or ``train.classifier_warmup_people`` distinct synthetic
    training people when it is not 0 (the run's own first). The batches are a function of ``cfg.train.seed``
    and the warm-up step alone ([`StepBatches`][fashion_gan.training.sampling.StepBatches] with its own
    seed, built by ``data.workers`` processes; the global RNG is not touched), so a run that starts over
    warms up to the same weights. A dataset smaller than the batch gives batches of the whole dataset.

    Args:
        stage: the model whose discriminator it is (what its classifier reads:
            [`Stage.real_sample`][fashion_gan.modeling.stage.Stage.real_sample]).
        discriminator: a [`DiscriminatorWithClassifier`][condgan.nets.DiscriminatorWithClassifier].
        cfg: the run configuration (data, ``train.classifier_warmup`` steps at ``train.classifier_warmup_lr``,
            seed, precision).
        device: where to train.
        stop: the loop's stop flag (``stop_requested``, ``signal_name``); a stop ends the warm-up with
            [`TrainingStopped`][fashion_gan.training.stopping.TrainingStopped] before anything is written.
        progress: show a progress bar.

    Raises:
        TypeError: ``discriminator`` carries no classifier.
    """
    if not isinstance(discriminator, DiscriminatorWithClassifier):
        raise TypeError(
            "discriminator: expected a condgan.nets.DiscriminatorWithClassifier (model.classifier=True), got "
            f"{type(discriminator).__name__}"
        )
    steps = cfg.train.classifier_warmup
    classifier = discriminator.classifier
    people = cfg.train.classifier_warmup_people
    # Sample i of the painter depends only on (seed, split, i): more people keeps the run's own as the first.
    dataset = runs.make_dataset(cfg.replace(data={"num_train": people}).data if people else cfg.data, "train")
    served = StepBatches(  # their own seed: apart from the GAN's batches
        dataset,
        start_step=0,
        num_steps=steps,
        global_batch=min(CLASSIFIER_WARMUP_BATCH, len(dataset)),
        seed=cfg.train.seed + _SEED_OFFSET,
    )

    def batches() -> Iterator[tuple[torch.Tensor, dict]]:
        for step, batch in enumerate(step_loader(served, workers=cfg.data.workers, device=device)):
            if stop is not None and stop.stop_requested:
                raise TrainingStopped(
                    f"{stage.name}: stopped by {stop.signal_name or 'a stop request'} during the classifier "
                    f"warm-up (step {step} of {steps}); nothing was written, so run the same command again "
                    "(the warm-up starts over)",
                    reason="signal",
                    step=None,
                    checkpoint=None,
                )
            x = stage.real_sample(
                batch["image"].to(device, non_blocking=True), batch["labels"].to(device, non_blocking=True)
            )
            targets = {
                name: batch[name].to(device, non_blocking=True).long() for name in classifier.head_sizes
            }
            if bar is not None:
                bar.update(1)
            yield x, targets

    bar = _bar(progress, steps, stage.name)
    try:
        return warm_up_classifier(
            classifier,
            batches(),
            steps=steps,
            lr=cfg.train.classifier_warmup_lr,  # AdamW's peak, decayed to 0 on a cosine
            flip=True,  # sleeve, category and colour survive a mirror image
            precision=make_precision(device, cfg.train.precision),
        )
    finally:
        if bar is not None:
            bar.close()


def _bar(enabled: bool, total: int, name: str):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the recipe's extra installs tqdm; without it, warm up silently
        return None
    return tqdm(
        total=total, desc=f"{name} classifier warm-up", unit="step", dynamic_ncols=True, file=sys.stderr
    )
