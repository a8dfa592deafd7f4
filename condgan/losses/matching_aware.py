"""Matching-aware discriminator loss (GAN-CLS, Reed et al. 2016), as FashionGAN trains both stages.

The discriminator sees three kinds of triple (``fDx`` in ``sr1/train.lua`` and ``ih1/train.lua`` of the
official code, zhusz/ICCV17-fashionGAN):

* real: (real x, its condition, its code) -> real;
* mismatched: (x and condition of *another* training image, the current code) -> fake;
* fake: (G(z, code, condition), condition, code) -> fake.

``L_D = w_r * real_term(D(real)) + w_m * fake_term(D(mismatched)) + w_f * fake_term(D(fake))``.

The official config sets ``lambda_mismatch = 0.1`` and ``lambda_fake = 0.9``, but these scale only the
*reported* errors: the gradients passed to ``D:backward`` are unscaled, so all three terms effectively weigh 1
(the official ``sr1/train.lua``, lines 143-155). The default ``weights=(1.0, 1.0, 1.0)`` reproduces the
official training; ``(1.0, 0.1, 0.9)`` is what the config values would mean if applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from condgan._checks import check_positive_int
from condgan.losses.adversarial import batch_layout, check_kind, check_logits, d_fake_loss, d_real_loss

__all__ = ["MatchingAwareLoss", "matching_aware_d_loss", "MatchingAwareDLoss", "derangement", "split_logits"]


class MatchingAwareLoss(NamedTuple):
    """The weighted total and the three unweighted terms of
    [`matching_aware_d_loss`][condgan.losses.matching_aware.matching_aware_d_loss]."""

    total: torch.Tensor
    real: torch.Tensor
    mismatched: torch.Tensor
    fake: torch.Tensor


def _check_weights(weights: object) -> tuple[float, float, float]:
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence) or len(weights) != 3:
        raise ValueError(f"weights: expected three floats (real, mismatched, fake), got {weights!r}")
    out = []
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0:
            raise ValueError(f"weights: expected three non-negative floats, got {tuple(weights)!r}")
        out.append(float(w))
    return out[0], out[1], out[2]


def matching_aware_d_loss(
    real_logits: torch.Tensor,
    mismatched_logits: torch.Tensor,
    fake_logits: torch.Tensor,
    *,
    kind: str = "bce",
    weights: Sequence[float] = (1.0, 1.0, 1.0),
) -> MatchingAwareLoss:
    """Matching-aware discriminator loss: real triples up, mismatched and fake triples down.

    Args:
        real_logits: ``(B, ...)`` logits of real triples.
        mismatched_logits: ``(B', ...)`` logits of mismatched triples (same per-sample shape).
        fake_logits: ``(B'', ...)`` logits of generated triples (same per-sample shape).
        kind: ``"bce"``, ``"hinge"`` or ``"lsgan"`` (see
            [`condgan.losses.adversarial`][condgan.losses.adversarial]).
        weights: ``(w_real, w_mismatched, w_fake)``; the official training effectively uses ``(1, 1, 1)``.

    Returns:
        ``MatchingAwareLoss(total, real, mismatched, fake)``: the weighted sum and the unweighted terms.

    Examples:
        >>> zero = torch.zeros(4)
        >>> out = matching_aware_d_loss(zero, zero, zero)  # each BCE term is log 2
        >>> round(float(out.total), 4), round(float(out.real), 4)
        (2.0794, 0.6931)
    """
    check_kind(kind)
    w_real, w_mismatched, w_fake = _check_weights(weights)
    check_logits("real_logits", real_logits)
    check_logits("mismatched_logits", mismatched_logits)
    check_logits("fake_logits", fake_logits)
    for name, other in (("mismatched_logits", mismatched_logits), ("fake_logits", fake_logits)):
        if other.shape[1:] != real_logits.shape[1:]:
            raise ValueError(
                f"{name}: expected shape {batch_layout(real_logits)} like real_logits, "
                f"got {tuple(other.shape)}"
            )
    real = d_real_loss(real_logits, kind=kind)
    mismatched = d_fake_loss(mismatched_logits, kind=kind)
    fake = d_fake_loss(fake_logits, kind=kind)
    total = w_real * real + w_mismatched * mismatched + w_fake * fake
    return MatchingAwareLoss(total, real, mismatched, fake)


class MatchingAwareDLoss(nn.Module):
    """Module form of [`matching_aware_d_loss`][condgan.losses.matching_aware.matching_aware_d_loss].

    Examples:
        >>> loss = MatchingAwareDLoss(kind="hinge", weights=(1.0, 0.1, 0.9))
        >>> float(loss(torch.ones(2), -torch.ones(2), -torch.ones(2)).total)
        0.0
    """

    def __init__(self, *, kind: str = "bce", weights: Sequence[float] = (1.0, 1.0, 1.0)) -> None:
        super().__init__()
        self.kind = check_kind(kind)
        self.weights = _check_weights(weights)

    def forward(
        self, real_logits: torch.Tensor, mismatched_logits: torch.Tensor, fake_logits: torch.Tensor
    ) -> MatchingAwareLoss:
        return matching_aware_d_loss(
            real_logits, mismatched_logits, fake_logits, kind=self.kind, weights=self.weights
        )

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, weights={self.weights}"


def derangement(
    n: int, *, generator: torch.Generator | None = None, device: torch.device | str | None = None
) -> torch.Tensor:
    """A random permutation of ``range(n)`` without fixed points, to pair each sample with another's data.

    ``x[derangement(B)]`` gives every sample the image (and condition) of a different sample of the batch: the
    in-batch version of the official "different random training image" mismatch. The permutation is a random
    single ``n``-cycle: ``perm[p[i]] = p[(i + 1) % n]`` for a random order ``p``.

    Args:
        n: batch size, at least 2.
        generator: optional random generator.
        device: device of the result.

    Returns:
        ``(n,)`` int64 indices with ``result[i] != i`` for all ``i``.

    Examples:
        >>> perm = derangement(5, generator=torch.Generator().manual_seed(0))
        >>> bool((perm != torch.arange(5)).all()), sorted(perm.tolist())
        (True, [0, 1, 2, 3, 4])
    """
    check_positive_int("n", n)
    if n < 2:
        raise ValueError(f"n: expected at least 2 (one sample has no other to mismatch with), got {n}")
    order = torch.randperm(n, generator=generator)
    perm = torch.empty(n, dtype=torch.long)
    perm[order] = order.roll(-1)
    return perm if device is None else perm.to(device)


def split_logits(logits: torch.Tensor, sizes: Sequence[int]) -> tuple[torch.Tensor, ...]:
    """Split the logits of one discriminator call on concatenated batches back into parts.

    Calling D once on ``torch.cat([real, mismatched, fake])`` is faster than three calls and keeps BatchNorm
    statistics and DDP buffers consistent; this undoes the concatenation on the logits.

    Args:
        logits: ``(sum(sizes), ...)`` logits.
        sizes: the batch size of each part.

    Examples:
        >>> real, mismatched, fake = split_logits(torch.arange(6.0), (2, 2, 2))
        >>> fake
        tensor([4., 5.])
    """
    check_logits("logits", logits)
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or not sizes:
        raise ValueError(f"sizes: expected a non-empty sequence of positive ints, got {sizes!r}")
    for i, s in enumerate(sizes):
        check_positive_int(f"sizes[{i}]", s)
    if sum(sizes) != logits.shape[0]:
        raise ValueError(
            f"sizes: expected sizes summing to the batch of logits ({logits.shape[0]}), got {tuple(sizes)}"
        )
    return tuple(torch.split(logits, list(sizes), dim=0))
