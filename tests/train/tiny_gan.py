"""A tiny conditional GAN for the training tests, and the worker the 2-process DDP test runs with torchrun.

Run as a script (``torchrun --standalone --nproc_per_node=2 tiny_gan.py --out DIR``) every rank trains on its
shard of one global batch and rank 0 writes the resulting weights and the rank-averaged losses to ``DIR``.
Imported (the tests load it by path), it provides the models, the data and :func:`train`, which the test
calls in a single process on the whole batch for the reference.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

Z_DIM, C_DIM, IMG = 8, 4, 8


class TinyG(nn.Module):
    """``(z (B, 8), c (B, 4)) -> x (B, 3, 8, 8)`` in [-1, 1]."""

    def __init__(self, batchnorm: bool = False) -> None:
        super().__init__()
        self.fc = nn.Linear(Z_DIM + C_DIM, 8 * 4 * 4)
        self.norm = nn.BatchNorm2d(8) if batchnorm else nn.Identity()
        self.up = nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1)

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.fc(torch.cat([z, c], dim=1)).view(-1, 8, 4, 4)
        return torch.tanh(self.up(F.relu(self.norm(h))))


class TinyD(nn.Module):
    """``(x (B, 3, 8, 8), c (B, 4)) -> logits (B,)``."""

    def __init__(self, batchnorm: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 4, stride=2, padding=1)
        self.norm = nn.BatchNorm2d(8) if batchnorm else nn.Identity()
        self.fc = nn.Linear(8 * 4 * 4 + C_DIM, 1)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.norm(self.conv(x)), 0.2).flatten(1)
        return self.fc(torch.cat([h, c], dim=1)).squeeze(1)


def make_models(seed: int = 0, *, batchnorm: bool = False) -> tuple[TinyG, TinyD]:
    torch.manual_seed(seed)
    return TinyG(batchnorm), TinyD(batchnorm)


def make_data(seed: int = 1, batch: int = 8) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, 3, IMG, IMG, generator=gen) * 2 - 1
    c = torch.randn(batch, C_DIM, generator=gen)
    z = torch.randn(batch, Z_DIM, generator=gen)
    return {"x": x, "c": c, "z": z, "x_other": x.roll(1, 0)}


def step_kwargs(g, d, g_opt, d_opt, data, precision, **overrides) -> dict:
    """Keyword arguments of conditional_gan_step for one batch of :func:`make_data`."""
    x, c = data["x"], data["c"]
    kwargs = dict(
        generator=g,
        discriminator=d,
        g_optimizer=g_opt,
        d_optimizer=d_opt,
        g_inputs=(data["z"], c),
        real=(x, c),
        mismatched=(data["x_other"], c),
        fake_conditions=(c,),
        reconstruction=lambda fake: (fake - x).abs().mean(),
        reconstruction_weight=10.0,
        precision=precision,
    )
    kwargs.update(overrides)
    return kwargs


def train(
    g, d, data, *, steps: int, single_d_call: bool, lr: float = 0.05, reduce=None
) -> list[dict[str, float]]:
    """Run ``steps`` GAN steps with SGD on ``data``; ``reduce`` averages the step outputs over ranks."""
    from condgan.train import conditional_gan_step, make_precision

    g_opt = torch.optim.SGD(g.parameters(), lr=lr)
    d_opt = torch.optim.SGD(d.parameters(), lr=lr)
    precision = make_precision("cpu")
    history = []
    for step in range(steps):
        out = conditional_gan_step(
            **step_kwargs(g, d, g_opt, d_opt, data, precision, single_d_call=single_d_call, step=step)
        )
        if reduce is not None:
            out = {k: reduce(v) for k, v in out.items()}
        history.append(out)
    return history


def main() -> None:
    import safetensors.torch

    from condgan.train import all_reduce_mean, cleanup, init_distributed, unwrap_model, wrap_ddp

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    info = init_distributed("gloo")
    data = make_data()
    shard = data["x"].shape[0] // info.world_size
    mine = {k: v[info.rank * shard : (info.rank + 1) * shard] for k, v in data.items()}
    results = {}
    for single in (True, False):
        g, d = make_models()
        g, d = wrap_ddp(g, info), wrap_ddp(d, info)
        history = train(g, d, mine, steps=args.steps, single_d_call=single, reduce=all_reduce_mean)
        tag = "single" if single else "separate"
        results[tag] = history
        if info.is_main:
            state = {f"g.{k}": v for k, v in unwrap_model(g).state_dict().items()}
            state.update({f"d.{k}": v for k, v in unwrap_model(d).state_dict().items()})
            safetensors.torch.save_file(state, str(Path(args.out) / f"{tag}.safetensors"))
    if info.is_main:
        (Path(args.out) / "losses.json").write_text(json.dumps({"world_size": info.world_size, **results}))
    cleanup()


if __name__ == "__main__":
    main()
