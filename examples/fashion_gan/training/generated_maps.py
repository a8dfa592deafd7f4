"""The render trained on stage 1's own label maps for part of each batch (``train.render_generated_maps``).

The render learns from true label maps, but at generation it paints the maps stage 1 draws, which are
blurrier at the edges and often draw a sleeve at an uncertain length. Rendering the true map of a test person
keeps the sleeve 0.965 of the time, rendering stage 1's map of the same person and sentence 0.887
(``benchmarks/where_control_is_lost.py``, the demo of 2026-12-07). So for a fraction of each batch the render
is given stage 1's map of the person's own sentence and constraint (frozen stage 1, argmax, as at generation):

- the generator renders that map; D judges the fake with that map and the person's code;
- D's real and mismatched pairs keep the true maps (a real picture is never paired with a drawn map);
- the L1 to the real picture holds only where the drawn map agrees with the true one (elsewhere the two maps
  disagree on what the pixel is, and the picture cannot be the target).

The rows, and stage 1's noise, are a function of ``(train.seed, step, rank)``, so a resumed run draws the same
maps as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch import nn

from condgan._checks import check_number
from condgan.layers import color_code_segmentation, one_hot_labels

from .. import runs
from ..config import RunConfig
from ..modeling import NUM_LABELS, Conditions
from .sampling import MAPS_STREAM, step_generator

__all__ = ["GeneratedMaps", "load_stage_one"]


def load_stage_one(run_dir: str | Path, cfg: RunConfig, *, device) -> nn.Module:
    """The run's trained stage 1 generator (its EMA copy when kept), frozen and in eval mode, on ``device``.

    Raises:
        FileNotFoundError: the run has no stage 1 checkpoint (the message says how to train it or turn
            ``train.render_generated_maps`` off).
        ValueError: stage 1 was trained with another image size, code, noise or constraint than ``cfg``.
    """
    fraction = cfg.train.render_generated_maps
    off = "or set train.render_generated_maps=0"
    try:
        # Building the network draws its initial weights: keep the global RNG as it was, or a resumed run
        # (whose RNG state was just restored) would draw other noise than an uninterrupted one.
        with torch.random.fork_rng(devices=[]):
            _, generator, shape_cfg = runs.load_model(run_dir, "shape", device=device)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"train.render_generated_maps={fraction} needs the run's stage 1, and {Path(run_dir) / 'shape'} "
            f"has no checkpoint: train it first (fashion-gan train --out {run_dir} --stage shape), {off}"
        ) from None
    shared = (
        ("data", "image_size"),
        ("text", "hidden_size"),
        ("model", "wearer"),
        ("model", "z_dim"),
        ("model", "constraint_size"),
        ("model", "constraint_mode"),
    )
    for section, name in shared:
        ours, theirs = getattr(getattr(cfg, section), name), getattr(getattr(shape_cfg, section), name)
        if ours != theirs:
            raise ValueError(
                f"train.render_generated_maps: stage 1 in {run_dir} has {section}.{name}={theirs!r}, "
                f"this run {ours!r}; train stage 1 with this configuration, {off}"
            )
    for p in generator.parameters():
        p.requires_grad_(False)
    return generator


class GeneratedMaps:
    """Swap stage 1's maps in for the true ones in ``fraction`` of a batch's rows.

    Args:
        stage_one: stage 1's generator ``(z, code, constraint4) -> (B, 7, H, W)`` logits (frozen).
        fraction: the share of each batch's rows, in ``[0, 1]``; ``round(fraction * B)`` rows per step.
        z_dim: stage 1's noise size.
        seed: the run's ``train.seed``.
        rank: the process's rank (each rank draws for its own rows).

    Calling it with ``(cond, code, step)`` returns ``(drawn, agree)``: ``cond`` with ``labels``, ``one_hot``
    and ``seg_code`` of the chosen rows replaced by stage 1's argmax map, and ``agree`` ``(B, H, W)`` float,
    1 where the returned map equals the true one (every pixel of an unchosen row), else 0.

    Examples:
        >>> import torch
        >>> from fashion_gan.modeling import build_conditions
        >>> class Fixed(torch.nn.Module):  # a stage 1 that always draws label 3 everywhere
        ...     def forward(self, z, code, constraint):
        ...         threes = torch.full((z.shape[0], 4, 4), 3)
        ...         return torch.nn.functional.one_hot(threes, 7).permute(0, 3, 1, 2).float()
        >>> zeros = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)  # two people, all background
        >>> cond = build_conditions(zeros, zeros[:, 0])
        >>> maps = GeneratedMaps(Fixed(), fraction=0.5, z_dim=8, seed=0)
        >>> drawn, agree = maps(cond, torch.zeros(2, 5), step=1)
        >>> sorted(drawn.labels.flatten(1).max(1).values.tolist()), agree.sum().item()
        ([0, 3], 16.0)
    """

    def __init__(self, stage_one: nn.Module, *, fraction: float, z_dim: int, seed: int, rank: int = 0):
        check_number("fraction", fraction, low=0.0, high=1.0, open_high=False)
        self.stage_one = stage_one
        self.fraction = float(fraction)
        self.z_dim = int(z_dim)
        self.seed = int(seed)
        self.rank = int(rank)

    def rows_and_noise(self, batch: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The chosen rows (sorted indices) and stage 1's noise ``(len(rows), z_dim)`` of ``step``."""
        gen = step_generator(self.seed, int(step), MAPS_STREAM + 0x100 * self.rank)
        count = round(self.fraction * batch)
        rows = torch.randperm(batch, generator=gen)[:count].sort().values
        return rows, torch.randn(count, self.z_dim, generator=gen)

    @torch.no_grad()
    def __call__(self, cond: Conditions, code: torch.Tensor, step: int) -> tuple[Conditions, torch.Tensor]:
        labels = cond.labels
        rows, z = self.rows_and_noise(labels.shape[0], step)
        agree = torch.ones(labels.shape, dtype=torch.float32, device=labels.device)
        if len(rows) == 0:
            return cond, agree
        rows = rows.to(labels.device)
        logits = self.stage_one(z.to(code.device), code[rows], cond.constraint4[rows])
        drawn = labels.clone()
        drawn[rows] = logits.argmax(1)
        agree[rows] = (drawn[rows] == labels[rows]).float()
        out = dataclasses.replace(
            cond,
            labels=drawn,
            one_hot=one_hot_labels(drawn, NUM_LABELS),
            seg_code=color_code_segmentation(drawn),
        )
        return out, agree
