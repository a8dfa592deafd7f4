"""A stage: one trainable model of the recipe, and the one registry that lists them all.

Every model FashionGAN trains (stage 1, each stage-2 variant, each One-Step baseline) is a
[`Stage`][fashion_gan.modeling.stage.Stage] subclass registered with
[`register`][fashion_gan.modeling.stage.register]. A stage knows its folder name, the CLI words that select
and resume it, how to build its generator and discriminator from a run configuration, what the matching-aware
step feeds them, its reconstruction loss, and how it generates from the conditions of real people. Everything
else is a view of [`STAGES`][fashion_gan.modeling.stage.STAGES]: the ``--render`` choices, the evaluation
rows, the models ``train --stage all`` trains, the benchmark lists. Adding a variant is one class and its
``@register`` line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, NamedTuple

import torch
from torch import nn

from condgan.layers import assemble_design_code, one_hot_labels
from condgan.nets import AttributeClassifier, DiscriminatorWithClassifier

from .conditions import APPEARANCE_DIM, NUM_LABELS, Conditions, images_to_float
from .official_nets import scale_channels

if TYPE_CHECKING:  # the registry sits below the config: the config's choices are views of it
    from ..config import RunConfig

__all__ = [
    "Stage",
    "StepInputs",
    "STAGES",
    "KINDS",
    "all_stages",
    "register",
    "get_stage",
    "stage_for",
    "variants",
    "evaluation_stages",
    "demo_stages",
    "code_dim",
    "design_code",
    "net_kwargs",
    "mismatched_rows",
    "CLASSIFIER_HEADS",
    "SHAPE_CLASSIFIER_HEADS",
]


class StepInputs(NamedTuple):
    """What one matching-aware training step feeds the networks (see ``condgan.train.conditional_gan_step``).

    ``fake = G(*g_inputs)``; D judges ``real`` (sample, *conditions) up, ``mismatched`` (another person's
    sample and spatial condition with this code) and ``(fake, *fake_conditions)`` down.
    """

    g_inputs: tuple
    real: tuple
    mismatched: tuple | None
    fake_conditions: tuple


def code_dim(text_dim: int, model_cfg) -> int:
    """Size of the design code: the text code, plus the appearance vector when ``model.wearer``."""
    return text_dim + (APPEARANCE_DIM if model_cfg.wearer else 0)


def design_code(text_encoder, word_ids: torch.Tensor, appearance: torch.Tensor, model_cfg) -> torch.Tensor:
    """``d = [text code, appearance]``, ``(B, D)`` (paper section 3.1: text encoding, wearer attributes)."""
    text_code, _ = text_encoder(word_ids)
    if not model_cfg.wearer:
        return text_code
    parts = {"text": text_code, "appearance": appearance.to(text_code.dtype)}
    return assemble_design_code(parts, ("text", "appearance"))


def net_kwargs(cfg, *, noise: bool = True) -> dict:
    """The keyword arguments every official network builder takes, from ``cfg``: the noise size for G
    (``noise=True``), the head and spectral norm (``model.d_head``, ``model.d_spectral_norm``) for D
    (``noise=False``)."""
    m = cfg.model
    kwargs = dict(
        image_size=cfg.data.image_size,
        width=m.width,
        code_dim=code_dim(cfg.text.hidden_size, m),
        code_reduced_dim=m.code_reduced,
    )
    if noise:
        kwargs["noise_dim"] = m.z_dim
    else:
        kwargs.update(head=m.d_head, spectral_norm=m.d_spectral_norm)
    return kwargs


class Stage:
    """One trainable model: its names, its networks, its step inputs, its loss and its generation.

    Subclasses set the class attributes and implement
    [`build_networks`][fashion_gan.modeling.stage.Stage.build_networks],
    [`step_inputs`][fashion_gan.modeling.stage.Stage.step_inputs] and
    [`generate`][fashion_gan.modeling.stage.Stage.generate]; the defaults cover the rest.

    Attributes:
        name: The model's folder in a run (``render_compositional``) and its name everywhere else.
        kind: The ``--stage`` word that trains it: ``"shape"``, ``"render"`` or ``"onestep"``.
        model_fields: The ``model`` config fields that select it among the stages of its kind, e.g.
            ``{"render": "compositional"}`` (they also give its CLI words).
        title: Its row in the evaluation table.
        evaluated: Trained by ``train --stage all`` (and ``fashion-gan ablation``): the paper's comparison.
        in_demo: Trained by ``fashion-gan demo`` (what its pictures need: stage 1 and the paper's model).
        two_stage: A render model, chained after stage 1 at generation time.
        reconstruction: ``"cross_entropy"`` (to the label map) or ``"l1"`` (to the image).
        benchmarked: Timed by ``benchmarks/`` (training and generation speed).
    """

    name: ClassVar[str]
    kind: ClassVar[str]
    model_fields: ClassVar[dict] = {}
    title: ClassVar[str]
    evaluated: ClassVar[bool] = False
    in_demo: ClassVar[bool] = False
    two_stage: ClassVar[bool] = False
    reconstruction: ClassVar[str] = "l1"
    benchmarked: ClassVar[bool] = False

    def build(self, cfg: RunConfig) -> tuple[nn.Module, nn.Module]:
        """The generator and discriminator of this model for ``cfg`` (fresh weights).

        With ``model.classifier`` the discriminator carries an
        [`AttributeClassifier`][condgan.nets.AttributeClassifier] of the sentence's garment attributes that
        reads only the sample (AC-GAN): the picture for the image models
        ([`CLASSIFIER_HEADS`][fashion_gan.modeling.stage.CLASSIFIER_HEADS]), the label map for stage 1 (sleeve
        and category: a map has no colour). The step trains it on the real samples and asks the generator to
        show its sentence's attributes to it.
        """
        generator, discriminator = self.build_networks(cfg)
        if cfg.model.classifier:
            channels = tuple(scale_channels(c, cfg.model.width) for c in CLASSIFIER_CHANNELS)
            maps = self.reads_maps
            classifier = AttributeClassifier(
                heads=SHAPE_CLASSIFIER_HEADS if maps else CLASSIFIER_HEADS,
                in_channels=NUM_LABELS if maps else 3,
                channels=channels,
                input_softmax=maps,
            )
            discriminator = DiscriminatorWithClassifier(discriminator, classifier)
        return generator, discriminator

    @property
    def reads_maps(self) -> bool:
        """Whether this model's sample is a label map (stage 1) rather than a picture."""
        return self.reconstruction == "cross_entropy"

    def real_sample(self, images_u8: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """What D (and its classifier) sees of real people, from a uint8 batch: the one-hot label maps
        ``(B, 7, H, W)`` for stage 1, the pictures ``(B, 3, H, W)`` in ``[-1, 1]`` for the image models.

        The same tensor as ``build_conditions(...).one_hot`` or ``.images``, without the rest of the
        conditions (a tenth of their cost, for the classifier warm-up).
        """
        if self.reads_maps:
            return one_hot_labels(labels.long(), NUM_LABELS)
        return images_to_float(images_u8)

    def build_networks(self, cfg: RunConfig) -> tuple[nn.Module, nn.Module]:
        """This model's own generator and discriminator for ``cfg`` (fresh weights)."""
        raise NotImplementedError

    def step_inputs(self, cond: Conditions, code: torch.Tensor, z: torch.Tensor, mismatch) -> StepInputs:
        """The networks' inputs for one step; ``mismatch`` reorders the batch for the mismatched pairs."""
        raise NotImplementedError

    def generate(self, generator: nn.Module, cond: Conditions, code: torch.Tensor, z: torch.Tensor):
        """The model's output for real people's conditions: logits (stage 1) or an image in ``[-1, 1]``."""
        raise NotImplementedError

    def reconstruction_loss(
        self,
        cond: Conditions,
        *,
        l1_downsample: int = 1,
        l1_label_weights: tuple[float, ...] = (),
        pixel_weight: torch.Tensor | None = None,
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        """``fake -> scalar``: cross-entropy to the label map, or L1 to the image (its ``l1_downsample``-fold
        block means: ``train.l1_downsample``; each pixel weighted by its label's ``l1_label_weights``).
        ``pixel_weight`` ``(B, H, W)`` weights each pixel of either: for the L1 e.g. 0 where the generator
        was given another map than the picture's, for stage 1's cross-entropy more where a short sleeve
        ends."""
        from condgan.losses import l1_reconstruction, segmentation_cross_entropy

        if self.reconstruction == "cross_entropy":
            # build_conditions' one-hot already checked the label range: no second scan (a device sync).
            return lambda fake: segmentation_cross_entropy(
                fake, cond.labels, check_labels=False, weight=pixel_weight
            )
        weight = pixel_weight
        if l1_label_weights:
            table = torch.tensor(l1_label_weights, dtype=cond.images.dtype, device=cond.images.device)
            weight = table[cond.labels] if weight is None else weight * table[cond.labels]
        return lambda fake: l1_reconstruction(fake, cond.images, downsample=l1_downsample, weight=weight)

    def reconstruction_weight(self, cfg: RunConfig) -> float:
        """``train.seg_weight`` for a cross-entropy, ``train.l1_weight`` for an L1 reconstruction."""
        return cfg.train.seg_weight if self.reconstruction == "cross_entropy" else cfg.train.l1_weight

    def configure(self, cfg: RunConfig) -> RunConfig:
        """``cfg`` with the model fields that select this stage, ``train.steps`` set to
        ``train.render_steps`` for the stage-2 render models (when that is not 0), and for stage 1
        ``train.ema_decay``, ``class_weight`` and ``classifier_warmup`` set to their ``train.shape_*`` fields
        (those that are not None)."""
        out = cfg.replace(model=dict(self.model_fields)) if self.model_fields else cfg
        if self.kind in RENDER_KINDS and out.train.render_steps:
            out = out.replace(train={"steps": out.train.render_steps})
        if self.kind == "shape":
            t = out.train
            stage_one = {name: getattr(t, f"shape_{name}") for name in SHAPE_OVERRIDES}
            out = out.replace(train={k: v for k, v in stage_one.items() if v is not None})
        return out

    def cli_words(self) -> tuple[str, ...]:
        """The ``fashion-gan train`` options selecting this model, e.g. ``--stage render --render plain``."""
        words = ["--stage", self.kind]
        for field, value in self.model_fields.items():
            words += [f"--{field.replace('_', '-')}", str(value)]
        return tuple(words)

    def __repr__(self) -> str:
        return f"<stage {self.name}>"


CLASSIFIER_HEADS = {"color": 17, "sleeve": 4, "category": 19}
"""What the auxiliary classifier of ``model.classifier`` reads (batch keys -> classes): the garment attributes
a sentence sets. Gender is the wearer's, not the sentence's to change, so it is not asked for."""

SHAPE_CLASSIFIER_HEADS = {"sleeve": 4, "category": 19}
"""What stage 1's classifier reads from a label map: the sentence's attributes that have a shape."""

CLASSIFIER_CHANNELS = (128, 256, 512, 512)
"""The classifier's strided blocks at ``model.width`` 1 (x 0.25 in the demo: 32, 64, 128, 128)."""

STAGES: dict[str, Stage] = {}
"""Every model of the recipe, by folder name (filled by [`register`][fashion_gan.modeling.stage.register])."""

KINDS = ("shape", "render", "onestep")
"""The ``--stage`` words in training order: stage 1 first (the render models are chained after it)."""

RENDER_KINDS = ("render",)
"""The kinds whose training length is ``train.render_steps`` when that is not 0. The One-Step baselines keep
``train.steps``: their generator costs what stage 1's does, about three times the render's per step."""

SHAPE_OVERRIDES = ("ema_decay", "class_weight", "classifier_warmup", "lr_decay")
"""The ``train`` fields that stage 1 takes from ``train.shape_<field>`` when that is not None (the render
keeps its EMA, its class weight, its warm-up and its learning-rate decay; stage 1 measured better without the
first three)."""


def all_stages() -> tuple[Stage, ...]:
    """The registered stages by kind ([`KINDS`][fashion_gan.modeling.stage.KINDS] order), each kind in
    registration order."""
    return tuple(sorted(STAGES.values(), key=lambda s: KINDS.index(s.kind)))


def register(cls: type[Stage]) -> type[Stage]:
    """Class decorator: add one instance of ``cls`` to [`STAGES`][fashion_gan.modeling.stage.STAGES].

    Its ``name`` must be new and its ``kind`` one of ``KINDS``.
    """
    if cls.kind not in KINDS:
        raise ValueError(f"stage {cls.name!r}: kind must be one of {KINDS}, got {cls.kind!r}")
    if cls.name in STAGES:
        raise ValueError(f"stage {cls.name!r} is already registered ({STAGES[cls.name]!r})")
    STAGES[cls.name] = cls()
    return cls


def get_stage(name: str) -> Stage:
    """The registered stage called ``name`` (a model folder name such as ``render_plain``)."""
    if name not in STAGES:
        raise ValueError(f"model: expected one of {list(STAGES)}, got {name!r}")
    return STAGES[name]


def stage_for(kind: str, model_cfg) -> Stage:
    """The stage that ``--stage kind`` trains with the ``model`` config ``model_cfg`` (its variant fields)."""
    if kind not in KINDS:
        raise ValueError(f"stage: expected one of {list(KINDS)}, got {kind!r}")
    for stage in all_stages():
        if stage.kind == kind and all(getattr(model_cfg, f) == v for f, v in stage.model_fields.items()):
            return stage
    wanted = {f: getattr(model_cfg, f) for s in STAGES.values() if s.kind == kind for f in s.model_fields}
    raise ValueError(f"stage {kind!r}: no registered model has {wanted}")


def variants(kind: str, field: str) -> tuple:
    """The values of ``model.<field>`` that select a stage of ``kind``, e.g. the ``--render`` choices."""
    return tuple(s.model_fields[field] for s in all_stages() if s.kind == kind and field in s.model_fields)


def evaluation_stages() -> tuple[Stage, ...]:
    """The models ``train --stage all`` trains (the paper's comparison), in order (stage 1 first)."""
    return tuple(s for s in all_stages() if s.evaluated)


def demo_stages() -> tuple[Stage, ...]:
    """The models ``fashion-gan demo`` trains, in order (stage 1 first)."""
    return tuple(s for s in all_stages() if s.in_demo)


def mismatched_rows(t: torch.Tensor, mismatch: torch.Tensor | None) -> torch.Tensor:
    """Another person's sample for every row: ``t[mismatch]`` (a derangement), or ``t`` rolled by one.

    The official code pairs the sentence with a random other training image; a derangement of the batch
    (``condgan.losses.derangement``, drawn per step by the batch sampler) gives every row another person at no
    extra data cost. Without one, rolling the batch by one is a fixed derangement.
    """
    if mismatch is None:
        return torch.roll(t, shifts=1, dims=0)
    return t.index_select(0, mismatch)
