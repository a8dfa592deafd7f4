"""Redress people: "make this person wear what the sentence says".

Stage 1 draws a new segmentation from the person's merged 8x8 spatial constraint and the design code of the
sentence; stage 2 renders it; the two are chained by [`StackedPipeline`][condgan.nets.StackedPipeline]. With
the default ``identity="structural"``, hair and face are the input's own: stage 1 keeps them where the input
has them and the compositional stage 2 takes their pixels from the input, the paper's structural way of
keeping the person (the official code pasted them back afterwards; ``identity="official"`` does that).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from condgan._checks import check_label_range
from condgan.layers import keep_source_regions, one_hot_labels
from condgan.nets import StackedPipeline

from .. import runs
from ..modeling import Stage, all_stages, build_conditions, design_code
from ..modeling.conditions import NUM_LABELS, images_to_uint8
from ..modeling.render import RenderFromLabels
from ..text import official_vocabulary
from .identity import HAIR_AND_FACE, IDENTITY_MODES, check_identity_mode, official_postprocess

__all__ = ["Redresser", "load_model", "redress_models", "HAIR_AND_FACE", "IDENTITY_MODES"]

load_model = runs.load_model  # kept here too: generation's scripts import it from this module


def redress_models() -> dict[str, Stage]:
    """What ``generate --model`` accepts: each render variant's word (``compositional``), each One-Step name.

    Examples:
        >>> list(redress_models())[:2]
        ['compositional', 'plain']
    """
    out = {}
    for stage in all_stages():
        if stage.two_stage:
            out[stage.model_fields["render"]] = stage
        elif stage.kind != "shape":
            out[stage.name] = stage
    return out


def _argmax_labels(logits: torch.Tensor) -> torch.Tensor:
    return logits.argmax(1)


class Redresser:
    """The two trained stages (or a One-Step model) of a run, ready to redress people.

    Args:
        run_dir: the run folder.
        render: the stage-2 model (``compositional``, ``plain``, ``ih1_skip``, ``ih1``) or a One-Step model
            name (``onestep_87`` / ``onestep_84``); see
            [`redress_models`][fashion_gan.inference.redress.redress_models].
        identity: how the person is kept by default: ``"structural"``, ``"none"`` or ``"official"``
            (see [`identity`][fashion_gan.inference.identity]); each call may override it.
        device: where to run.
    """

    def __init__(
        self,
        run_dir: str | Path,
        *,
        render: str = "compositional",
        identity: str = "structural",
        device="cpu",
    ):
        models = redress_models()
        if render not in models:
            raise ValueError(f"render: expected one of {list(models)}, got {render!r}")
        self.identity = check_identity_mode(identity)
        self.run_dir = Path(run_dir)
        self.device = torch.device(device)
        self.text_encoder = runs.load_text_encoder(self.run_dir).to(self.device)
        self.vocabulary = official_vocabulary()
        self.stage, self.render_g, self.cfg = runs.load_model(
            self.run_dir, models[render].name, device=self.device
        )
        self.pipeline: StackedPipeline | None = None
        if self.stage.two_stage:
            _, shape_g, self.cfg = runs.load_model(self.run_dir, "shape", device=self.device)
            # Stage 1's logits -> its argmax label map -> stage 2 (colour code, render, compose).
            self.pipeline = StackedPipeline(
                shape_g, RenderFromLabels(self.stage, self.render_g), _argmax_labels
            ).eval()

    @property
    def two_stage(self) -> bool:
        """Whether a generated segmentation comes first (False for the One-Step baselines)."""
        return self.pipeline is not None

    def encode(self, sentences: Sequence[str]) -> torch.Tensor:
        """Word ids (B, L) of sentences; unknown words are an error that names them."""
        return self.vocabulary.encode_batch(list(sentences)).to(self.device)

    def _conditions(self, people: dict, word_ids: torch.Tensor):
        images_u8 = people["image"].to(self.device)
        size = self.cfg.data.image_size
        if images_u8.ndim != 4 or images_u8.shape[-1] != size or images_u8.shape[-2] != size:
            raise ValueError(
                f"people: expected (B, 3, {size}, {size}) images for this run, got {tuple(images_u8.shape)}"
            )
        if word_ids.shape[0] != images_u8.shape[0]:
            raise ValueError(
                f"word_ids: expected one sentence per person ({images_u8.shape[0]}), got {word_ids.shape[0]}"
            )
        cond = build_conditions(
            images_u8,
            people["labels"].to(self.device),
            constraint_size=self.cfg.model.constraint_size,
            constraint_mode=self.cfg.model.constraint_mode,
        )
        return cond, design_code(self.text_encoder, word_ids.to(self.device), cond.appearance, self.cfg.model)

    @torch.no_grad()
    def generate(
        self, people: dict, word_ids: torch.Tensor, *, seed: int = 0, identity: str | None = None
    ) -> dict:
        """Person i in sentence i: uint8 images (B, 3, H, W) and generated labels (B, H, W) (-1 for One-Step).

        ``people`` holds uint8 ``image`` (B, 3, H, W) and ``labels`` (B, H, W); ``word_ids`` (B, L); ``seed``
        fixes the noise of both stages (independent z per stage, as the official test script draws);
        ``identity`` overrides the redresser's mode for this call.
        """
        mode = check_identity_mode(self.identity if identity is None else identity)
        cond, code = self._conditions(people, word_ids)
        gen = torch.Generator().manual_seed(seed)
        n = cond.images.shape[0]
        z1 = torch.randn(n, self.cfg.model.z_dim, generator=gen).to(self.device)
        z2 = torch.randn(n, self.cfg.model.z_dim, generator=gen).to(self.device)
        if self.pipeline is None:
            image, labels = self.stage.generate(self.render_g, cond, code, z2), None
        else:
            image, labels = self._two_stages(cond, code, z1, z2, structural=mode == "structural")
        if mode == "official":
            image = official_postprocess(image, cond.images, cond.labels, labels)
        if labels is None:
            labels = torch.full_like(cond.labels, -1)
        return {"images": images_to_uint8(image).cpu(), "labels": labels.cpu()}

    @torch.no_grad()
    def render_labels(
        self, people: dict, word_ids: torch.Tensor, labels: torch.Tensor, *, seed: int = 0
    ) -> dict:
        """Stage 2 alone: person i in sentence i, rendered from the label map ``labels[i]`` (no stage 1).

        ``labels`` (B, H, W) integer ids 0..6 at the run's image size, e.g. the person's own ground truth or
        an edited map; ``people`` and ``word_ids`` as in ``generate``, whose stage-2 noise the same ``seed``
        draws. Nothing of the input is kept (identity mode ``none``). Returns uint8 ``images`` (B, 3, H, W)
        and the ``labels`` rendered.

        Raises:
            ValueError: a One-Step model (it has no stage 2), or labels of the wrong shape or outside 0..6.
        """
        if self.pipeline is None:
            raise ValueError(
                f"render_labels: expected a two-stage model, got the One-Step {self.stage.name!r}"
            )
        cond, code = self._conditions(people, word_ids)
        labels = torch.as_tensor(labels)
        if labels.shape != cond.labels.shape or labels.dtype.is_floating_point or labels.dtype == torch.bool:
            raise ValueError(
                f"labels: expected integer label maps {tuple(cond.labels.shape)}, got {labels.dtype} "
                f"{tuple(labels.shape)}"
            )
        check_label_range("labels", labels, NUM_LABELS)
        gen = torch.Generator().manual_seed(seed)
        n = cond.images.shape[0]
        torch.randn(n, self.cfg.model.z_dim, generator=gen)  # stage 1's z in generate: skipped, not used
        z2 = torch.randn(n, self.cfg.model.z_dim, generator=gen).to(self.device)
        one_hot = one_hot_labels(labels.to(self.device).long(), NUM_LABELS)
        rendered, image = self.pipeline.render(z2, code, one_hot, source=cond.images, keep=())
        return {"images": images_to_uint8(image).cpu(), "labels": rendered.cpu()}

    def _two_stages(self, cond, code, z1, z2, *, structural: bool):
        """Stage 1, the structural keep of hair and face (if asked), stage 2: (image, generated labels)."""
        segmentation = self.pipeline.stage1(z1, code, cond.constraint4)
        keep = ()
        if structural:
            segmentation = keep_source_regions(
                segmentation, cond.labels, keep=HAIR_AND_FACE, check_labels=False
            )
            keep = HAIR_AND_FACE if self.stage.composes else ()
        labels, image = self.pipeline.render(z2, code, segmentation, source=cond.images, keep=keep)
        return image, labels

    def redress(
        self, people: dict, sentences: Sequence[str], *, seed: int = 0, identity: str | None = None
    ) -> dict:
        """Every person in every sentence: uint8 images (P, S, 3, H, W) and labels (P, S, H, W)."""
        word_ids = self.encode(sentences)
        p, s = people["image"].shape[0], word_ids.shape[0]
        tiled = {
            "image": people["image"].repeat_interleave(s, 0),
            "labels": people["labels"].repeat_interleave(s, 0),
        }
        out = self.generate(tiled, word_ids.repeat(p, 1), seed=seed, identity=identity)
        return {k: v.reshape(p, s, *v.shape[1:]) for k, v in out.items()}
