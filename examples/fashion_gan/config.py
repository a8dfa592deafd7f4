"""Configuration of a FashionGAN run: plain dataclasses, saved as JSON with every run and checkpoint.

Three presets:

- ``faithful``: the official sizes and hyper-parameters (128x128, z 80-d, text 100 -> 20, 4x8x8 spatial
  constraint from bicubic downsampling, Adam 2e-4 / beta1 0.5, batch 4, 100 x CE and 100 x L1, all three
  matching-aware D terms with weight 1 as the official gradients effectively have, 25,000 stage-1 iterations).
- ``demo``: a small configuration that learns visibly on 2 CPU cores in minutes (64x64, channels x 0.25,
  batch 16, bf16 autocast, 1200 stage-1 iterations whose rate falls linearly to 0 over the second half, and
  1800 for the render), with what the render ablation
  found to follow the sentence best: attribute classifiers beside the discriminators (AC-GAN), anti-aliased
  composition, resize-convolutions in the U-Net, L1 weight 30 and an EMA of the render's G (decay 0.99;
  stage 1 keeps more of the sleeve without one); the image models' classifier starts as the shipped teacher
  (``train.classifier_init``, trained once by ``fashion-gan teacher``) and teaches at weight 0.3.
- ``quality``: the demo's networks at the paper's 128x128, sized to train on 2 CPU cores in under 45 minutes
  (batch 8, 1500 stage-1 iterations and 3600 for the render; the image models start from the shipped 128x128
  teacher at class weight 0.1; judged by the demo's shipped judge; 27.6 minutes in all; docs/fashiongan.md
  says what it costs and gives).

The configs are turned into keyword arguments for condgan's layers by the stages of `fashion_gan.modeling`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from condgan._checks import check_bool, check_choice, check_int, check_number

__all__ = [
    "DataConfig",
    "TextConfig",
    "ModelConfig",
    "TrainConfig",
    "RunConfig",
    "PRESETS",
    "preset",
    "resolve_device",
    "SHIPPED_TEACHERS",
    "TEACHERS_DIR",
    "teacher_path",
]


@dataclass
class DataConfig:
    """Where samples come from."""

    source: str = "synthetic"  # "synthetic" (embedded, default) or "official" (the DeepFashion release)
    root: str | None = None  # official: the data_release folder
    cache: str | None = None  # official: a prepared uint8 cache folder (fashion_gan.data.cache)
    image_size: int = 128
    num_train: int = 20000  # synthetic only
    num_test: int = 2000  # synthetic only
    seed: int = 0  # synthetic only: sample i is a function of (seed, split, i)
    workers: int = 1  # data-loader worker processes producing whole batches


@dataclass
class TextConfig:
    """The text encoder whose frozen code feeds the design code (official: a 2-layer tanh RNN, 100-d)."""

    encoder: str = "train"  # "train" (on the training sentences) or a path to official rnn_latest.pth
    hidden_size: int = 100
    steps: int = 400
    batch_size: int = 128
    lr: float = 3e-3


@dataclass
class ModelConfig:
    """Network sizes. ``width`` multiplies every channel count (1.0 = official)."""

    width: float = 1.0
    z_dim: int = 80
    code_reduced: int = 20  # the learned 1x1 reduction of the design code (official: text 100 -> 20)
    constraint_size: int = 8
    constraint_mode: str = "bicubic"  # official: MATLAB imresize (antialiased bicubic) of the merged masks
    render: str = "compositional"  # stage-2 generator: a render stage of fashion_gan.modeling
    onestep_constraint: int = 7  # One-Step GAN baseline: 7 (8-7) or 4 (8-4) constraint channels
    wearer: bool = True  # append the wearer's appearance (skin, hair colour, hair extent) to the design code
    keep_regions: tuple[int, ...] = ()  # labels the compositional layer takes from the input at generation
    # Compositional render: each region's rendering is a base colour plus the network's residual; the colour
    # is the measured skin (face, arms, legs) and hair colour for those regions, a function of the code for
    # the rest (condgan.layers.RegionColors). Off reproduces the paper's layer alone (and older runs).
    region_colors: bool = False
    # Compositional and plain render: the reduced code also modulates every decoder level (FiLM) instead of
    # only being concatenated (condgan.nets.UNetGenerator code_film). Off = the networks of older runs.
    code_film: bool = False
    # Compositional and plain render: how the U-Net doubles the resolution: "deconv" (official transposed
    # conv)
    # or "resize" (nearest upsampling + conv 3x3, no checkerboard; condgan.layers.UpBlock mode).
    upsample: str = "deconv"
    # ... and the U-Net's last level alone: "same" (as upsample), "deconv" or "resize".
    final_upsample: str = "same"
    # Image models (render, One-Step): D carries an image-only attribute classifier of the sentence's colour,
    # sleeve and category, trained on real images; G is asked to make it read its sentence (AC-GAN,
    # condgan.train.AuxiliaryClassification). Off = the official training and older runs.
    classifier: bool = False
    # Every discriminator's head: "concat" (official: the reduced code tiled beside the features) or
    # "projection" (the code enters through an inner product with the features; condgan.nets.ProjectionHead).
    d_head: str = "concat"
    # Every discriminator: spectral normalisation on every conv and linear layer (batch norm kept). Off =
    # official.
    d_spectral_norm: bool = False
    # Compositional render: Gaussian sigma (pixels) softening the label map's edges before composing, as an
    # anti-aliased picture has them (condgan.layers.compose_regions antialias). 0 = the paper's hard edges.
    antialias: float = 0.0


@dataclass
class TrainConfig:
    """Optimisation and the training loop's switches."""

    steps: int = 25000
    # Steps of the stage-2 render models; 0 = train.steps. The demo's render needs
    # about 3x stage 1's steps (docs/fashiongan.md, "Where control was lost first"). --steps clears it.
    render_steps: int = 0
    batch_size: int = 4
    lr: float = 2e-4
    # The rate's decay over the model's steps (condgan.train.lr_factor): "none" (official: constant), "linear"
    # or "cosine" to 0 at the last step, starting after the fraction lr_decay_start of the steps.
    lr_decay: str = "none"
    lr_decay_start: float = 0.5
    betas: tuple[float, float] = (0.5, 0.999)
    seg_weight: float = 100.0  # stage 1: cross-entropy weight
    l1_weight: float = 100.0  # stage 2: L1 weight
    # stage 2: the L1 compares f x f block means (1 = pixels, official); texture finer than f is left to D
    l1_downsample: int = 1
    class_weight: float = 1.0  # image models with model.classifier: weight of G's classification term
    # With model.classifier: steps (of 64 real training samples) that train D's attribute classifier alone
    # before the first GAN step, so that the generator is taught by a classifier that can already read
    # category (docs/fashiongan.md, "A teacher that knows category"). 0 = off.
    classifier_warmup: int = 0
    # Synthetic data only: the warm-up draws from this many distinct training people (the first data.num_train
    # are the run's own, the rest fresh); 0 = the run's own. Learning 20,000 people by heart made a worse
    # teacher than drawing fresh ones (docs/fashiongan.md, "A teacher that knows category").
    classifier_warmup_people: int = 0
    # The warm-up's AdamW peak rate (cosine to 0). 2e-3 suits 6400 steps; a 1600-step warm-up read category
    # 0.475 at 4e-3 against 0.432 at 2e-3 and diverged at 8e-3 (docs/fashiongan.md, "A teacher that knows
    # category").
    classifier_warmup_lr: float = 2e-3
    # With model.classifier: a teacher loaded into every image model's classifier before step 0 (before any
    # warm-up): "" = none, a shipped teacher's name ("demo", "quality") or a .safetensors path written by
    # 'fashion-gan teacher' (docs/fashiongan.md, "A shipped teacher"). Stage 1's classifier reads label maps:
    # a teacher never applies to it.
    classifier_init: str = ""
    # stage 2: the L1 of each pixel times the weight of its label (7 weights, ids 0..6); () = all 1.
    l1_label_weights: tuple[float, ...] = ()
    # Render models: the share of each batch whose label map is the run's stage 1's (own sentence, argmax, as
    # at generation) instead of the true one; the L1 holds only where the two maps agree
    # (fashion_gan.training.generated_maps). Needs stage 1 trained first. 0 = official (true maps only).
    render_generated_maps: float = 0.0
    d_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)  # real, mismatched, fake
    loss: str = "bce"
    precision: str = "fp32"  # fp32 | bf16 | fp16 (CUDA only)
    channels_last: bool = False
    compile: bool = False
    single_d_call: bool = True
    ema_decay: float = 0.0  # 0 disables the EMA generator
    # Stage 1's EMA decay when not None (0 = none); None = train.ema_decay. The render keeps its colours with
    # the EMA; stage 1 keeps more of the sleeve without it (docs/fashiongan.md, "Following the sentence").
    shape_ema_decay: float | None = None
    # Stage 1's class_weight and classifier_warmup when not None; None = the train field. Warmed up like the
    # render, stage 1 lost hair and legs (docs/fashiongan.md, "A teacher that knows category").
    shape_class_weight: float | None = None
    shape_classifier_warmup: int | None = None
    # Stage 1's lr_decay when not None; None = train.lr_decay.
    shape_lr_decay: str | None = None
    # Synthetic data only: stage 1 takes its spatial constraint and appearance code from each person's garment
    # twin (the same body, pose, hair and face in another person's garments), so that they cannot tell it the
    # sleeve and garment the sentence should (docs/fashiongan.md, "Garment twins"). False = official.
    shape_garment_twins: bool = False
    # Stage 1: the cross-entropy of the pixels where upper clothes meet arms (within one pixel) weighted
    # 1 + this in the samples whose sleeve is short, the weights then scaled to mean 1 over the batch
    # (fashion_gan.training.sleeve_edges). 0 = official (every pixel alike).
    shape_sleeve_edge_weight: float = 0.0
    ema_buffers: str = "copy"  # copy | average: the EMA's BatchNorm statistics (make_ema average_buffers)
    on_nonfinite: str = "stop"  # stop | skip
    sample_every: int = 1000
    checkpoint_every: int = 1000
    log_every: int = 50
    keep_last: int = 3
    seed: int = 0
    device: str = "auto"
    threads: int = 0  # torch intra-op threads on CPU (0 = torch's default)
    tensorboard: bool = False  # also log to <run>/<model>/tensorboard (metrics.jsonl is written either way)


@dataclass
class RunConfig:
    """Everything about a run; saved as ``config.json`` in the run folder and inside each checkpoint."""

    preset: str = "faithful"
    data: DataConfig = field(default_factory=DataConfig)
    text: TextConfig = field(default_factory=TextConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Rebuild from `to_dict`; unknown keys are an error that names them."""
        if not isinstance(data, dict):
            raise TypeError(f"config: expected a dict, got {type(data).__name__}")
        kwargs: dict[str, Any] = {}
        sections = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(sections))
        if unknown:
            raise ValueError(f"config: unknown sections {unknown}; expected some of {sorted(sections)}")
        for name, value in data.items():
            if name == "preset":
                kwargs[name] = value
                continue
            section_cls = {
                "data": DataConfig,
                "text": TextConfig,
                "model": ModelConfig,
                "train": TrainConfig,
            }[name]
            kwargs[name] = _section_from_dict(section_cls, value, name)
        return cls(**kwargs)

    @classmethod
    def load(cls, path: str | Path) -> RunConfig:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {path}")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from None
        return cls.from_dict(data)

    def replace(self, **sections: dict[str, Any]) -> RunConfig:
        """A copy with fields of sections overridden, e.g. ``cfg.replace(train={"steps": 10})``."""
        out = self
        for name, updates in sections.items():
            if name == "preset":
                out = dataclasses.replace(out, preset=updates)
                continue
            current = getattr(out, name)
            valid = {f.name for f in fields(current)}
            bad = sorted(set(updates) - valid)
            if bad:
                raise ValueError(f"config.{name}: unknown fields {bad}; expected some of {sorted(valid)}")
            out = dataclasses.replace(out, **{name: dataclasses.replace(current, **updates)})
        return out

    def validate(self) -> RunConfig:
        """Check every field before any work; errors name the field (``train.lr``) and what was expected.

        Examples:
            >>> preset("demo").replace(train={"log_every": 0}).validate()
            Traceback (most recent call last):
            ...
            ValueError: train.log_every: expected an int >= 1, got 0
        """
        _validate_data(self.data)
        _validate_text(self.text)
        _validate_model(self.model)
        _validate_train(self.train)
        if self.train.l1_label_weights != () and self.train.l1_downsample != 1:
            raise ValueError(
                "train.l1_label_weights: expected () with train.l1_downsample > 1 (per-pixel weights need "
                f"the pixel L1), got {self.train.l1_label_weights!r}"
            )
        if self.train.render_generated_maps and self.train.l1_downsample != 1:
            raise ValueError(
                "train.render_generated_maps: expected 0 with train.l1_downsample > 1 (the L1 holds only the "
                f"pixels where the maps agree, a pixel L1), got {self.train.render_generated_maps!r}"
            )
        for name in ("classifier_warmup", "shape_classifier_warmup"):
            if getattr(self.train, name) and not self.model.classifier:
                raise ValueError(
                    f"train.{name}: expected 0 without model.classifier (no classifier to warm up), "
                    f"got {getattr(self.train, name)}"
                )
        if self.train.classifier_init:
            if not self.model.classifier:
                raise ValueError(
                    "train.classifier_init: expected '' without model.classifier (no classifier to load), "
                    f"got {self.train.classifier_init!r}"
                )
            teacher_path(self.train.classifier_init)  # a shipped name or a .safetensors path
        if self.train.shape_garment_twins and self.data.source != "synthetic":
            raise ValueError(
                f"train.shape_garment_twins: expected False with data.source {self.data.source!r} (only the "
                "synthetic people can be drawn again in other garments), got True"
            )
        if self.train.classifier_warmup_people and self.data.source != "synthetic":
            raise ValueError(
                "train.classifier_warmup_people: expected 0 (the training split) with data.source "
                f"{self.data.source!r}, whose split is fixed; got {self.train.classifier_warmup_people}"
            )
        if self.data.image_size % self.train.l1_downsample:
            raise ValueError(
                f"train.l1_downsample: expected a divisor of data.image_size={self.data.image_size}, got "
                f"{self.train.l1_downsample}"
            )
        return self


def _ints(section, where: str, names: tuple[str, ...], low: int) -> None:
    for name in names:
        check_int(f"{where}.{name}", getattr(section, name), low=low)


def _validate_data(d: DataConfig) -> None:
    check_choice("data.source", d.source, ("synthetic", "official"))
    check_int("data.image_size", d.image_size, low=32)
    if d.image_size > 256 or d.image_size & (d.image_size - 1):
        raise ValueError(f"data.image_size: expected a power of two in [32, 256], got {d.image_size}")
    _ints(d, "data", ("num_train", "num_test"), 1)
    _ints(d, "data", ("seed", "workers"), 0)
    for name in ("root", "cache"):
        if getattr(d, name) is not None and not isinstance(getattr(d, name), str):
            raise TypeError(f"data.{name}: expected a path string or None, got {getattr(d, name)!r}")


def _validate_text(x: TextConfig) -> None:
    if not isinstance(x.encoder, str) or not x.encoder:
        raise TypeError(f"text.encoder: expected 'train' or a path string, got {x.encoder!r}")
    _ints(x, "text", ("steps", "batch_size", "hidden_size"), 1)
    check_number("text.lr", x.lr, low=0.0, open_low=True)


def _validate_model(m: ModelConfig) -> None:
    from condgan.layers import SPATIAL_CONSTRAINT_MODES
    from condgan.layers.conv_norm_act import UPSAMPLE_MODES
    from condgan.nets import DISCRIMINATOR_HEADS

    from .modeling import variants

    check_number("model.width", m.width, low=0.0, open_low=True)
    _ints(m, "model", ("z_dim", "code_reduced"), 1)
    if m.constraint_size != 8:
        raise ValueError(
            f"model.constraint_size: the FashionGAN networks fuse the constraint at 8x8, got "
            f"{m.constraint_size!r}"
        )
    check_choice("model.constraint_mode", m.constraint_mode, tuple(SPATIAL_CONSTRAINT_MODES))
    check_choice("model.render", m.render, variants("render", "render"))
    check_choice("model.onestep_constraint", m.onestep_constraint, variants("onestep", "onestep_constraint"))
    check_bool("model.wearer", m.wearer)
    check_bool("model.region_colors", m.region_colors)
    check_bool("model.code_film", m.code_film)
    check_bool("model.classifier", m.classifier)
    check_number("model.antialias", m.antialias, low=0.0, high=4.0)
    check_choice("model.upsample", m.upsample, UPSAMPLE_MODES)
    check_choice("model.final_upsample", m.final_upsample, ("same", *UPSAMPLE_MODES))
    check_choice("model.d_head", m.d_head, DISCRIMINATOR_HEADS)
    check_bool("model.d_spectral_norm", m.d_spectral_norm)
    keep = m.keep_regions
    if not isinstance(keep, (tuple, list)) or not all(
        isinstance(k, int) and not isinstance(k, bool) and 0 <= k <= 6 for k in keep
    ):
        raise ValueError(f"model.keep_regions: expected label ids in 0..6, got {keep!r}")


def _numbers(name: str, value: object, count: int, low: float, high: float | None, what: str) -> None:
    ok = isinstance(value, (tuple, list)) and len(value) == count
    try:
        for v in value if ok else ():
            check_number(name, v, low=low, high=high)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name}: expected {what}, got {value!r}")


def _validate_train(t: TrainConfig) -> None:
    from condgan.losses import ADVERSARIAL_KINDS
    from condgan.train import LR_DECAYS

    _ints(t, "train", ("steps", "sample_every", "checkpoint_every", "log_every", "keep_last"), 1)
    check_int("train.batch_size", t.batch_size, low=2)  # BatchNorm on the 1x1 code needs two samples
    _ints(t, "train", ("seed", "threads", "render_steps", "classifier_warmup", "classifier_warmup_people"), 0)
    if t.seed >= 2**62:  # torch and NumPy seeds are 64-bit; the loop adds multiples of the step to it
        raise ValueError(f"train.seed: expected an int in [0, 2**62), got {t.seed}")
    # Adam turns lr into a float32 step size: beyond float32's range (3.4e38) its update fails.
    check_number("train.lr", t.lr, low=0.0, high=3.4e36, open_low=True)
    check_int("train.l1_downsample", t.l1_downsample, low=1)
    for name in ("seg_weight", "l1_weight", "class_weight"):
        check_number(f"train.{name}", getattr(t, name), low=0.0)
    check_choice("train.lr_decay", t.lr_decay, LR_DECAYS)
    if t.shape_lr_decay is not None:
        check_choice("train.shape_lr_decay", t.shape_lr_decay, (None, *LR_DECAYS))
    check_number("train.lr_decay_start", t.lr_decay_start, low=0.0, high=1.0)
    check_number("train.render_generated_maps", t.render_generated_maps, low=0.0, high=1.0, open_high=False)
    check_number("train.classifier_warmup_lr", t.classifier_warmup_lr, low=0.0, high=3.4e36, open_low=True)
    if not isinstance(t.classifier_init, str):
        raise TypeError(f"train.classifier_init: expected a str ('' = none), got {t.classifier_init!r}")
    check_number("train.ema_decay", t.ema_decay, low=0.0, high=1.0)
    check_number("train.shape_sleeve_edge_weight", t.shape_sleeve_edge_weight, low=0.0)
    for name, check, what in (
        ("ema_decay", lambda n, v: check_number(n, v, low=0.0, high=1.0), "a number in [0, 1)"),
        ("class_weight", lambda n, v: check_number(n, v, low=0.0), "a number >= 0"),
        ("classifier_warmup", lambda n, v: check_int(n, v, low=0), "an int >= 0"),
    ):
        value = getattr(t, f"shape_{name}")
        if value is None:
            continue
        try:
            check(f"train.shape_{name}", value)
        except TypeError:
            raise TypeError(
                f"train.shape_{name}: expected None (= train.{name}) or {what}, got {value!r}"
            ) from None
    if t.l1_label_weights != ():
        _numbers(
            "train.l1_label_weights",
            t.l1_label_weights,
            7,
            0.0,
            None,
            "() or 7 numbers >= 0 (label ids 0..6)",
        )
    _numbers("train.betas", t.betas, 2, 0.0, 1.0, "two numbers in [0, 1)")
    _numbers("train.d_weights", t.d_weights, 3, 0.0, None, "three numbers >= 0 (real, mismatch, fake)")
    check_choice("train.loss", t.loss, tuple(ADVERSARIAL_KINDS))
    check_choice("train.precision", t.precision, ("fp32", "bf16", "fp16"))
    check_choice("train.on_nonfinite", t.on_nonfinite, ("stop", "skip"))
    check_choice("train.ema_buffers", t.ema_buffers, ("copy", "average"))
    for name in ("channels_last", "compile", "single_d_call", "tensorboard", "shape_garment_twins"):
        check_bool(f"train.{name}", getattr(t, name))
    if t.device != "auto":
        resolve_device(t.device, what="train.device")


def resolve_device(name: object, *, what: str = "device"):
    """``name`` as a ``torch.device`` that exists here ('auto' -> CUDA when available, else CPU).

    Raises a ``ValueError`` naming ``what`` for a malformed name or a device this machine does not have.
    """
    import torch

    if not isinstance(name, str):
        raise TypeError(f"{what}: expected a str ('auto', 'cpu', 'cuda:0' ...), got {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ValueError(f"{what}: expected 'auto', 'cpu' or 'cuda[:N]', got {name!r}") from None
    if dev.type == "cuda":
        found = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (dev.index or 0) >= found:
            raise ValueError(f"{what}: {name!r} is not available here ({found} CUDA devices found)")
    elif dev.type != "cpu":
        raise ValueError(f"{what}: expected 'auto', 'cpu' or 'cuda[:N]', got {name!r}")
    return dev


def _section_from_dict(section_cls, value: Any, name: str):
    if not isinstance(value, dict):
        raise TypeError(f"config.{name}: expected a dict, got {type(value).__name__}")
    valid = {f.name: f for f in fields(section_cls)}
    bad = sorted(set(value) - set(valid))
    if bad:
        raise ValueError(f"config.{name}: unknown fields {bad}; expected some of {sorted(valid)}")
    cleaned = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
    return section_cls(**cleaned)


TEACHERS_DIR = Path(__file__).resolve().parent / "teachers"
"""Where the teachers shipped with the recipe are (``fashion_gan/teachers``)."""

SHIPPED_TEACHERS = {
    "demo": (
        "render_demo.safetensors",
        "fashion-gan teacher --preset demo --warmup-steps 6400 --people 1000000 "
        "--out examples/fashion_gan/teachers/render_demo.safetensors",
    ),
    "quality": (
        "render_quality.safetensors",
        "fashion-gan teacher --preset quality --warmup-steps 6400 --people 1000000 "
        "--out examples/fashion_gan/teachers/render_quality.safetensors",
    ),
}
"""Teachers shipped with the recipe (``train.classifier_init``), by name: (file in
[`TEACHERS_DIR`][fashion_gan.config.TEACHERS_DIR], the command that made it)."""


def teacher_path(spec: str) -> Path:
    """The file ``train.classifier_init`` names: a shipped teacher's name (a key of
    [`SHIPPED_TEACHERS`][fashion_gan.config.SHIPPED_TEACHERS]) or a path ending in ``.safetensors``.

    Raises:
        ValueError: neither a shipped name nor a ``.safetensors`` path.

    Examples:
        >>> teacher_path("demo").name
        'render_demo.safetensors'
        >>> teacher_path("runs/my_teacher.safetensors")
        PosixPath('runs/my_teacher.safetensors')
    """
    if spec in SHIPPED_TEACHERS:
        return TEACHERS_DIR / SHIPPED_TEACHERS[spec][0]
    if not spec.endswith(".safetensors"):
        raise ValueError(
            f"train.classifier_init: expected a shipped teacher ({', '.join(sorted(SHIPPED_TEACHERS))}) or a "
            f"path ending in .safetensors written by 'fashion-gan teacher', got {spec!r}"
        )
    return Path(spec)


def _faithful() -> RunConfig:
    return RunConfig(preset="faithful")


def _demo() -> RunConfig:
    return RunConfig(
        preset="demo",
        data=DataConfig(image_size=64, num_train=20000, num_test=512, workers=1),
        text=TextConfig(steps=300, batch_size=128),
        # AC-GAN classifiers, anti-aliased composition, resize-convolutions: the render ablation's best arm
        # (docs/fashiongan.md, "Following the sentence").
        model=ModelConfig(width=0.25, keep_regions=(), classifier=True, antialias=0.5, upsample="resize"),
        train=TrainConfig(
            # Stage 1: without the EMA, measured to keep more of the sleeve than with it (docs/fashiongan.md,
            # "Following the sentence"); 1200 steps whose rate falls linearly to 0 over the second half: seed
            # for seed (three seeds) more sleeve (+0.01 to +0.04) and as much or more category (means 0.29
            # against 0.25-0.26) than 900 steps at a constant rate, for about 70 s more (docs/fashiongan.md,
            # "The render on stage 1's own maps, and stage 1's rate").
            steps=1200,
            shape_lr_decay="linear",
            shape_ema_decay=0.0,
            # Stage 1 reads its 8x8 constraint and appearance from each person's garment twin: a sleeve is
            # wider than a bare arm and a skirt than a leg, so the person's own constraint told stage 1 the
            # garment it wore. Two seeds: sleeve 0.91-0.92 against 0.85-0.86, category 0.31-0.34 against
            # 0.29-0.31, FD 0-4 worse, no measurable time (drawn in the data worker; docs/fashiongan.md,
            # "Garment twins").
            shape_garment_twins=True,
            render_steps=1800,  # the render's largest measured gain (docs/fashiongan.md, the render ablation)
            # Half of each render batch on stage 1's own maps: with the twins' stage 1, two render seeds,
            # solid colour 0.97-0.98 against 0.92-0.96, sleeve +0.006 to +0.010, FD as good or better, arm
            # skin 1.1-1.4 dE further off, the render 20-30% slower (docs/fashiongan.md, "The render on the
            # twins' maps").
            render_generated_maps=0.5,
            batch_size=16,
            lr=1e-3,  # 5x the official rate: measured to halve stage 1's cross-entropy sooner, still stable
            # With the classifier the L1 can hold less: at 30 the multicolour garments get stripes and the
            # EMA (about the last 100 steps) keeps the solid colours (docs/fashiongan.md, "Following the
            # sentence").
            l1_weight=30.0,
            ema_decay=0.99,
            # The image models' classifier starts as the shipped teacher (6400 warm-up steps on 1,000,000
            # synthetic people, trained once by 'fashion-gan teacher'): category 0.23-0.27 against 0.13-0.16
            # without; at class weight 0.3 it teaches category without taking over the skin. Stage 1 keeps
            # weight 1 (docs/fashiongan.md, "A teacher that knows category", "A shipped teacher").
            classifier_init="demo",
            class_weight=0.3,
            shape_class_weight=1.0,
            precision="bf16",
            sample_every=100,
            checkpoint_every=100,
            log_every=10,
        ),
    )


def _quality() -> RunConfig:
    demo = _demo()
    return RunConfig(
        preset="quality",
        data=dataclasses.replace(demo.data, image_size=128),
        text=demo.text,
        model=demo.model,
        # Stage 1 at 128 needs more than the demo's 600 steps: at 600 its label maps were striped and legless.
        # The render at 128 with batch 8 needs 3600 steps: at 1800 it drew no prints and sleeve was 0.82
        # against 0.93 at 3600 (docs/fashiongan.md, "At 128x128").
        train=dataclasses.replace(
            demo.train,
            steps=1500,
            render_steps=3600,
            batch_size=8,
            sample_every=200,
            checkpoint_every=200,
            # Stage 1 at 128 keeps its EMA: without it sleeve was the same (0.922 against 0.926), one seed.
            # Its rate stays constant: the demo's falling rate lost sleeve (0.842 against 0.857), category
            # and FD at 128 (one seed; docs/fashiongan.md, "The render on stage 1's own maps, and stage 1's
            # rate").
            shape_ema_decay=None,
            shape_lr_decay=None,
            # The render on true maps only: at 128 the demo's half on stage 1's maps lost multicolour (0.05
            # against 0.89), solid colour, sleeve (0.906 against 0.941) and FD (one seed; docs/fashiongan.md,
            # "The render on the twins' maps").
            render_generated_maps=0.0,
            # Garment twins (the demo's): at 128 sleeve 0.94 against 0.86 and category 0.30 against 0.23, FD 6
            # worse (one seed; docs/fashiongan.md, "At 128x128").
            # The shipped teacher of 128x128 people. At class weight 0.1 it gave prints and category without
            # taking over the skin and the solid colours, which it did at 0.3 (docs/fashiongan.md, "A teacher
            # at 128"). Stage 1 keeps weight 1.
            classifier_init="quality",
            class_weight=0.1,
            shape_class_weight=1.0,
        ),
    )


PRESETS = {"faithful": _faithful, "demo": _demo, "quality": _quality}


def preset(name: str) -> RunConfig:
    """A fresh [`RunConfig`][fashion_gan.config.RunConfig] of the named preset (``faithful``, ``demo`` or
    ``quality``)."""
    if name not in PRESETS:
        raise ValueError(f"preset: expected one of {sorted(PRESETS)}, got {name!r}")
    return PRESETS[name]()
