"""Redress people: "make this person wear what the sentence says".

Stage 1 draws a new segmentation from the person's merged 8x8 spatial constraint and the design code of the
sentence; stage 2 renders it. With ``keep`` (the compositional model) the chosen regions, by default hair and
face, take the input person's own pixels through the compositional mapping layer, which is the paper's
structural way of keeping identity (the official code pasted them back afterwards).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from condgan.train import latest_checkpoint, list_checkpoints, load_checkpoint

from . import runs
from .conditions import NUM_LABELS, build_conditions, images_to_uint8
from .config import RunConfig
from .models import StageModels, build_stage, design_code, render_from_labels
from .text import official_vocabulary

__all__ = ["Redresser", "load_model", "read_person_files", "HAIR_AND_FACE", "ONE_STEP_MODELS"]

HAIR_AND_FACE = (1, 2)
ONE_STEP_MODELS = ("onestep_87", "onestep_84")


def load_model(
    run_dir: str | Path, model_name: str, *, device="cpu"
) -> tuple[StageModels, torch.nn.Module, RunConfig]:
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
    meta = runs.read_checkpoint_meta(ckpt)
    cfg = RunConfig.from_dict(meta.get("config", {}))
    stage = meta.get("extra_state", {}).get("stage")
    models = build_stage(cfg, stage)
    generator = models.generator
    names = set(meta.get("modules", [])) if isinstance(meta.get("modules"), list) else set()
    key = "generator_ema" if "generator_ema" in names else "generator"
    if key == "generator_ema":
        from condgan.train import make_ema

        ema = make_ema(generator, cfg.train.ema_decay or 0.999)
        load_checkpoint(ckpt, modules={key: ema}, restore_rng=False)
        generator = ema.module
    else:
        load_checkpoint(ckpt, modules={key: generator}, restore_rng=False)
    return models, generator.to(device).eval(), cfg


def _read_png(path: Path, mode: str) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    try:
        with Image.open(path) as im:
            if mode == "L" and im.mode == "P":  # a palette label map: the pixel values are the indices
                return np.asarray(im)
            return np.asarray(im.convert(mode))
    except OSError as err:
        raise ValueError(f"{path}: not a readable image ({err})") from None


def read_person_files(image_path: str | Path, labels_path: str | Path, *, image_size: int) -> dict:
    """A person from an RGB image file and a label-map PNG whose pixel values are the ids 0..6.

    The label map is a greyscale PNG, or a palette PNG whose indices are the ids. Returns uint8 ``image``
    (1, 3, H, W) and ``labels`` (1, H, W); sizes other than ``image_size`` and ids above 6 are errors naming
    the file.
    """
    image = _read_png(Path(image_path), "RGB")
    labels = _read_png(Path(labels_path), "L")
    if image.shape[:2] != (image_size, image_size):
        raise ValueError(
            f"{image_path}: expected a {image_size}x{image_size} image for this run, got "
            f"{image.shape[1]}x{image.shape[0]}"
        )
    if labels.shape != (image_size, image_size):
        raise ValueError(
            f"{labels_path}: expected a {image_size}x{image_size} label map, got "
            f"{labels.shape[1]}x{labels.shape[0]}"
        )
    if labels.max() >= NUM_LABELS:
        raise ValueError(
            f"{labels_path}: expected label ids 0..{NUM_LABELS - 1}, got a pixel value {labels.max()}"
        )
    return {
        "image": torch.from_numpy(image.copy()).permute(2, 0, 1).unsqueeze(0),
        "labels": torch.from_numpy(labels.copy()).unsqueeze(0),
    }


class Redresser:
    """The two trained stages (or a One-Step model) of a run, ready to redress people.

    Args:
        run_dir: the run folder.
        render: the stage-2 model (``compositional``, ``plain``, ``ih1_skip``, ``ih1``) or a One-Step model
            name (``onestep_87`` / ``onestep_84``).
        device: where to run.
    """

    def __init__(self, run_dir: str | Path, *, render: str = "compositional", device="cpu"):
        self.run_dir = Path(run_dir)
        self.device = torch.device(device)
        self.text_encoder = runs.load_text_encoder(self.run_dir).to(self.device)
        self.vocabulary = official_vocabulary()
        if render in ONE_STEP_MODELS:
            self.shape = None
            self.render, self.render_g, self.cfg = load_model(self.run_dir, render, device=self.device)
        else:
            self.shape, self.shape_g, self.cfg = load_model(self.run_dir, "shape", device=self.device)
            self.render, self.render_g, _ = load_model(self.run_dir, f"render_{render}", device=self.device)

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
        if self.shape is None:
            c = cond.constraint7 if self.render.onestep_constraint == 7 else cond.constraint4
            image = self.render_g(z2, code, c)
            labels = torch.full_like(cond.labels, -1)
        else:
            labels = self.shape_g(z1, code, cond.constraint4).argmax(1)
            image = render_from_labels(
                self.render, self.render_g, labels, code, z2, source=cond.images, keep=keep
            )
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
