"""Sample sheets written while a model trains: fixed test people in their own and their partner's sentence."""

from __future__ import annotations

from pathlib import Path

import torch
from einops import rearrange

from ..modeling import Stage, build_conditions, design_code
from ..modeling.conditions import images_to_uint8
from ..visualize import captioned_grid, colorize_labels, save_png

__all__ = ["save_stage_samples"]


@torch.no_grad()
def save_stage_samples(
    stage: Stage, generator, text_encoder, fixed: dict, cfg, path: Path, *, device
) -> Path:
    """A sample sheet for one model: each row a test person, columns input / condition / outputs.

    Columns: the person, their segmentation, then the model's output for their own sentence and for their
    redress partner's sentence (segmentations for stage 1, images otherwise). The column titles name the
    sentences of row 1. ``fixed`` is [`fixed_test_batch`][fashion_gan.runs.fixed_test_batch].
    """
    was_training = generator.training
    generator.eval()
    try:
        cond = build_conditions(
            fixed["image"].to(device),
            fixed["labels"].to(device),
            constraint_size=cfg.model.constraint_size,
            constraint_mode=cfg.model.constraint_mode,
        )
        gen = torch.Generator(device="cpu").manual_seed(1234)
        z = torch.randn(cond.images.shape[0], cfg.model.z_dim, generator=gen).to(device)
        outs = []
        for key in ("word_ids", "partner_word_ids"):
            code = design_code(text_encoder, fixed[key].to(device), cond.appearance, cfg.model)
            out = stage.generate(generator, cond, code, z)
            outs.append(
                colorize_labels(out.argmax(1)) if stage.kind == "shape" else images_to_uint8(out).cpu()
            )
        columns = [fixed["image"].cpu(), colorize_labels(fixed["labels"]), *outs]
        cells = rearrange(torch.stack(columns, 1), "b k c h w -> (b k) c h w")
        titles = [
            "person",
            "segmentation",
            f"own: {fixed['sentence'][0]}",
            f"redress: {fixed['partner_sentence'][0]}",
        ]
        sheet = captioned_grid(
            cells, rows=len(columns[0]), column_titles=titles, scale=2 if cells.shape[-1] <= 64 else 1
        )
        return save_png(sheet, path)
    finally:
        generator.train(was_training)
