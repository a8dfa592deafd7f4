"""Step-indexed batches: which people each training step sees, the noise they get, and who they mismatch.

Like the official code, every step draws a fresh batch of distinct random training indices (no epochs). The
draw depends only on (seed, step), never on how many steps ran before in this process, so a resumed run sees
exactly the batches an uninterrupted run would have seen, and with several processes rank r takes slice r of
the same global batch (a distributed sampler that needs no epoch bookkeeping). The generator noise ``z`` is
drawn the same way, for the whole global batch, so it too is independent of resumes and of the number of
processes. The mismatched pairs of the matching-aware loss (each row judged with another row's image) are a
derangement of the rank's batch drawn the same way.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from condgan._checks import check_int
from condgan.losses import derangement

__all__ = ["step_generator", "step_indices", "step_noise", "step_mismatch", "StepBatches", "step_loader"]

_INDEX_STREAM = 0x1D  # distinct SeedSequence streams for the indices, the noise and the mismatch of a step
_NOISE_STREAM = 0x2A
_MISMATCH_STREAM = 0x3B
MAPS_STREAM = 0x4C
"""The stream of ``train.render_generated_maps``' rows and noise (fashion_gan.training.generated_maps)."""


def _check_split(global_batch: int, rank: int, world_size: int) -> None:
    check_int("global_batch", global_batch, low=1)
    check_int("world_size", world_size, low=1)
    check_int("rank", rank, low=0)
    if rank >= world_size:
        raise ValueError(
            f"rank: expected an int in [0, {world_size - 1}] (world_size={world_size}), got {rank}"
        )
    if global_batch % world_size:
        raise ValueError(f"global_batch: expected a multiple of world_size={world_size}, got {global_batch}")


def step_generator(seed: int, step: int, stream: int) -> torch.Generator:
    """A CPU ``torch.Generator`` that is a function of ``(seed, step, stream)`` alone, for a step's draws.

    SeedSequence mixes the three without the collisions of ``seed * K + step``; each kind of draw of a step
    (indices, noise, mismatched pairs, drawn maps) has its own ``stream``.

    Examples:
        >>> a, b = step_generator(0, 5, 1), step_generator(0, 5, 1)
        >>> torch.equal(torch.rand(3, generator=a), torch.rand(3, generator=b))
        True
    """
    state = np.random.SeedSequence([seed, step, stream]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & 0x7FFF_FFFF_FFFF_FFFF)


def step_indices(
    step: int, *, num_items: int, global_batch: int, seed: int, rank: int = 0, world_size: int = 1
) -> torch.Tensor:
    """The dataset indices rank ``rank`` trains on at ``step``.

    The global batch of step ``s`` is ``global_batch`` distinct indices drawn uniformly from
    ``range(num_items)`` by a generator seeded with ``(seed, s)`` only; rank ``r`` takes slice
    ``[r * b, (r + 1) * b)`` with ``b = global_batch // world_size``.

    Args:
        step: The training step (0-based).
        num_items: Size of the dataset.
        global_batch: Samples per step over all processes (a multiple of ``world_size``, at most
            ``num_items``).
        seed: The run's seed.
        rank: This process's rank.
        world_size: Number of processes.

    Returns:
        A ``(global_batch // world_size,)`` int64 tensor.

    Examples:
        >>> both = step_indices(3, num_items=100, global_batch=4, seed=0)
        >>> kw = dict(num_items=100, global_batch=4, seed=0, world_size=2)
        >>> halves = [step_indices(3, rank=r, **kw) for r in (0, 1)]
        >>> torch.equal(torch.cat(halves), both), len(set(both.tolist()))
        (True, 4)
    """
    check_int("step", step, low=0)
    check_int("num_items", num_items, low=1)
    check_int("seed", seed, low=0)
    _check_split(global_batch, rank, world_size)
    if global_batch > num_items:
        raise ValueError(f"global_batch: expected at most the dataset size {num_items}, got {global_batch}")
    gen = step_generator(seed, step, _INDEX_STREAM)
    if num_items <= 65536:
        chosen = torch.randperm(num_items, generator=gen)[:global_batch]
    else:
        # randperm is O(N): draw with replacement and keep the first occurrences in draw order (an unbiased
        # sample without replacement; sorting or torch.unique would favour small indices).
        picked: dict[int, None] = {}
        while len(picked) < global_batch:
            for i in torch.randint(num_items, (2 * global_batch,), generator=gen).tolist():
                picked.setdefault(i)
        chosen = torch.tensor(list(picked)[:global_batch], dtype=torch.int64)
    per_rank = global_batch // world_size
    return chosen[rank * per_rank : (rank + 1) * per_rank]


def step_noise(
    step: int, *, dim: int, global_batch: int, seed: int, rank: int = 0, world_size: int = 1
) -> torch.Tensor:
    """The generator noise ``z ~ N(0, I)`` of rank ``rank`` at ``step``: slice ``rank`` of the global batch's.

    Args:
        step: The training step (0-based).
        dim: Noise dimension (FashionGAN: 80).
        global_batch: Samples per step over all processes.
        seed: The run's seed.
        rank: This process's rank.
        world_size: Number of processes.

    Returns:
        A float32 ``(global_batch // world_size, dim)`` tensor on the CPU.

    Examples:
        >>> z = step_noise(5, dim=3, global_batch=4, seed=1)
        >>> torch.equal(step_noise(5, dim=3, global_batch=4, seed=1, rank=1, world_size=2), z[2:])
        True
    """
    check_int("step", step, low=0)
    check_int("dim", dim, low=1)
    check_int("seed", seed, low=0)
    _check_split(global_batch, rank, world_size)
    z = torch.randn(global_batch, dim, generator=step_generator(seed, step, _NOISE_STREAM))
    per_rank = global_batch // world_size
    return z[rank * per_rank : (rank + 1) * per_rank]


def step_mismatch(step: int, *, batch: int, seed: int, rank: int = 0) -> torch.Tensor:
    """Who each row of rank ``rank``'s batch at ``step`` is mismatched with: a derangement of its rows.

    Args:
        step: The training step (0-based).
        batch: The rank's batch size (at least 2).
        seed: The run's seed.
        rank: This process's rank (each rank pairs within its own slice).

    Returns:
        A ``(batch,)`` int64 tensor ``p`` with ``p[i] != i``.

    Examples:
        >>> p = step_mismatch(3, batch=4, seed=0)
        >>> sorted(p.tolist()), bool((p != torch.arange(4)).all())
        ([0, 1, 2, 3], True)
    """
    check_int("step", step, low=0)
    check_int("batch", batch, low=2)
    check_int("seed", seed, low=0)
    check_int("rank", rank, low=0)
    return derangement(batch, generator=step_generator(seed, step, _MISMATCH_STREAM + 0x100 * rank))


class StepBatches(Dataset):
    """Item ``k`` is the collated batch of step ``start_step + k`` (DataLoader workers build whole batches).

    Each item is ``dataset.get_batch(step_indices(...))`` with the step's noise added under ``"noise"`` when
    ``noise_dim`` is given, and the step's mismatched pairs
    ([`step_mismatch`][fashion_gan.training.sampling.step_mismatch]) under ``"mismatch"`` when the rank's
    batch has at least two rows.

    Args:
        dataset: Anything with ``__len__`` and ``get_batch(list_of_indices) -> dict``.
        start_step: The first step (the resumed step, or 0).
        num_steps: How many steps to serve.
        global_batch: Samples per step over all processes.
        seed: The run's seed.
        rank: This process's rank.
        world_size: Number of processes.
        noise_dim: Add ``"noise"``: [`step_noise`][fashion_gan.training.sampling.step_noise] of this dimension
            (``None``: no noise).

    Examples:
        >>> class Tiny:
        ...     def __len__(self): return 10
        ...     def get_batch(self, indices): return {"index": torch.tensor(indices)}
        >>> batches = StepBatches(Tiny(), start_step=2, num_steps=3, global_batch=4, seed=0, noise_dim=2)
        >>> len(batches), batches[0]["index"].shape, batches[0]["noise"].shape
        (3, torch.Size([4]), torch.Size([4, 2]))
    """

    def __init__(
        self,
        dataset,
        *,
        start_step: int,
        num_steps: int,
        global_batch: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        noise_dim: int | None = None,
    ):
        if not (hasattr(dataset, "__len__") and callable(getattr(dataset, "get_batch", None))):
            raise TypeError(
                f"dataset: expected a dataset with get_batch(indices), got {type(dataset).__name__}"
            )
        self.dataset = dataset
        self.start_step = check_int("start_step", start_step, low=0)
        self.num_steps = check_int("num_steps", num_steps, low=0)
        check_int("seed", seed, low=0)
        _check_split(global_batch, rank, world_size)
        if global_batch > len(dataset):
            raise ValueError(
                f"global_batch: expected at most the dataset size {len(dataset)}, got {global_batch}"
            )
        if noise_dim is not None:
            check_int("noise_dim", noise_dim, low=1)
        self.noise_dim = noise_dim
        self.split = dict(global_batch=global_batch, seed=seed, rank=rank, world_size=world_size)

    def __len__(self) -> int:
        return self.num_steps

    def __getitem__(self, k: int) -> dict:
        check_int("k", k)
        if not 0 <= k < self.num_steps:
            raise IndexError(f"k: expected an int in [0, {self.num_steps - 1}], got {k}")
        step = self.start_step + k
        batch = self.dataset.get_batch(step_indices(step, num_items=len(self.dataset), **self.split).tolist())
        if self.noise_dim is not None:
            batch["noise"] = step_noise(step, dim=self.noise_dim, **self.split)
        per_rank = self.split["global_batch"] // self.split["world_size"]
        if per_rank >= 2:
            batch["mismatch"] = step_mismatch(
                step, batch=per_rank, seed=self.split["seed"], rank=self.split["rank"]
            )
        return batch


def step_loader(batches: StepBatches, *, workers: int, device: torch.device) -> DataLoader:
    """A ``DataLoader`` over whole step batches, built by ``workers`` processes (0: in this process).

    It has its own generator: iterating must not draw from the global RNG, or a resumed run would be one draw
    ahead of an uninterrupted one (dropout noise would differ). The workers ignore stop signals: the main
    process handles them.
    """
    from .stopping import ignore_stop_signals

    return DataLoader(
        batches,
        batch_size=None,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        prefetch_factor=4 if workers > 0 else None,
        persistent_workers=False,
        worker_init_fn=ignore_stop_signals if workers > 0 else None,
        generator=torch.Generator(),
    )
