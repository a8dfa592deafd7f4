"""Label maps: one-hot encoding and class merging through lookup tables.

Conventions (see ``docs/architecture.md``): label maps are ``(B, H, W)`` integer tensors, one-hot maps are
``(B, K, H, W)`` float tensors and **one-hot channel k is label k**. Merging maps every source class ``k`` to
the target class ``table[k]``; for integer labels that is a lookup, for probability maps it is a sum over the
source channels that share a target, ``P(merged = m) = sum_{k: table[k] = m} P(label = k)``.

FashionGAN (Zhu et al., ICCV 2017, section 3.2) uses seven labels, merged to four for the spatial constraint
``down-m(S0)``; its complete demo converts 18-class ATR human parsing to the seven labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from condgan._checks import (
    check_channels,
    check_floating,
    check_integer,
    check_label_range,
    check_positive_int,
    check_rank,
    check_tensor,
)

__all__ = [
    "FASHIONGAN_LABELS",
    "FASHIONGAN_MERGED",
    "FASHIONGAN_7_TO_4",
    "ATR_LABELS",
    "ATR_18_TO_7",
    "one_hot_labels",
    "merge_labels",
    "merge_probabilities",
    "OneHotLabels",
    "MergeLabels",
]

#: The seven FashionGAN labels; label id ``k`` (and one-hot channel ``k``) is ``FASHIONGAN_LABELS[k]``.
FASHIONGAN_LABELS: tuple[str, ...] = (
    "background",
    "hair",
    "face",
    "upper_clothes",
    "lower_clothes",
    "legs",
    "arms",
)

#: The four merged classes of the spatial constraint, in the official channel order.
FASHIONGAN_MERGED: tuple[str, ...] = ("hair", "face", "rest", "background")

#: FashionGAN label -> merged class: background -> 3, hair -> 0, face -> 1, everything else -> 2 ("rest").
FASHIONGAN_7_TO_4: tuple[int, ...] = (3, 0, 1, 2, 2, 2, 2)

#: The 18 channels of the ATR human parser as the official complete demo orders them: channel ``j`` is ATR
#: label ``j + 1`` (hat ... scarf) and the last channel (index 17) is background. An ATR *dataset* label map,
#: where background is 0, becomes this channel order with ``(labels - 1) % 18``.
ATR_LABELS: tuple[str, ...] = (
    "hat",
    "hair",
    "sunglasses",
    "upper_clothes",
    "skirt",
    "pants",
    "dress",
    "belt",
    "left_shoe",
    "right_shoe",
    "face",
    "left_leg",
    "right_leg",
    "left_arm",
    "right_arm",
    "bag",
    "scarf",
    "background",
)

#: ATR channel (order of `ATR_LABELS`) -> FashionGAN label, as ``label_assign`` in the official
#: ``complete_demo/script2.m``: hat/hair -> hair, sunglasses/face -> face, upper clothes/scarf -> upper
#: clothes, skirt/pants/dress/belt/bag -> lower clothes, legs/shoes -> legs, arms -> arms, background ->
#: background.
ATR_18_TO_7: tuple[int, ...] = (1, 1, 2, 3, 4, 4, 4, 4, 5, 5, 2, 5, 5, 6, 6, 4, 3, 0)


# ------------------------------------------------------------------------------------------------------------
# helpers shared with the other layer files
# ------------------------------------------------------------------------------------------------------------


def _as_table(table: object, name: str = "table") -> tuple[int, ...]:
    """Normalise a lookup table (sequence of ints or 1-D integer tensor) to a tuple of non-negative ints."""
    if isinstance(table, torch.Tensor):
        if table.ndim != 1:
            raise ValueError(f"{name}: expected a 1-D tensor (K,), got shape {tuple(table.shape)}")
        check_integer(name, table)
        values = tuple(int(v) for v in table.tolist())
    elif isinstance(table, Sequence) and not isinstance(table, (str, bytes)):
        values = tuple(table)
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{name}[{i}]: expected an int, got {type(v).__name__} {v!r}")
    else:
        raise TypeError(
            f"{name}: expected a sequence of ints or a 1-D integer tensor, got {type(table).__name__}"
        )
    if not values:
        raise ValueError(f"{name}: expected a non-empty table, got an empty one")
    for i, v in enumerate(values):
        if v < 0:
            raise ValueError(f"{name}[{i}]: expected a non-negative class id, got {v}")
    return values


def _check_ignore_index(ignore_index: object) -> int | None:
    if ignore_index is None:
        return None
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise TypeError(
            f"ignore_index: expected an int or None, got {type(ignore_index).__name__} {ignore_index!r}"
        )
    return ignore_index


def _check_labels(
    labels: object, num_classes: int, ignore_index: int | None, check_labels: bool
) -> torch.Tensor:
    check_rank("labels", labels, 3, "(B, H, W)")
    check_integer("labels", labels)
    if check_labels:
        check_label_range("labels", labels, num_classes, ignore_index)
    return labels


def _one_hot(
    labels: torch.Tensor, num_classes: int, ignore_index: int | None, dtype: torch.dtype
) -> torch.Tensor:
    """Unchecked one-hot of (B, H, W) labels (scatter into zeros; ignored pixels get no 1)."""
    index = labels.long().unsqueeze(1)
    batch, _, height, width = index.shape
    out = torch.zeros((batch, num_classes, height, width), dtype=dtype, device=labels.device)
    if ignore_index is None:
        return out.scatter_(1, index, 1)
    valid = index != ignore_index
    return out.scatter_(1, index.masked_fill(~valid, 0), valid.to(dtype))


def _merge_labels(labels: torch.Tensor, values: tuple[int, ...], ignore_index: int | None) -> torch.Tensor:
    """Unchecked lookup ``values[labels]``; ``ignore_index`` pixels pass through."""
    lut = torch.tensor(values, dtype=torch.long, device=labels.device)
    index = labels.long()
    if ignore_index is None:
        return lut[index].to(labels.dtype)
    ignored = index == ignore_index
    merged = lut[index.masked_fill(ignored, 0)].masked_fill(ignored, ignore_index)
    return merged.to(labels.dtype)


def _merge_probabilities(probs: torch.Tensor, values: tuple[int, ...]) -> torch.Tensor:
    """Unchecked channel merge by ``index_add`` (exact sums, differentiable)."""
    lut = torch.tensor(values, dtype=torch.long, device=probs.device)
    batch, _, height, width = probs.shape
    out = probs.new_zeros((batch, max(values) + 1, height, width))
    return out.index_add(1, lut, probs)


# ------------------------------------------------------------------------------------------------------------
# one-hot
# ------------------------------------------------------------------------------------------------------------


def one_hot_labels(
    labels: torch.Tensor,
    num_classes: int,
    *,
    ignore_index: int | None = None,
    dtype: torch.dtype = torch.float32,
    check_labels: bool = True,
) -> torch.Tensor:
    """One-hot encode a label map; channel ``k`` is label ``k``.

    ``out[b, k, y, x] = 1 if labels[b, y, x] == k else 0``; pixels equal to ``ignore_index`` are all-zero.

    Args:
        labels: ``(B, H, W)`` integer label map with values in ``[0, num_classes)`` (or ``ignore_index``).
        num_classes: ``K``, the number of channels.
        ignore_index: a label whose pixels get no class at all (e.g. 255 for "unlabelled").
        dtype: the output dtype.
        check_labels: scan ``labels`` once for out-of-range values (one device sync; turn off in hot loops
            whose data was checked at loading time).

    Returns:
        ``(B, K, H, W)`` tensor of ``dtype``.

    Raises:
        TypeError: ``labels`` is not an integer tensor, or ``dtype`` is not a ``torch.dtype``.
        ValueError: wrong rank, or a label outside ``[0, K)`` (the message names the bad value).

    Examples:
        >>> labels = torch.tensor([[[0, 2], [1, 255]]])
        >>> one_hot_labels(labels, 3, ignore_index=255)[0]
        tensor([[[1., 0.],
                 [0., 0.]],
        <BLANKLINE>
                [[0., 0.],
                 [1., 0.]],
        <BLANKLINE>
                [[0., 1.],
                 [0., 0.]]])
    """
    num_classes = check_positive_int("num_classes", num_classes)
    ignore_index = _check_ignore_index(ignore_index)
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype: expected a torch.dtype, got {type(dtype).__name__} {dtype!r}")
    if dtype.is_complex:
        raise TypeError(f"dtype: expected a real dtype, got {dtype}")
    _check_labels(labels, num_classes, ignore_index, check_labels)
    return _one_hot(labels, num_classes, ignore_index, dtype)


class OneHotLabels(nn.Module):
    """Module form of [`one_hot_labels`][condgan.layers.label_maps.one_hot_labels]: ``(B, H, W)`` integer
    labels -> ``(B, K, H, W)``.

    Args:
        num_classes: ``K``.
        ignore_index: a label whose pixels become all-zero.
        dtype: the output dtype.
        check_labels: scan the labels for out-of-range values.

    Examples:
        >>> OneHotLabels(num_classes=7)(torch.zeros(2, 4, 4, dtype=torch.long)).shape
        torch.Size([2, 7, 4, 4])
    """

    def __init__(
        self,
        *,
        num_classes: int,
        ignore_index: int | None = None,
        dtype: torch.dtype = torch.float32,
        check_labels: bool = True,
    ) -> None:
        super().__init__()
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.ignore_index = _check_ignore_index(ignore_index)
        if not isinstance(dtype, torch.dtype):
            raise TypeError(f"dtype: expected a torch.dtype, got {type(dtype).__name__} {dtype!r}")
        self.dtype = dtype
        self.check_labels = bool(check_labels)

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        return one_hot_labels(
            labels,
            self.num_classes,
            ignore_index=self.ignore_index,
            dtype=self.dtype,
            check_labels=self.check_labels,
        )

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, ignore_index={self.ignore_index}"


# ------------------------------------------------------------------------------------------------------------
# merging
# ------------------------------------------------------------------------------------------------------------


def merge_labels(
    labels: torch.Tensor,
    table: Sequence[int] | torch.Tensor,
    *,
    ignore_index: int | None = None,
    check_labels: bool = True,
) -> torch.Tensor:
    """Merge label classes through a lookup table: ``out = table[labels]``.

    Args:
        labels: ``(B, H, W)`` integer labels in ``[0, K)`` where ``K = len(table)`` (or ``ignore_index``).
        table: ``K`` non-negative ints (or a 1-D integer tensor); source class ``k`` becomes ``table[k]``.
        ignore_index: a label passed through unchanged.
        check_labels: scan ``labels`` once for out-of-range values.

    Returns:
        ``(B, H, W)`` merged labels, same dtype as ``labels``.

    Examples:
        >>> labels = torch.tensor([[[0, 1, 2, 3, 4, 5, 6]]])
        >>> merge_labels(labels, FASHIONGAN_7_TO_4)
        tensor([[[3, 0, 1, 2, 2, 2, 2]]])
    """
    values = _as_table(table)
    ignore_index = _check_ignore_index(ignore_index)
    _check_labels(labels, len(values), ignore_index, check_labels)
    return _merge_labels(labels, values, ignore_index)


def merge_probabilities(probs: torch.Tensor, table: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """Merge class probabilities by summing the channels that map to the same class (differentiable).

    ``out[:, m] = sum_{k: table[k] = m} probs[:, k]``; ``M = max(table) + 1`` output channels.

    Args:
        probs: ``(B, K, H, W)`` float probabilities (or one-hot maps), ``K = len(table)``.
        table: ``K`` non-negative ints (or a 1-D integer tensor).

    Returns:
        ``(B, M, H, W)`` tensor of ``probs.dtype``. Merged classes that no source maps to are zero.

    Examples:
        >>> probs = torch.full((1, 7, 1, 1), 1 / 7)
        >>> merge_probabilities(probs, FASHIONGAN_7_TO_4).flatten()
        tensor([0.1429, 0.1429, 0.5714, 0.1429])
    """
    values = _as_table(table)
    check_rank("probs", probs, 4, "(B, K, H, W)")
    check_floating("probs", probs)
    check_channels("probs", probs, len(values))
    return _merge_probabilities(probs, values)


class MergeLabels(nn.Module):
    """Merge classes of integer labels or of probability maps through one lookup table.

    Integer ``(B, H, W)`` input goes through [`merge_labels`][condgan.layers.label_maps.merge_labels],
    floating ``(B, K, H, W)`` input through
    [`merge_probabilities`][condgan.layers.label_maps.merge_probabilities].

    Args:
        table: ``K`` non-negative ints; class ``k`` becomes ``table[k]``.
        ignore_index: passed to [`merge_labels`][condgan.layers.label_maps.merge_labels]; it applies to
            integer input only (probability maps have no ignored pixels).
        check_labels: scan integer labels for out-of-range values.

    Examples:
        >>> merge = MergeLabels(table=FASHIONGAN_7_TO_4)
        >>> merge(torch.tensor([[[0, 1, 5]]]))
        tensor([[[3, 0, 2]]])
        >>> merge(torch.rand(2, 7, 4, 4)).shape
        torch.Size([2, 4, 4, 4])
    """

    def __init__(
        self,
        *,
        table: Sequence[int] | torch.Tensor,
        ignore_index: int | None = None,
        check_labels: bool = True,
    ) -> None:
        super().__init__()
        self.table = _as_table(table)
        self.ignore_index = _check_ignore_index(ignore_index)
        self.check_labels = bool(check_labels)

    @property
    def num_classes(self) -> int:
        """``K``, the number of source classes."""
        return len(self.table)

    @property
    def num_merged(self) -> int:
        """``M = max(table) + 1``, the number of merged classes."""
        return max(self.table) + 1

    def forward(self, segmentation: torch.Tensor) -> torch.Tensor:
        check_tensor("segmentation", segmentation)
        if segmentation.is_floating_point():
            return merge_probabilities(segmentation, self.table)
        return merge_labels(
            segmentation, self.table, ignore_index=self.ignore_index, check_labels=self.check_labels
        )

    def extra_repr(self) -> str:
        return f"table={self.table}, ignore_index={self.ignore_index}"
