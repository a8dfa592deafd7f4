"""Step-indexed batches: which people each training step sees.

Like the official code, every step draws a fresh batch of distinct random training indices (no epochs). The
draw depends only on (seed, step), never on how many steps ran before in this process, so a resumed run sees
exactly the batches an uninterrupted run would have seen, and with several processes rank r takes slice r of the
same global batch (a distributed sampler that needs no epoch bookkeeping).
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

__all__ = ["step_indices", "StepBatches"]


def step_indices(step: int, *, num_items: int, global_batch: int, seed: int, rank: int = 0, world_size: int = 1):
    """The dataset indices rank ``rank`` trains on at ``step`` (a LongTensor of ``global_batch // world_size``)."""
    if global_batch % world_size:
        raise ValueError(f"global_batch: expected a multiple of world_size={world_size}, got {global_batch}")
    if global_batch > num_items:
        raise ValueError(f"global_batch: expected at most the dataset size {num_items}, got {global_batch}")
    gen = torch.Generator().manual_seed(seed * 1_000_003 + step)
    # randperm is O(N); for large N draw with replacement-free rejection on a small sample instead.
    if num_items <= 65536:
        chosen = torch.randperm(num_items, generator=gen)[:global_batch]
    else:
        chosen = torch.unique(torch.randint(num_items, (global_batch * 2,), generator=gen), sorted=False)
        while chosen.numel() < global_batch:  # pragma: no cover - needs a tiny dataset relative to the batch
            chosen = torch.unique(torch.cat([chosen, torch.randint(num_items, (global_batch,), generator=gen)]))
        chosen = chosen[:global_batch]
    per_rank = global_batch // world_size
    return chosen[rank * per_rank : (rank + 1) * per_rank]


class StepBatches(Dataset):
    """Item ``k`` is the whole collated batch of step ``start_step + k`` (so DataLoader workers build batches)."""

    def __init__(self, dataset, *, start_step: int, num_steps: int, global_batch: int, seed: int, rank=0, world_size=1):
        self.dataset = dataset
        self.start_step = start_step
        self.num_steps = num_steps
        self.kwargs = dict(num_items=len(dataset), global_batch=global_batch, seed=seed, rank=rank, world_size=world_size)

    def __len__(self) -> int:
        return max(0, self.num_steps)

    def __getitem__(self, k: int):
        indices = step_indices(self.start_step + k, **self.kwargs)
        return self.dataset.get_batch(indices.tolist())
