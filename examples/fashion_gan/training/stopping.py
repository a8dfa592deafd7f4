"""How a training run stops early without losing work: signals, failed writes, agreement across ranks.

Faults (see ``docs/faults.md``): SIGINT/SIGTERM finish the current step, write a checkpoint and raise
[`TrainingStopped`][fashion_gan.training.stopping.TrainingStopped] (the CLI exits with status 3 and says how
to resume); a failed write (disk full, an unwritable folder) stops the run with the path named and the
previous checkpoint intact. Under torchrun every rank stops at the same step.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.distributed as torch_dist

from condgan.train import CheckpointError, GracefulExit

__all__ = [
    "TrainingStopped",
    "stop_guard",
    "ignore_stop_signals",
    "writing",
    "intact",
    "any_rank",
    "mean_over_ranks",
]


class TrainingStopped(RuntimeError):
    """Training stopped before its last step; the message says why and how to continue.

    Raised after a stop signal (a checkpoint of the current step was written), a non-finite loss, gradient or
    weight (the last checkpoint is intact), or an output that could not be written (disk full, unwritable
    folder; the last checkpoint is intact). The ``fashion-gan`` CLI prints the message and exits with
    status 3.

    Attributes:
        reason: ``"signal"``, ``"nonfinite"`` or ``"write"``.
        step: The last completed training step (``None`` when unknown).
        checkpoint: The checkpoint folder to resume from (``None`` when there is none).
    """

    def __init__(self, message: str, *, reason: str, step: int | None, checkpoint: Path | None) -> None:
        super().__init__(message)
        self.reason = reason
        self.step = step
        self.checkpoint = checkpoint


class _NoSignals:
    """Stand-in for GracefulExit where signal handlers cannot be installed (not the main thread)."""

    stop_requested = False
    signal_name = None

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def stop_guard():
    """A context whose ``stop_requested`` turns true on SIGINT/SIGTERM (inert outside the main thread)."""
    return GracefulExit() if threading.current_thread() is threading.main_thread() else _NoSignals()


def ignore_stop_signals(worker_id: int) -> None:
    """DataLoader workers leave SIGINT/SIGTERM to the main process, which stops cleanly after its step.

    A terminal's Ctrl-C (or a scheduler's SIGTERM to the whole job) reaches the workers too; a worker that
    died of it would turn the graceful stop into "DataLoader worker exited unexpectedly". Workers still exit
    when the main process shuts the loader down, or when it dies (their watchdog notices).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def intact(last: Path | None) -> str:
    """What the user still has: the last checkpoint, or nothing yet."""
    return f"the last checkpoint ({last}) is intact" if last is not None else "no checkpoint was written yet"


@contextlib.contextmanager
def writing(path: Path, last: Path | None, hint: str, step: int | None) -> Iterator[None]:
    """Turn a failed write (disk full, permissions, a file where a folder should be) into TrainingStopped."""
    try:
        yield
    except (OSError, CheckpointError) as err:
        reason = str(err) if isinstance(err, CheckpointError) else f"{err.strerror or err}"
        raise TrainingStopped(
            f"could not write {path}: {reason}; {intact(last)}. Free some space or fix the folder's "
            f"permissions, then continue with: {hint}",
            reason="write",
            step=step,
            checkpoint=last,
        ) from err


def any_rank(flag: bool, device: torch.device, world_size: int) -> bool:
    """True when ``flag`` is set on any rank (so every rank stops at the same step)."""
    if world_size == 1:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=device)
    torch_dist.all_reduce(t, op=torch_dist.ReduceOp.MAX)
    return bool(t.item())


def mean_over_ranks(values: dict[str, float], device: torch.device, world_size: int) -> dict[str, float]:
    """Average the step's logged numbers over the ranks (each rank's are means over its slice)."""
    t = torch.tensor(list(values.values()), dtype=torch.float64, device=device)
    torch_dist.all_reduce(t, op=torch_dist.ReduceOp.SUM)
    mean = dict(zip(values, (t / world_size).tolist(), strict=True))
    return {k: round(v) if isinstance(values[k], int) else v for k, v in mean.items()}  # counts stay ints
