"""The auxiliary classification term of AC-GAN (Odena, Olah, Shlens, ICML 2017), for several attributes.

An attribute classifier ``C`` reads the attributes an image shows. Trained on real images (the
discriminator's side of the step) it learns what a colour, a sleeve length or a garment category looks like;
the generator is then asked to make ``C`` read the attributes it was told to draw. Both sides use the same
sum of cross-entropies::

    L_aux = sum_a  w_a * CE(C(x)_a, y_a)          mean over the batch for each attribute a

This module has the loss only; ``condgan.train.AuxiliaryClassification`` adds it to a GAN step.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from condgan._checks import check_floating, check_integer, check_label_range, check_rank, check_tensor

__all__ = ["auxiliary_classification_loss", "AuxiliaryClassificationLoss"]


def _check_weights(weights: object, names: list[str]) -> dict[str, float]:
    if weights is None:
        return dict.fromkeys(names, 1.0)
    if not isinstance(weights, Mapping):
        raise TypeError(
            f"weights: expected a mapping attribute -> float or None, got {type(weights).__name__}"
        )
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise ValueError(f"weights: expected attributes among the logits' {names}, got also {unknown}")
    out = {}
    for name in names:
        w = weights.get(name, 1.0)
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not (w >= 0 and w != float("inf")):
            raise ValueError(f"weights[{name!r}]: expected a finite float >= 0, got {w!r}")
        out[name] = float(w)
    return out


def auxiliary_classification_loss(
    logits: Mapping[str, torch.Tensor],
    targets: Mapping[str, torch.Tensor],
    *,
    weights: Mapping[str, float] | None = None,
    check_labels: bool = True,
) -> torch.Tensor:
    """``sum_a w_a * CE(logits[a], targets[a])``, each cross-entropy a mean over the batch.

    Args:
        logits: attribute name -> ``(B, classes)`` unnormalised scores (what an
            [`AttributeClassifier`][condgan.nets.AttributeClassifier] returns).
        targets: attribute name -> ``(B,)`` integer classes in ``[0, classes)``; the same names as ``logits``.
        weights: attribute name -> weight ``w_a >= 0`` (missing names weigh 1; ``None``: all 1).
        check_labels: scan the targets for out-of-range classes first (a clear error instead of a device
            assert); switch off in a hot loop whose targets are known good.

    Returns:
        A scalar.

    Examples:
        >>> logits = {"color": torch.zeros(2, 4), "sleeve": torch.zeros(2, 2)}  # uniform guesses
        >>> targets = {"color": torch.tensor([0, 3]), "sleeve": torch.tensor([1, 0])}
        >>> round(float(auxiliary_classification_loss(logits, targets)), 4)  # log 4 + log 2
        2.0794
    """
    if not isinstance(logits, Mapping) or not logits:
        raise TypeError(
            f"logits: expected a non-empty mapping attribute -> (B, classes) tensor, got {logits!r}"
        )
    if not isinstance(targets, Mapping):
        raise TypeError(f"targets: expected a mapping attribute -> (B,) tensor, got {type(targets).__name__}")
    names = list(logits)
    if set(targets) != set(names):
        raise ValueError(
            f"targets: expected the attributes of the logits {sorted(names)}, got {sorted(targets)}"
        )
    w = _check_weights(weights, names)
    total = None
    batch = None
    for name in names:
        score, target = (
            check_tensor(f"logits[{name!r}]", logits[name]),
            check_tensor(f"targets[{name!r}]", targets[name]),
        )
        check_rank(f"logits[{name!r}]", score, 2, "(B, classes)")
        check_floating(f"logits[{name!r}]", score)
        check_rank(f"targets[{name!r}]", target, 1, "(B,)")
        check_integer(f"targets[{name!r}]", target)
        if score.shape[0] == 0:
            raise ValueError(f"logits[{name!r}]: expected a non-empty batch, got shape {tuple(score.shape)}")
        if target.shape[0] != score.shape[0] or (batch is not None and score.shape[0] != batch):
            raise ValueError(
                f"targets[{name!r}]: expected one target per row of the logits ({score.shape[0]}"
                f"{'' if batch is None else f', the batch of the other attributes {batch}'}), "
                f"got shape {tuple(target.shape)}"
            )
        batch = score.shape[0]
        if check_labels:
            check_label_range(f"targets[{name!r}]", target, score.shape[1])
        term = w[name] * F.cross_entropy(score.float(), target.long())
        total = term if total is None else total + term
    return total


class AuxiliaryClassificationLoss(nn.Module):
    """Module form of
    [`auxiliary_classification_loss`][condgan.losses.auxiliary.auxiliary_classification_loss] with fixed
    per-attribute weights.

    Examples:
        >>> loss = AuxiliaryClassificationLoss(weights={"color": 2.0})
        >>> round(float(loss({"color": torch.zeros(1, 4)}, {"color": torch.tensor([2])})), 4)  # 2 log 4
        2.7726
    """

    def __init__(self, *, weights: Mapping[str, float] | None = None) -> None:
        super().__init__()
        if weights is not None:
            _check_weights(weights, list(weights) if isinstance(weights, Mapping) else [])
        self.weights = None if weights is None else dict(weights)

    def forward(
        self, logits: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor]
    ) -> torch.Tensor:
        weights = None if self.weights is None else {k: v for k, v in self.weights.items() if k in logits}
        return auxiliary_classification_loss(logits, targets, weights=weights)
