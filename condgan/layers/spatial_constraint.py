"""The spatial constraint ``down-m(S0)`` of FashionGAN (Zhu et al., ICCV 2017, section 3.2).

The person's segmentation ``S0`` is merged to a few coarse classes (officially ``[hair, face, rest,
background]``) and downsampled to ``m x m`` soft masks (officially 8 x 8), so the shape generator sees where
the body is without the old clothes' outline:

    ``down-m(S0)[b, c] = resize(1[merge(S0) = c], (m, m))``

Three resize modes are offered:

- ``"area"``: adaptive average pooling; each cell holds the fraction of its pixels in each class, so the
  channels of a cell sum to one (when no pixel is ignored).
- ``"bicubic"``: antialiased bicubic (``F.interpolate(..., mode="bicubic", antialias=True)``), the kernel of
  MATLAB's default ``imresize`` that built the released ``sr1_8.mat``. Values can overshoot ``[0, 1]`` a
  little (cubic kernels have negative lobes) and the channels still sum to one. At the border torch
  renormalises the truncated kernel while MATLAB mirrors the image, so the outermost cells differ slightly
  from MATLAB.
- ``"nearest"``: nearest-neighbour sampling of the one-hot map (as SPADE resizes its label maps); hard masks.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from condgan._checks import (
    check_channels,
    check_integer,
    check_label_range,
    check_positive_int,
    check_rank,
    check_tensor,
)
from condgan.layers.label_maps import (
    FASHIONGAN_7_TO_4,
    _as_table,
    _check_ignore_index,
    _merge_labels,
    _merge_probabilities,
    _one_hot,
)

__all__ = ["SPATIAL_CONSTRAINT_MODES", "spatial_constraint", "SpatialConstraint"]

#: The resize modes [`spatial_constraint`][condgan.layers.spatial_constraint.spatial_constraint] accepts.
SPATIAL_CONSTRAINT_MODES: tuple[str, ...] = ("area", "bicubic", "nearest")


def _size_pair(name: str, size: object) -> tuple[int, int]:
    """``size`` as ``(h, w)``: an int ``s`` means ``(s, s)``; both must be positive ints."""
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise ValueError(
                f"{name}: expected an int or a pair (h, w), got a sequence of length {len(size)}"
            )
        return check_positive_int(f"{name}[0]", size[0]), check_positive_int(f"{name}[1]", size[1])
    if isinstance(size, torch.Size):
        return _size_pair(name, tuple(size))
    value = check_positive_int(name, size)
    return value, value


def _check_mode(mode: object) -> str:
    if mode not in SPATIAL_CONSTRAINT_MODES:
        raise ValueError(f"mode: expected one of {SPATIAL_CONSTRAINT_MODES}, got {mode!r}")
    return mode


def _check_config(table: object, num_classes: object) -> tuple[tuple[int, ...] | None, int | None]:
    values = None if table is None else _as_table(table)
    if num_classes is not None:
        num_classes = check_positive_int("num_classes", num_classes)
        if values is not None and num_classes != len(values):
            raise ValueError(
                f"num_classes: expected len(table) = {len(values)} (one entry per source class), "
                f"got {num_classes}"
            )
    return values, num_classes


def _resize(masks: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    if mode == "area":
        height, width = masks.shape[-2:]
        if height % size[0] == 0 and width % size[1] == 0:
            # Same averages; avg_pool2d's CPU backward is several times faster than adaptive pooling's.
            return F.avg_pool2d(masks, kernel_size=(height // size[0], width // size[1]))
        return F.adaptive_avg_pool2d(masks, size)
    if mode == "nearest":
        return F.interpolate(masks, size=size, mode="nearest")
    # Antialiased bicubic has no bf16/fp16 CPU kernel; the maps are small, so resize them in float32.
    low_precision = masks.dtype in (torch.float16, torch.bfloat16)
    source = masks.float() if low_precision else masks
    out = F.interpolate(source, size=size, mode="bicubic", align_corners=False, antialias=True)
    return out.to(masks.dtype) if low_precision else out


def spatial_constraint(
    segmentation: torch.Tensor,
    *,
    size: int | tuple[int, int] = 8,
    table: Sequence[int] | torch.Tensor | None = FASHIONGAN_7_TO_4,
    num_classes: int | None = None,
    mode: str = "area",
    ignore_index: int | None = None,
    check_labels: bool = True,
) -> torch.Tensor:
    """FashionGAN's spatial constraint ``down-m(S0)``: merge the classes, then resize to ``size`` soft masks.

    ``out[b, m] = resize(sum_{k: table[k] = m} S[b, k], size)`` where ``S`` is the one-hot map of integer
    labels or the given probability map (section 3.2 of the paper; the official ``sr1_8.mat``).

    Args:
        segmentation: ``(B, H, W)`` integer labels or ``(B, K, H, W)`` float probabilities / one-hot maps
            (differentiable).
        size: the output size, an int ``m`` for ``m x m`` or a pair ``(h, w)``.
        table: the class merge table (``K`` entries, see
            [`merge_labels`][condgan.layers.label_maps.merge_labels]), or ``None`` to keep the ``K`` classes.
        num_classes: ``K``; required for integer labels when ``table`` is ``None``, else optional and checked.
        mode: ``"area"``, ``"bicubic"`` or ``"nearest"`` (see the module docstring).
        ignore_index: integer labels only: pixels with this label belong to no class (their cells sum to less
            than one).
        check_labels: scan integer labels once for out-of-range values.

    Returns:
        ``(B, M, h, w)`` float tensor: ``M = max(table) + 1`` (or ``K`` without a table); float32 for integer
        labels, ``segmentation.dtype`` for probability maps.

    Raises:
        TypeError: wrong argument types or dtypes.
        ValueError: wrong rank, channel count, label range, mode or size; ``num_classes`` missing or
            disagreeing with ``table``; ``ignore_index`` given with a probability map.

    Examples:
        >>> labels = torch.zeros(1, 16, 16, dtype=torch.long)
        >>> labels[:, :8] = 1  # hair in the top half
        >>> m = spatial_constraint(labels, size=2)  # [hair, face, rest, background]
        >>> m[0, :, :, 0]
        tensor([[1., 0.],
                [0., 0.],
                [0., 0.],
                [0., 1.]])
    """
    check_tensor("segmentation", segmentation)
    out_size = _size_pair("size", size)
    mode = _check_mode(mode)
    values, num_classes = _check_config(table, num_classes)
    ignore_index = _check_ignore_index(ignore_index)

    if segmentation.is_floating_point():
        check_rank("segmentation", segmentation, 4, "(B, K, H, W)")
        if ignore_index is not None:
            raise ValueError(
                "ignore_index: applies to integer (B, H, W) labels only, got a floating segmentation of "
                f"shape {tuple(segmentation.shape)}"
            )
        if values is not None:
            check_channels("segmentation", segmentation, len(values))
            masks = _merge_probabilities(segmentation, values)
        else:
            if num_classes is not None:
                check_channels("segmentation", segmentation, num_classes)
            masks = segmentation
    else:
        check_integer("segmentation", segmentation)
        check_rank(
            "segmentation", segmentation, 3, "(B, H, W) for integer labels (floating maps are (B, K, H, W))"
        )
        if values is None and num_classes is None:
            raise ValueError("num_classes: required for integer labels when table is None, got None")
        source_classes = len(values) if values is not None else num_classes
        if check_labels:
            check_label_range("segmentation", segmentation, source_classes, ignore_index)
        labels = segmentation if values is None else _merge_labels(segmentation, values, ignore_index)
        out_classes = source_classes if values is None else max(values) + 1
        masks = _one_hot(labels, out_classes, ignore_index, torch.float32)
    return _resize(masks, out_size, mode)


class SpatialConstraint(nn.Module):
    """Module form of [`spatial_constraint`][condgan.layers.spatial_constraint.spatial_constraint] with
    keyword-only configuration.

    Args:
        size: output size, ``m`` or ``(h, w)``.
        table: merge table or ``None``.
        num_classes: ``K`` (required for integer labels without a table).
        mode: ``"area"``, ``"bicubic"`` or ``"nearest"``.
        ignore_index: integer labels only: a label that belongs to no class.
        check_labels: scan integer labels for out-of-range values.

    Attributes:
        out_channels: ``M``, the number of output masks (``None`` when it depends on the input: no table and
            no ``num_classes``).

    Examples:
        >>> layer = SpatialConstraint(size=8, mode="bicubic")
        >>> layer.out_channels
        4
        >>> layer(torch.randint(0, 7, (2, 64, 64))).shape
        torch.Size([2, 4, 8, 8])
    """

    def __init__(
        self,
        *,
        size: int | tuple[int, int] = 8,
        table: Sequence[int] | torch.Tensor | None = FASHIONGAN_7_TO_4,
        num_classes: int | None = None,
        mode: str = "area",
        ignore_index: int | None = None,
        check_labels: bool = True,
    ) -> None:
        super().__init__()
        self.size = _size_pair("size", size)
        self.mode = _check_mode(mode)
        self.table, self.num_classes = _check_config(table, num_classes)
        self.ignore_index = _check_ignore_index(ignore_index)
        self.check_labels = bool(check_labels)
        if self.table is not None:
            self.out_channels: int | None = max(self.table) + 1
        else:
            self.out_channels = self.num_classes

    def forward(self, segmentation: torch.Tensor) -> torch.Tensor:
        return spatial_constraint(
            segmentation,
            size=self.size,
            table=self.table,
            num_classes=self.num_classes,
            mode=self.mode,
            ignore_index=self.ignore_index,
            check_labels=self.check_labels,
        )

    def extra_repr(self) -> str:
        return f"size={self.size}, table={self.table}, mode={self.mode!r}"
