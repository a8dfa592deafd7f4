"""A render teacher: the image models' attribute classifier, trained once and loaded before step 0.

The classifier warm-up
([`warm_up_stage_classifier`][fashion_gan.training.warmup.warm_up_stage_classifier]) makes D's classifier a
teacher that can read category before the generator learns from it: the largest measured gain in category
(docs/fashiongan.md, "A teacher that knows category"). Its 6,400 steps cost 9-12 minutes on 2 cores, more than
the demo's 15-minute budget leaves, and they are the same in every run of a configuration. So
[`train_teacher`][fashion_gan.training.teacher.train_teacher] (``fashion-gan teacher``) runs that warm-up
once and writes the classifier as a safetensors file with its configuration; ``train.classifier_init`` loads
it into every image model's classifier before step 0
([`load_teacher`][fashion_gan.training.teacher.load_teacher]). The demo and quality presets load the teachers
shipped with the recipe (64x64 and 128x128), made by the commands in
[`SHIPPED_TEACHERS`][fashion_gan.config.SHIPPED_TEACHERS].

Stage 1's classifier reads label maps, not pictures: a teacher never applies to it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
from torch import nn

from condgan.metrics import AttributeAccuracy
from condgan.nets import DiscriminatorWithClassifier

from .. import runs
from ..config import RunConfig, resolve_device, teacher_path
from ..modeling import get_stage

__all__ = [
    "TEACHER_STAGE",
    "TEACHER_MATCH",
    "train_teacher",
    "load_teacher",
    "teacher_accuracy",
]

TEACHER_STAGE = "render_compositional"
"""The stage whose discriminator the teacher is built for: every image model's classifier is the same network
(``Stage.build``), so one teacher serves them all."""

TEACHER_MATCH = ("data.source", "data.image_size", "model.width")
"""The configuration a teacher must share with the run that loads it (a teacher of 64x64 synthetic people
would load into a 128x128 run, since the classifier pools globally, and teach it wrongly)."""


def _field(cfg: RunConfig, dotted: str):
    section, name = dotted.split(".")
    return getattr(getattr(cfg, section), name)


def _teacher_discriminator(cfg: RunConfig) -> nn.Module:
    """A fresh discriminator of the teacher stage for ``cfg``, with its image classifier."""
    stage = get_stage(TEACHER_STAGE)
    _, discriminator = stage.build(stage.configure(cfg))
    return discriminator


@torch.no_grad()
def teacher_accuracy(
    classifier: nn.Module, cfg: RunConfig, *, device: torch.device, batch: int = 128
) -> dict[str, float]:
    """The classifier's accuracy per attribute on the run's test people (``data.num_test`` of them).

    Examples:
        >>> from fashion_gan.config import preset
        >>> cfg = preset("demo").replace(data={"num_test": 4})
        >>> acc = teacher_accuracy(load_teacher(cfg), cfg, device=torch.device("cpu"))
        >>> sorted(acc), all(0.0 <= v <= 1.0 for v in acc.values())
        (['category', 'color', 'sleeve'], True)
    """
    stage = get_stage(TEACHER_STAGE)
    test = runs.make_dataset(cfg.data, "test")
    metric = AttributeAccuracy()
    was_training = classifier.training
    classifier.eval()
    try:
        for start in range(0, len(test), batch):
            people = test.get_batch(list(range(start, min(start + batch, len(test)))))
            x = stage.real_sample(people["image"].to(device), people["labels"].to(device))
            logits = classifier(x)
            metric.update(logits, {name: people[name].to(device).long() for name in logits})
    finally:
        classifier.train(was_training)
    return metric.compute()


def train_teacher(
    cfg: RunConfig,
    out: Path,
    *,
    steps: int,
    people: int = 0,
    progress: bool = False,
    say=print,
) -> dict:
    """Warm up a fresh image classifier of ``cfg`` for ``steps`` steps and write it to ``out``.

    The same warm-up as ``train.classifier_warmup`` (batches of 64 real training samples and their mirror
    images, AdamW at ``train.classifier_warmup_lr`` decayed on a cosine, ``train.seed``), from ``people``
    distinct synthetic training people (0 = the run's training split). ``out`` is one safetensors file: the
    classifier's weights, and as metadata the configuration fields of
    [`TEACHER_MATCH`][fashion_gan.training.teacher.TEACHER_MATCH], the recipe and its accuracy on the test
    people. Written atomically. Returns the metadata.

    Raises:
        ValueError: ``out`` does not end in ``.safetensors``, ``steps`` < 1, or a config without classifier.
    """
    from safetensors.torch import save_file

    from .warmup import warm_up_stage_classifier

    out = Path(out)
    if out.suffix != ".safetensors":
        raise ValueError(f"--out: expected a path ending in .safetensors, got {str(out)!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"--warmup-steps: expected an int >= 1, got {steps!r}")
    if not cfg.model.classifier:
        raise ValueError("model.classifier: expected True (a teacher is D's attribute classifier), got False")
    warm = cfg.replace(train={"classifier_warmup": steps, "classifier_warmup_people": people}).validate()
    device = resolve_device(warm.train.device, what="train.device")
    with torch.random.fork_rng(devices=[]):  # the classifier's initial weights; the caller's RNG untouched
        torch.manual_seed(warm.train.seed)
        discriminator = _teacher_discriminator(warm).to(device)
    start = time.perf_counter()
    losses = warm_up_stage_classifier(
        get_stage(TEACHER_STAGE), discriminator, warm, device=device, progress=progress
    )
    seconds = time.perf_counter() - start
    classifier = discriminator.classifier
    accuracy = teacher_accuracy(classifier, warm, device=device)
    meta = {
        "format": "fashion_gan.teacher/1",
        "config": {name: _field(warm, name) for name in TEACHER_MATCH},
        "recipe": {
            "steps": steps,
            "people": people,
            "lr": warm.train.classifier_warmup_lr,
            "seed": warm.train.seed,
            "precision": warm.train.precision,
            "preset": warm.preset,
        },
        "test_accuracy": {name: round(value, 4) for name, value in accuracy.items()},
        "test_people": warm.data.num_test,
        "seconds": round(seconds, 1),
        "final_loss": round(sum(losses[-50:]) / len(losses[-50:]), 4),
    }
    state = {name: t.detach().to("cpu").contiguous() for name, t in classifier.state_dict().items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")  # a reader sees the old file or the whole new one
    try:
        save_file(state, str(tmp), metadata={"teacher": json.dumps(meta)})
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    say(
        f"teacher: {steps} steps in {seconds:.0f} s; test accuracy "
        + ", ".join(f"{k} {v:.3f}" for k, v in meta["test_accuracy"].items())
        + f"; wrote {out}"
    )
    return meta


def load_teacher(cfg: RunConfig, classifier: nn.Module | None = None) -> nn.Module:
    """Load the teacher ``cfg.train.classifier_init`` names into ``classifier`` (a fresh one of ``cfg`` when
    None) and return it.

    ``classifier`` is an image model's [`AttributeClassifier`][condgan.nets.AttributeClassifier], or a
    [`DiscriminatorWithClassifier`][condgan.nets.DiscriminatorWithClassifier] carrying one. Nothing is loaded
    unless every tensor matches and the teacher's
    [`TEACHER_MATCH`][fashion_gan.training.teacher.TEACHER_MATCH] fields equal the run's.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: not a teacher file, another configuration, or tensors of another shape.
    """
    from safetensors import SafetensorError, safe_open

    path = teacher_path(cfg.train.classifier_init)
    if not path.is_file():
        raise FileNotFoundError(
            f"train.classifier_init: teacher file not found: {path} (write one with 'fashion-gan teacher')"
        )
    try:
        with safe_open(str(path), framework="pt") as handle:
            raw = (handle.metadata() or {}).get("teacher")
            state = {name: handle.get_tensor(name) for name in handle.keys()}
        meta = json.loads(raw) if raw is not None else None
    except (SafetensorError, OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a valid teacher safetensors file ({err})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise ValueError(
            f"{path}: not a teacher file (no 'teacher' metadata); write one with 'fashion-gan teacher'"
        )
    for name in TEACHER_MATCH:
        if meta["config"].get(name) != _field(cfg, name):
            theirs = meta["config"].get(name)
            raise ValueError(
                f"train.classifier_init: {path} is a teacher for {name}={theirs!r}, but the run has "
                f"{name}={_field(cfg, name)!r}; train one for this configuration with 'fashion-gan teacher' "
                "(the same options) or train without: --set train.classifier_init=''"
            )
    if classifier is None:
        classifier = _teacher_discriminator(cfg).classifier
    if isinstance(classifier, DiscriminatorWithClassifier):
        classifier = classifier.classifier
    own = classifier.state_dict()
    if sorted(own) != sorted(state):
        raise ValueError(
            f"{path}: expected the tensors {sorted(own)[:4]}... of the run's classifier, got "
            f"{sorted(state)[:4]}... ({len(state)} tensors against {len(own)})"
        )
    for name, tensor in state.items():
        if tensor.shape != own[name].shape:
            raise ValueError(
                f"{path}: tensor {name!r}: expected shape {tuple(own[name].shape)}, got {tuple(tensor.shape)}"
            )
    classifier.load_state_dict(state)
    return classifier
