"""Attribute accuracy: how often a classifier recovers the attributes a sample was generated with.

FashionGAN's paper judges generated images by running attribute detectors (category, colour, sleeve, gender)
on them and checking the attributes the sentence asked for. These helpers do the counting for any set of named
attributes: a prediction per attribute is either ``(B, C)`` logits (argmax taken) or ``(B,)`` integer
class ids.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from condgan._checks import check_integer, check_label_range, check_rank, check_same_batch

__all__ = ["attribute_accuracy", "AttributeAccuracy"]


def _as_mapping(name: str, value: object) -> Mapping:
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{name}: expected a mapping from attribute name to tensor, got {type(value).__name__}"
        )
    return value


def _correct_counts(
    predictions: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor]
) -> dict[str, tuple[int, int]]:
    """Validate one batch and return ``{name: (correct, total)}``."""
    _as_mapping("logits_or_predictions", predictions)
    _as_mapping("targets", targets)
    if len(predictions) == 0:
        raise ValueError("logits_or_predictions: expected at least one attribute, got an empty mapping")
    counts: dict[str, tuple[int, int]] = {}
    for name, pred in predictions.items():
        pred_name = f"logits_or_predictions[{name!r}]"
        target_name = f"targets[{name!r}]"
        if name not in targets:
            raise ValueError(f"targets: expected a tensor for attribute {name!r}, got keys {sorted(targets)}")
        target = targets[name]
        check_rank(pred_name, pred, (1, 2), "(B, C) logits or (B,) class ids")
        check_rank(target_name, target, 1, "(B,)")
        check_integer(target_name, target)
        check_same_batch(**{pred_name: pred, target_name: target})
        if pred.ndim == 2:
            if not pred.is_floating_point():
                raise TypeError(f"{pred_name}: expected floating-point (B, C) logits, got dtype {pred.dtype}")
            check_label_range(target_name, target, pred.shape[1])
            pred = pred.argmax(dim=1)
        else:
            check_integer(pred_name, pred)
        correct = int((pred.to(target.device) == target).sum())
        counts[name] = (correct, int(target.shape[0]))
    return counts


def attribute_accuracy(
    logits_or_predictions: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor]
) -> dict[str, float]:
    """Top-1 accuracy per attribute: ``acc_a = mean_b [argmax_c logits_a[b, c] == target_a[b]]``.

    Args:
        logits_or_predictions: attribute name -> ``(B, C)`` float logits or ``(B,)`` integer predicted ids.
        targets: attribute name -> ``(B,)`` integer true ids; must contain every key of the predictions (extra
            keys, such as the images of a batch dict, are ignored).

    Returns:
        attribute name -> accuracy in ``[0, 1]`` (NaN for an empty batch).

    Raises:
        TypeError: a mapping is not a mapping, logits are not floating, ids are not integer.
        ValueError: a missing target, wrong ranks, batch mismatch, or a target outside ``[0, C)``.

    Examples:
        >>> logits = {"color": torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])}
        >>> attribute_accuracy(logits, {"color": torch.tensor([0, 1, 1])})
        {'color': 0.6666666666666666}
    """
    counts = _correct_counts(logits_or_predictions, targets)
    return {name: (correct / total if total else float("nan")) for name, (correct, total) in counts.items()}


class AttributeAccuracy:
    """Streaming top-1 accuracy per attribute over many batches (``update`` / ``compute`` / ``reset``).

    Counts are exact integers, so the result equals
    [`attribute_accuracy`][condgan.metrics.attributes.attribute_accuracy] on the concatenated batches.

    Args:
        names: if given, the attributes to track: ``update`` then requires exactly these keys in its
            predictions.

    Examples:
        >>> metric = AttributeAccuracy()
        >>> metric.update({"gender": torch.tensor([0, 1])}, {"gender": torch.tensor([0, 0])})
        >>> metric.update({"gender": torch.tensor([1])}, {"gender": torch.tensor([1])})
        >>> metric.compute()
        {'gender': 0.6666666666666666}
        >>> metric.reset(); metric.compute()
        {}
    """

    def __init__(self, names: tuple[str, ...] | list[str] | None = None) -> None:
        if names is not None:
            if isinstance(names, str) or not all(isinstance(n, str) for n in names):
                raise TypeError(f"names: expected a sequence of attribute names (str), got {names!r}")
            names = tuple(names)
        self.names = names
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far."""
        self._correct: dict[str, int] = {}
        self._total: dict[str, int] = {}

    def update(
        self, logits_or_predictions: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor]
    ) -> None:
        """Add one batch; arguments as in
        [`attribute_accuracy`][condgan.metrics.attributes.attribute_accuracy]."""
        if self.names is not None:
            got = sorted(_as_mapping("logits_or_predictions", logits_or_predictions))
            if got != sorted(self.names):
                raise ValueError(
                    f"logits_or_predictions: expected the attributes {sorted(self.names)}, got {got}"
                )
        for name, (correct, total) in _correct_counts(logits_or_predictions, targets).items():
            self._correct[name] = self._correct.get(name, 0) + correct
            self._total[name] = self._total.get(name, 0) + total

    def compute(self) -> dict[str, float]:
        """Accuracy per attribute seen so far (an empty dict before the first update)."""
        return {
            name: (self._correct[name] / total if total else float("nan"))
            for name, total in self._total.items()
        }

    def counts(self) -> dict[str, tuple[int, int]]:
        """``(correct, total)`` per attribute seen so far."""
        return {name: (self._correct[name], self._total[name]) for name in self._total}
