"""Redress people: "make this person wear what the sentence says".

Stage 1 draws a new segmentation from the person's merged 8x8 spatial constraint and the design code of the
sentence; stage 2 renders it; the two are chained by [`StackedPipeline`][condgan.nets.StackedPipeline]. With
``keep`` (the compositional model) the chosen regions, by default hair and face, take the input person's own
pixels through the compositional mapping layer, which is the paper's structural way of keeping identity (the
official code pasted them back afterwards).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from condgan.nets import StackedPipeline
from condgan.train import latest_checkpoint, list_checkpoints, load_checkpoint

from .. import runs
from ..config import RunConfig
from ..modeling import Stage, all_stages, build_conditions, design_code, get_stage, stage_for
from ..modeling.conditions import images_to_uint8
from ..modeling.render import RenderFromLabels
from ..runs import read_checkpoint_meta
from ..text import official_vocabulary

__all__ = ["Redresser", "load_model", "redress_models", "HAIR_AND_FACE"]

HAIR_AND_FACE = (1, 2)


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


def _stage_of(meta: dict, cfg: RunConfig) -> Stage:
    extra = meta.get("extra_state", {})
    if isinstance(extra, dict) and extra.get("model") in {s.name for s in all_stages()}:
        return get_stage(extra["model"])
    return stage_for(extra.get("stage") if isinstance(extra, dict) else None, cfg.model)


def load_model(
    run_dir: str | Path, model_name: str, *, device="cpu"
) -> tuple[Stage, torch.nn.Module, RunConfig]:
    """Load one trained model's generator (its EMA copy when the run kept one) in eval mode."""
    model_dir = Path(run_dir) / model_name
    ckpt = latest_checkpoint(model_dir / "checkpoints")
    if ckpt is None:
        folders = list_checkpoints(model_dir / "checkpoints")
        if not folders:
            raise FileNotFoundError(
                f"no checkpoint for model '{model_name}' under {model_dir / 'checkpoints'}; "
                f"train it first (fashion-gan train --out {run_dir} --stage ...)"
            )
        # Every checkpoint is damaged somewhere: load the newest anyway, so that a damaged generator file is
        # an error naming it (the hashes are checked) rather than "train it first".
        ckpt = folders[-1]
    meta = read_checkpoint_meta(ckpt)
    cfg = RunConfig.from_dict(meta.get("config", {}))
    stage = _stage_of(meta, cfg)
    generator, _ = stage.build(cfg)
    names = set(meta.get("modules", [])) if isinstance(meta.get("modules"), list) else set()
    key = "generator_ema" if "generator_ema" in names else "generator"
    if key == "generator_ema":
        from condgan.train import make_ema

        ema = make_ema(generator, cfg.train.ema_decay or 0.999)
        load_checkpoint(ckpt, modules={key: ema}, restore_rng=False)
        generator = ema.module
    else:
        load_checkpoint(ckpt, modules={key: generator}, restore_rng=False)
    return stage, generator.to(device).eval(), cfg


def _argmax_labels(logits: torch.Tensor) -> torch.Tensor:
    return logits.argmax(1)


class Redresser:
    """The two trained stages (or a One-Step model) of a run, ready to redress people.

    Args:
        run_dir: the run folder.
        render: the stage-2 model (``compositional``, ``plain``, ``ih1_skip``, ``ih1``) or a One-Step model
            name (``onestep_87`` / ``onestep_84``).
        device: where to run.
    """

    def __init__(self, run_dir: str | Path, *, render: str = "compositional", device="cpu"):
        models = redress_models()
        if render not in models:
            raise ValueError(f"render: expected one of {list(models)}, got {render!r}")
        self.run_dir = Path(run_dir)
        self.device = torch.device(device)
        self.text_encoder = runs.load_text_encoder(self.run_dir).to(self.device)
        self.vocabulary = official_vocabulary()
        self.stage, self.render_g, self.cfg = load_model(
            self.run_dir, models[render].name, device=self.device
        )
        self.pipeline: StackedPipeline | None = None
        if self.stage.two_stage:
            _, shape_g, self.cfg = load_model(self.run_dir, "shape", device=self.device)
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

    @torch.no_grad()
    def generate(
        self, people: dict, word_ids: torch.Tensor, *, seed: int = 0, keep: tuple[int, ...] = ()
    ) -> dict:
        """Person i in sentence i: uint8 images (B, 3, H, W) and generated labels (B, H, W) (-1 for One-Step).

        ``people`` holds uint8 ``image`` (B, 3, H, W) and ``labels`` (B, H, W); ``word_ids`` (B, L); ``seed``
        fixes the noise of both stages (independent z per stage, as the official test script draws).
        """
        images_u8 = people["image"].to(self.device)
        labels_u8 = people["labels"].to(self.device)
        word_ids = word_ids.to(self.device)
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
            labels_u8,
            constraint_size=self.cfg.model.constraint_size,
            constraint_mode=self.cfg.model.constraint_mode,
        )
        code = design_code(self.text_encoder, word_ids, cond.appearance, self.cfg.model)
        gen = torch.Generator().manual_seed(seed)
        n = images_u8.shape[0]
        z1 = torch.randn(n, self.cfg.model.z_dim, generator=gen).to(self.device)
        z2 = torch.randn(n, self.cfg.model.z_dim, generator=gen).to(self.device)
        if self.pipeline is None:
            image = self.stage.generate(self.render_g, cond, code, z2)
            labels = torch.full_like(cond.labels, -1)
        else:
            out = self.pipeline(
                z1, code, cond.constraint4, z2, stage2_kwargs={"source": cond.images, "keep": tuple(keep)}
            )
            image, labels = out.image, out.condition
        return {"images": images_to_uint8(image).cpu(), "labels": labels.cpu()}

    def redress(
        self, people: dict, sentences: Sequence[str], *, seed: int = 0, keep: tuple[int, ...] = ()
    ) -> dict:
        """Every person in every sentence: uint8 images (P, S, 3, H, W) and labels (P, S, H, W)."""
        word_ids = self.encode(sentences)
        p, s = people["image"].shape[0], word_ids.shape[0]
        tiled = {
            "image": people["image"].repeat_interleave(s, 0),
            "labels": people["labels"].repeat_interleave(s, 0),
        }
        out = self.generate(tiled, word_ids.repeat(p, 1), seed=seed, keep=keep)
        return {k: v.reshape(p, s, *v.shape[1:]) for k, v in out.items()}
