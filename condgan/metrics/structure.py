"""Structure metrics: does a generated segmentation keep the structure it was asked to keep?

FashionGAN (ICCV 2017, section 3.1) conditions the shape generator on the spatial constraint
``down_m(S0)``: the label map merged to ``[hair, face, rest, background]`` and downsampled to ``m x m`` soft
masks. The metrics here compare two label maps through that constraint
([`constraint_agreement`][condgan.metrics.structure.constraint_agreement]), through a chosen region such as
hair + face ([`region_agreement`][condgan.metrics.structure.region_agreement]), or class by class
([`per_class_iou`][condgan.metrics.structure.per_class_iou]).

All functions take ``(B, H, W)`` integer label maps with the official FashionGAN ids (0 background, 1 hair,
2 face, 3 upper clothes, 4 lower clothes, 5 legs, 6 arms) unless a different ``table`` / ``num_classes`` is
given.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from condgan._checks import check_integer, check_label_range, check_positive_int, check_rank, check_same_batch
from condgan.layers.label_maps import FASHIONGAN_7_TO_4
from condgan.layers.spatial_constraint import spatial_constraint

__all__ = ["constraint_agreement", "region_agreement", "per_class_iou"]


def _check_labels(name: str, labels: object) -> torch.Tensor:
    check_rank(name, labels, 3, "(B, H, W)")
    return check_integer(name, labels)


def _check_table(table: object) -> tuple[int, ...]:
    if isinstance(table, torch.Tensor):
        table = table.tolist()
    if isinstance(table, (str, bytes)) or not isinstance(table, Sequence) or len(table) == 0:
        raise TypeError(
            f"table: expected a non-empty sequence of ints (label -> merged class), got {table!r}"
        )
    for entry in table:
        if isinstance(entry, bool) or not isinstance(entry, int) or entry < 0:
            raise ValueError(f"table: expected non-negative int entries, got {entry!r} in {tuple(table)!r}")
    return tuple(table)


def _check_size(size: object) -> tuple[int, int]:
    if isinstance(size, Sequence) and not isinstance(size, (str, bytes)):
        if len(size) != 2:
            raise ValueError(f"size: expected an int or a pair (h, w), got {size!r}")
        return check_positive_int("size", size[0]), check_positive_int("size", size[1])
    value = check_positive_int("size", size)
    return value, value


def constraint_agreement(
    pred_labels: torch.Tensor,
    target_labels: torch.Tensor,
    *,
    table: Sequence[int] | None = FASHIONGAN_7_TO_4,
    num_classes: int | None = None,
    size: int | tuple[int, int] = 8,
) -> torch.Tensor:
    """Agreement of two label maps' spatial constraints (the paper's ``down_m(S)``), 1 = identical.

    Both maps are merged through ``table`` (FashionGAN: 7 labels -> ``[hair, face, rest, background]``) and
    area-downsampled to ``size x size`` cells
    ([`condgan.layers.spatial_constraint`][condgan.layers.spatial_constraint.spatial_constraint],
    ``mode="area"``) of class fractions ``p_c`` (pred) and ``q_c`` (target). Per cell the agreement is one
    minus the total-variation distance of the two fraction vectors, averaged over the cells:

    ``agreement = mean_cells (1 - 0.5 * sum_k |p_ck - q_ck|)``, in ``[0, 1]``; 1 iff the soft constraints are
    equal, 0 iff no cell shares any class.

    The two maps may have different resolutions (e.g. a 128 px generated map against a 64 px target): only the
    ``size x size`` constraints are compared.

    Args:
        pred_labels: ``(B, H, W)`` integer label map (e.g. the argmax of a generated segmentation).
        target_labels: ``(B, H', W')`` integer label map (the map the constraint was taken from).
        table: label -> merged class lookup; ``None`` compares the unmerged classes (then ``num_classes`` is
            required).
        num_classes: number of label ids when ``table`` is ``None``; ignored otherwise.
        size: the constraint's grid, an int ``m`` or ``(h, w)``; the paper uses 8.

    Returns:
        ``(B,)`` float32 agreement per sample.

    Raises:
        TypeError: a label map is not an integer tensor, or ``table`` is not a sequence of ints.
        ValueError: wrong rank, batch mismatch, a label outside the table, or a bad ``size``.

    Examples:
        >>> target = torch.zeros(1, 16, 16, dtype=torch.long)
        >>> target[:, :4] = 1  # hair on the top quarter
        >>> constraint_agreement(target, target)
        tensor([1.])
        >>> constraint_agreement(torch.zeros_like(target), target, size=4)  # all background vs 25% hair
        tensor([0.7500])
    """
    _check_labels("pred_labels", pred_labels)
    _check_labels("target_labels", target_labels)
    check_same_batch(pred_labels=pred_labels, target_labels=target_labels)
    grid = _check_size(size)
    if table is None:
        if num_classes is None:
            raise ValueError("num_classes: expected a positive int when table is None, got None")
        num_labels = check_positive_int("num_classes", num_classes)
        entries = None
    else:
        entries = _check_table(table)
        num_labels = len(entries)
    check_label_range("pred_labels", pred_labels, num_labels)
    check_label_range("target_labels", target_labels, num_labels)
    options = {
        "size": grid,
        "table": entries,
        "num_classes": num_labels,
        "mode": "area",
        "check_labels": False,
    }
    pred = spatial_constraint(pred_labels, **options)
    target = spatial_constraint(target_labels, **options)
    total_variation = 0.5 * (pred - target.to(pred.device)).abs().sum(dim=1)
    return (1.0 - total_variation).mean(dim=(1, 2))


def region_agreement(
    pred_labels: torch.Tensor, target_labels: torch.Tensor, classes: Sequence[int] | int
) -> torch.Tensor:
    """Intersection over union of one region, the union of the label ids in ``classes``.

    ``IoU = |P & T| / |P | T|`` with ``P = {pred in classes}``, ``T = {target in classes}``; two empty regions
    count as a perfect match (IoU 1). Typical regions: hair + face ``(1, 2)`` (which FashionGAN should keep
    from the wearer) or background ``(0,)``.

    Args:
        pred_labels: ``(B, H, W)`` integer label map.
        target_labels: ``(B, H, W)`` integer label map of the same shape.
        classes: a label id or a non-empty sequence of label ids forming the region.

    Returns:
        ``(B,)`` float32 IoU per sample, in ``[0, 1]``.

    Raises:
        TypeError: a label map is not an integer tensor, or ``classes`` holds something other than ints.
        ValueError: wrong rank, shape mismatch, or empty ``classes``.

    Examples:
        >>> target = torch.zeros(1, 4, 4, dtype=torch.long)
        >>> target[:, :2] = 1  # 8 hair pixels
        >>> pred = torch.zeros_like(target)
        >>> pred[:, :1] = 1  # 4 of them predicted
        >>> region_agreement(pred, target, classes=(1, 2))
        tensor([0.5000])
    """
    _check_labels("pred_labels", pred_labels)
    _check_labels("target_labels", target_labels)
    if pred_labels.shape != target_labels.shape:
        raise ValueError(
            f"target_labels: expected the shape of pred_labels {tuple(pred_labels.shape)}, "
            f"got {tuple(target_labels.shape)}"
        )
    if isinstance(classes, int) and not isinstance(classes, bool):
        classes = (classes,)
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence):
        raise TypeError(f"classes: expected an int or a sequence of ints, got {type(classes).__name__}")
    if len(classes) == 0:
        raise ValueError("classes: expected at least one label id, got an empty sequence")
    for entry in classes:
        if isinstance(entry, bool) or not isinstance(entry, int):
            raise TypeError(f"classes: expected int label ids, got {entry!r} in {tuple(classes)!r}")
    ids = torch.tensor(tuple(classes), device=pred_labels.device, dtype=pred_labels.dtype)
    pred = torch.isin(pred_labels, ids).flatten(1)
    target = torch.isin(target_labels, ids).flatten(1)
    intersection = (pred & target).sum(dim=1).to(torch.float32)
    union = (pred | target).sum(dim=1).to(torch.float32)
    return torch.where(union > 0, intersection / union.clamp_min(1.0), torch.ones_like(union))


def per_class_iou(pred_labels: torch.Tensor, target_labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Per-class intersection over union, accumulated over the whole batch.

    ``IoU_k = sum_b |P_bk & T_bk| / sum_b |P_bk | T_bk|``; a class absent from both maps of every sample has
    no defined IoU and is reported as NaN (use ``torch.nanmean`` for the mean IoU).

    Args:
        pred_labels: ``(B, H, W)`` integer label map with ids in ``[0, num_classes)``.
        target_labels: ``(B, H, W)`` integer label map of the same shape.
        num_classes: number of label ids ``K``.

    Returns:
        ``(K,)`` float32 IoU per class (NaN where undefined).

    Raises:
        TypeError: a label map is not an integer tensor, or ``num_classes`` is not an int.
        ValueError: wrong rank, shape mismatch, or a label outside ``[0, num_classes)``.

    Examples:
        >>> target = torch.tensor([[[0, 0], [1, 1]]])
        >>> pred = torch.tensor([[[0, 1], [1, 1]]])
        >>> per_class_iou(pred, target, num_classes=3)
        tensor([0.5000, 0.6667,    nan])
    """
    _check_labels("pred_labels", pred_labels)
    _check_labels("target_labels", target_labels)
    if pred_labels.shape != target_labels.shape:
        raise ValueError(
            f"target_labels: expected the shape of pred_labels {tuple(pred_labels.shape)}, "
            f"got {tuple(target_labels.shape)}"
        )
    k = check_positive_int("num_classes", num_classes)
    check_label_range("pred_labels", pred_labels, k)
    check_label_range("target_labels", target_labels, k)
    pairs = pred_labels.reshape(-1).long() * k + target_labels.reshape(-1).long()
    confusion = torch.bincount(pairs, minlength=k * k).reshape(k, k).to(torch.float64)
    intersection = confusion.diagonal()
    union = confusion.sum(dim=0) + confusion.sum(dim=1) - intersection
    iou = torch.where(union > 0, intersection / union.clamp_min(1.0), torch.full_like(union, float("nan")))
    return iou.to(torch.float32)
