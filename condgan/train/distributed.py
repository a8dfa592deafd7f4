"""torchrun-launched DistributedDataParallel with the same command line on 1 or N processes.

``torchrun --nproc_per_node=N train.py ...`` sets ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``
and ``MASTER_PORT``; [`init_distributed`][condgan.train.distributed.init_distributed] reads them (gloo on CPU,
NCCL on CUDA) and falls back to a single process when they are absent, so ``python train.py ...`` runs the
very same code. Every other helper here is a no-op in a single process.

Notes:
    - Each rank should see ``global_batch / world_size`` samples; losses are batch means, so DDP's gradient
      average equals the gradient of the global batch mean (exactly, up to float rounding), as long as the
      model has no batch-coupled layers. BatchNorm normalises with per-rank statistics; ``nn.SyncBatchNorm``
      fixes that but is GPU-only ([`wrap_ddp`][condgan.train.distributed.wrap_ddp] ``sync_batchnorm=True``).
    - Seed each rank differently ([`seed_everything`][condgan.train.distributed.seed_everything] with
      ``rank``) so ranks draw different noise.
"""

from __future__ import annotations

import atexit
import ctypes
import datetime
import inspect
import os
import random
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

__all__ = [
    "DistInfo",
    "init_distributed",
    "seed_everything",
    "wrap_ddp",
    "unwrap_model",
    "all_reduce_mean",
    "barrier",
    "cleanup",
    "is_main_process",
    "get_rank",
    "get_world_size",
]


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in the job.

    Attributes:
        rank: Global rank in ``[0, world_size)``.
        local_rank: Rank on this machine (selects the GPU).
        world_size: Number of processes.
        device: The device this process computes on (``cuda:<local_rank>`` or ``cpu``).
        is_main: ``rank == 0``: the process that logs and writes checkpoints.
    """

    rank: int
    local_rank: int
    world_size: int
    device: torch.device
    is_main: bool

    @property
    def distributed(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1


def _env_int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"environment variable {name}: expected an integer, got {raw!r}") from None


def init_distributed(
    backend: str | None = None, *, device: str | torch.device | None = None, timeout_s: float = 600.0
) -> DistInfo:
    """Initialise the process group from torchrun's environment, or describe a single process.

    Args:
        backend: ``"gloo"``, ``"nccl"`` or ``None`` (NCCL when CUDA is available, else gloo).
        device: Override the device (default ``cuda:<LOCAL_RANK>`` when CUDA is available, else ``cpu``).
        timeout_s: Collective timeout in seconds.

    Returns:
        [`DistInfo`][condgan.train.distributed.DistInfo]. With ``WORLD_SIZE`` unset or 1 no process group is
        created.

    Examples:
        >>> info = init_distributed()  # no torchrun variables here: a single process
        >>> info.rank, info.world_size, info.is_main
        (0, 1, True)
    """
    if backend is not None and backend not in ("gloo", "nccl", "mpi", "ucc"):
        raise ValueError(f"backend: expected 'gloo', 'nccl', 'mpi', 'ucc' or None, got {backend!r}")
    if device is not None and not isinstance(device, (str, torch.device)):
        raise TypeError(f"device: expected a str, torch.device or None, got {type(device).__name__}")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s <= 0:
        raise ValueError(f"timeout_s: expected a positive number of seconds, got {timeout_s!r}")
    world_size = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", rank)
    assert world_size is not None and rank is not None and local_rank is not None
    if world_size < 1:
        raise ValueError(f"environment variable WORLD_SIZE: expected >= 1, got {world_size}")
    if not 0 <= rank < world_size:
        raise ValueError(f"environment variable RANK: expected in [0, {world_size}), got {rank}")
    cuda = torch.cuda.is_available()
    if device is None:
        dev = torch.device(f"cuda:{local_rank % max(torch.cuda.device_count(), 1)}" if cuda else "cpu")
    else:
        dev = torch.device(device)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if world_size > 1 and not dist.is_initialized():
        for var in ("MASTER_ADDR", "MASTER_PORT"):
            if not os.environ.get(var):
                raise ValueError(f"environment variable {var}: expected to be set by torchrun, got nothing")
        chosen = backend or ("nccl" if dev.type == "cuda" else "gloo")
        dist.init_process_group(
            backend=chosen,
            rank=rank,
            world_size=world_size,
            timeout=datetime.timedelta(seconds=float(timeout_s)),
            device_id=dev if chosen == "nccl" else None,
        )
    if dist.is_initialized():
        rank, world_size = dist.get_rank(), dist.get_world_size()
    return DistInfo(rank=rank, local_rank=local_rank, world_size=world_size, device=dev, is_main=rank == 0)


def seed_everything(seed: int, rank: int = 0) -> int:
    """Seed Python's ``random``, NumPy and torch (CPU and all CUDA devices) with a per-rank seed.

    The per-rank seed is drawn from ``numpy.random.SeedSequence([seed, rank])``, so ranks get independent
    streams and no two (seed, rank) pairs collide the way ``seed + rank`` does.

    Args:
        seed: The run's seed, an int >= 0.
        rank: This process's rank.

    Returns:
        The derived 32-bit seed that was used.

    Examples:
        >>> s = seed_everything(0, rank=1)
        >>> a = torch.rand(2)
        >>> _ = seed_everything(0, rank=1)
        >>> torch.equal(a, torch.rand(2)), s == seed_everything(0, rank=0)
        (True, False)
    """
    for name, value in (("seed", seed), ("rank", rank)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name}: expected an int >= 0, got {type(value).__name__} {value!r}")
        if value < 0:
            raise ValueError(f"{name}: expected an int >= 0, got {value}")
    derived = int(np.random.SeedSequence([seed, rank]).generate_state(1, dtype=np.uint32)[0])
    random.seed(derived)
    np.random.seed(derived)
    torch.manual_seed(derived)  # also seeds every CUDA device
    return derived


def unwrap_model(module: nn.Module) -> nn.Module:
    """Return the model inside DistributedDataParallel / DataParallel / ``torch.compile`` wrappers.

    Examples:
        >>> net = nn.Linear(2, 2)
        >>> unwrap_model(net) is net
        True
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected an nn.Module, got {type(module).__name__}")
    while True:
        if isinstance(module, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
            module = module.module
        elif isinstance(getattr(module, "_orig_mod", None), nn.Module):
            module = module._orig_mod
        else:
            return module


def wrap_ddp(
    module: nn.Module,
    info: DistInfo,
    *,
    sync_batchnorm: bool = False,
    find_unused_parameters: bool = False,
    broadcast_buffers: bool = True,
) -> nn.Module:
    """Wrap ``module`` in DistributedDataParallel when several processes run; return it unchanged otherwise.

    The module should already be on ``info.device``. DDP broadcasts rank 0's parameters at construction, so
    all ranks start from the same weights.

    Args:
        module: The model.
        info: From [`init_distributed`][condgan.train.distributed.init_distributed].
        sync_batchnorm: Convert BatchNorm to ``nn.SyncBatchNorm`` (CUDA only: raises on CPU).
        find_unused_parameters: Passed to DDP (needed when some parameters get no gradient in a step).
        broadcast_buffers: Passed to DDP (rank 0's BatchNorm buffers are broadcast at every forward).

    Returns:
        The DDP-wrapped module, or ``module`` itself in a single process.

    Examples:
        >>> info = init_distributed()
        >>> net = nn.Linear(2, 2)
        >>> wrap_ddp(net, info) is net
        True
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected an nn.Module, got {type(module).__name__}")
    if not isinstance(info, DistInfo):
        raise TypeError(f"info: expected a DistInfo from init_distributed(), got {type(info).__name__}")
    if sync_batchnorm and info.device.type != "cuda":
        raise ValueError(f"sync_batchnorm: nn.SyncBatchNorm needs CUDA devices, got device {info.device}")
    if not info.distributed:
        return module
    if not dist.is_initialized():
        raise RuntimeError(
            f"wrap_ddp: info says world_size={info.world_size} but no process group is initialised"
        )
    if sync_batchnorm:
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
    device_ids = [info.device.index] if info.device.type == "cuda" else None
    ddp = nn.parallel.DistributedDataParallel
    # torch >= 2.14 renamed broadcast_buffers (per-forward buffer sync) to forward_sync_buffers.
    renamed = "forward_sync_buffers" in _ddp_parameters()
    buffers_kw = "forward_sync_buffers" if renamed else "broadcast_buffers"
    return ddp(
        module,
        device_ids=device_ids,
        find_unused_parameters=find_unused_parameters,
        **{buffers_kw: broadcast_buffers},
    )


def _ddp_parameters() -> frozenset[str]:
    return frozenset(inspect.signature(nn.parallel.DistributedDataParallel.__init__).parameters)


def all_reduce_mean(value: torch.Tensor | float) -> torch.Tensor | float:
    """Average a tensor or a number over all processes (identity in a single process).

    Args:
        value: A tensor (any shape, reduced elementwise on its own device; NCCL needs CUDA tensors) or a
            number. Integer tensors are averaged in float64.

    Returns:
        A new tensor, or a float when a float was given.

    Examples:
        >>> all_reduce_mean(2.5)
        2.5
    """
    if isinstance(value, bool) or not isinstance(value, (torch.Tensor, int, float)):
        raise TypeError(f"value: expected a tensor or a number, got {type(value).__name__}")
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return value.clone() if isinstance(value, torch.Tensor) else float(value)
    if isinstance(value, torch.Tensor):
        out = value.detach().clone()
        if not out.is_floating_point():
            out = out.double()
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
        return out / dist.get_world_size()
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    out = torch.tensor(float(value), dtype=torch.float64, device=device)
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return float(out.item()) / dist.get_world_size()


def barrier() -> None:
    """Wait for all processes (no-op in a single process)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


# The Work of the last cleanup()'s barrier. gloo's worker threads drop their reference to a finished
# collective a moment after it completes; the last reference to drop destroys the collective's tensors,
# which takes the GIL. A worker thread that does this while the interpreter is finalizing is killed inside
# C++ and the process aborts ("terminate called without an active exception", SIGABRT: 5 runs in 15 of the
# two-process test on a loaded 2-core machine). The barrier holds every collective still in flight when it
# was queued, and we hold the barrier, so no worker thread holds the last reference to anything; at exit
# that reference is leaked on purpose (_keep_last_barrier_past_exit) so that the interpreter's teardown
# does not hand it to a worker thread.
_last_barrier: list = []


def _keep_last_barrier_past_exit() -> None:
    for work in _last_barrier:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(work))


atexit.register(_keep_last_barrier_past_exit)


def cleanup() -> None:
    """Wait for every rank, then destroy the process group if there is one (call at the end; safe twice).

    The final barrier's ``Work`` is kept until the process exits: see ``_last_barrier`` for the gloo abort at
    interpreter exit that this prevents.
    """
    if dist.is_available() and dist.is_initialized():
        work = dist.barrier(async_op=True)
        work.wait()
        _last_barrier[:] = [work]
        dist.destroy_process_group()


def get_rank() -> int:
    """Global rank (0 in a single process)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def get_world_size() -> int:
    """Number of processes (1 in a single process)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_main_process() -> bool:
    """True on rank 0 (and in a single process): the one that logs and writes checkpoints."""
    return get_rank() == 0
