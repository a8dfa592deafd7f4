"""Learning-rate decay as a pure function of the step.

GAN recipes usually hold the rate for a while and then decay it (pix2pix and CycleGAN: constant, then linear
to zero). Here the rate of a step is computed from the step number alone, rather than kept in a scheduler
object, so a resumed run needs no scheduler state to continue exactly where it stopped.

    factor(s) = 1                                  while (s - 1) / total < start
    linear:     (1 - t) / (1 - start)              t = (s - 1) / total
    cosine:     (1 + cos(pi * (t - start) / (1 - start))) / 2

``s`` counts from 1 (the step about to be taken); the last step still gets a small positive rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from condgan._checks import check_choice, check_int, check_number

__all__ = ["LR_DECAYS", "lr_factor", "set_lr"]

LR_DECAYS = ("none", "linear", "cosine")
"""The decay shapes [`lr_factor`][condgan.train.lr_schedule.lr_factor] knows."""


def lr_factor(step: int, total: int, decay: str = "linear", start: float = 0.5) -> float:
    """The multiple of the base learning rate for step ``step`` of ``total`` (steps count from 1).

    Args:
        step: the step about to be taken, ``1 <= step <= total``.
        total: the run's number of steps.
        decay: ``"none"`` (always 1), ``"linear"`` or ``"cosine"`` (to 0 at ``total``).
        start: the fraction of ``total`` after which the rate decays, in ``[0, 1)``.

    Returns:
        A float in ``(0, 1]``.

    Examples:
        >>> [round(lr_factor(s, 8, "linear", 0.5), 3) for s in range(1, 9)]
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25]
        >>> round(lr_factor(7, 8, "cosine", 0.5), 3)
        0.5
        >>> lr_factor(9, 8)
        Traceback (most recent call last):
        ...
        ValueError: step: expected an int in [1, 8], got 9
    """
    check_int("total", total, low=1)
    check_int("step", step, low=1, high=total)
    check_choice("decay", decay, LR_DECAYS)
    check_number("start", start, low=0.0, high=1.0, open_high=True)
    t = (step - 1) / total
    if decay == "none" or t < start:
        return 1.0
    frac = (t - start) / (1.0 - start)  # in [0, 1)
    if decay == "linear":
        return 1.0 - frac
    return 0.5 * (1.0 + math.cos(math.pi * frac))


def set_lr(optimizers: Iterable[torch.optim.Optimizer], lr: float) -> None:
    """Set the learning rate of every parameter group of every optimizer to ``lr``.

    Examples:
        >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        >>> set_lr([opt], 0.25 * 1e-3)
        >>> opt.param_groups[0]["lr"]
        0.00025
    """
    check_number("lr", lr, low=0.0)
    optimizers = list(optimizers)
    for opt in optimizers:  # all checked before any is changed
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(f"optimizers: expected torch.optim.Optimizer items, got {type(opt).__name__}")
    for opt in optimizers:
        for group in opt.param_groups:
            group["lr"] = lr
