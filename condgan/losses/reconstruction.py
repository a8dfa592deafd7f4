"""Reconstruction terms of the FashionGAN generators, as the official code (zhusz/ICCV17-fashionGAN) has them.

* Stage 1: cross-entropy between the 7-channel segmentation logits and the ground-truth label map, weight 100
  (official ``cudnn.SpatialCrossEntropyCriterion`` in ``sr1/train.lua``, mean over pixels).
* Stage 2: mean absolute error between the generated and the real image, weight 100 (official
  ``nn.AbsCriterion`` in ``ih1/train.lua``).

The weights belong to the recipe; these functions return the unweighted means.
``l1_reconstruction(..., downsample=f)`` compares ``f x f`` block means instead of pixels: it ties colours and
layout to the real image and leaves finer texture (prints) to the adversarial term, whose gradient a pixel L1
at weight 100 otherwise outweighs (not official).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from condgan._checks import (
    check_floating,
    check_integer,
    check_label_range,
    check_positive_int,
    check_rank,
    check_tensor,
)

__all__ = ["segmentation_cross_entropy", "l1_reconstruction", "SegmentationCrossEntropy", "L1Reconstruction"]


def segmentation_cross_entropy(
    logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    ignore_index: int | None = None,
    check_labels: bool = True,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Per-pixel cross-entropy ``-mean_{b,y,x} log softmax(logits)[labels]``.

    With ``weight`` each pixel's cross-entropy is scaled first, ``mean_{b,y,x} w_{b,y,x} CE_{b,y,x}`` over the
    counted pixels, so a weight of 1 everywhere is the plain loss (the mean is not renormalised by the
    weights, as in [`l1_reconstruction`][condgan.losses.l1_reconstruction]).

    Args:
        logits: ``(B, K, H, W)`` unnormalised class scores.
        labels: ``(B, H, W)`` integer labels in ``[0, K)`` (``ignore_index`` excepted), or ``(B, K, H, W)``
            float class probabilities / one-hot maps (soft targets; ``ignore_index`` must be ``None``).
        ignore_index: a label value excluded from the mean.
        check_labels: scan integer labels for out-of-range values first (a clear error instead of a CUDA
            device assert); switch off in a hot loop whose labels are known good.
        weight: ``(B, H, W)`` non-negative per-pixel weights, e.g. more on the thin band where two classes
            meet ([`class_boundary`][condgan.layers.class_boundary]).

    Returns:
        A scalar (mean over the counted pixels).

    Examples:
        >>> logits = torch.zeros(1, 4, 2, 2)  # uniform over 4 classes
        >>> labels = torch.zeros(1, 2, 2, dtype=torch.long)
        >>> round(float(segmentation_cross_entropy(logits, labels)), 4)  # log 4
        1.3863
        >>> only_one = torch.tensor([[[2.0, 0.0], [0.0, 0.0]]])  # one pixel of four, weighted 2
        >>> round(float(segmentation_cross_entropy(logits, labels, weight=only_one)), 4)  # log 4 * 2 / 4
        0.6931
    """
    check_rank("logits", logits, 4, "(B, K, H, W)")
    check_floating("logits", logits)
    if logits.numel() == 0:
        raise ValueError(f"logits: expected a non-empty batch, got shape {tuple(logits.shape)}")
    check_tensor("labels", labels)
    if labels.is_floating_point():
        if labels.shape != logits.shape:
            raise ValueError(
                f"labels: expected soft targets of the logits' shape {tuple(logits.shape)}, "
                f"got {tuple(labels.shape)}"
            )
        if ignore_index is not None:
            raise ValueError(f"ignore_index: expected None with soft (float) labels, got {ignore_index}")
        if weight is None:
            return F.cross_entropy(logits, labels)
        _check_pixel_weight(weight, logits)
        return (F.cross_entropy(logits, labels, reduction="none") * weight.to(logits.dtype)).mean()
    check_integer("labels", labels)
    b, k, h, w = logits.shape
    if labels.shape != (b, h, w):
        raise ValueError(
            f"labels: expected shape (B, H, W) = {(b, h, w)} to match logits, got {tuple(labels.shape)}"
        )
    if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, int)):
        raise TypeError(f"ignore_index: expected an int or None, got {type(ignore_index).__name__}")
    if check_labels:
        check_label_range("labels", labels, k, ignore_index)
    ignore = -100 if ignore_index is None else ignore_index
    if weight is None:
        return F.cross_entropy(logits, labels.long(), ignore_index=ignore)
    _check_pixel_weight(weight, logits)
    per_pixel = F.cross_entropy(logits, labels.long(), ignore_index=ignore, reduction="none")
    counted = labels != ignore
    # The plain loss's mean over the counted pixels (NaN when none is counted, as F.cross_entropy gives).
    return (per_pixel * weight.to(per_pixel.dtype)).sum() / counted.sum()


def _check_pixel_weight(weight: object, like: torch.Tensor) -> None:
    """``weight``: a floating ``(B, H, W)`` tensor for the ``(B, C, H, W)`` tensor ``like``."""
    check_tensor("weight", weight)
    check_floating("weight", weight)
    expected = (like.shape[0], *like.shape[-2:])
    if tuple(weight.shape) != expected:
        raise ValueError(f"weight: expected shape (B, H, W) = {expected}, got {tuple(weight.shape)}")


def l1_reconstruction(
    pred: torch.Tensor,
    target: torch.Tensor,
    *,
    downsample: int = 1,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean absolute error ``mean |pool(pred) - pool(target)|``, ``pool`` the ``downsample``-fold block mean.

    With ``weight`` each pixel's error is scaled first: ``mean_{b,c,y,x} w_{b,y,x} |pred - target|``, so a
    weight of 1 everywhere is the plain L1 and a weight of 0.3 on a region makes the reconstruction hold
    that region a third as firmly (the mean is over all pixels, not renormalised by the weights).

    Args:
        pred: ``(B, ...)`` generated tensor (e.g. ``(B, 3, H, W)`` images in ``[-1, 1]``).
        target: the real tensor of the same shape.
        downsample: ``1`` compares pixels; ``f > 1`` compares the means of ``f x f`` blocks, so needs
            ``(B, C, H, W)`` inputs with ``H`` and ``W`` divisible by ``f``.
        weight: ``(B, H, W)`` non-negative per-pixel weights for ``(B, C, H, W)`` inputs (``downsample``
            must be 1), e.g. a table of weights per segmentation label indexed by the label map.

    Examples:
        >>> float(l1_reconstruction(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.0, 0.0]])))
        1.0
        >>> stripes = torch.tensor([[[[1.0, -1.0], [1.0, -1.0]]]])  # (1, 1, 2, 2): mean 0
        >>> float(l1_reconstruction(stripes, torch.zeros(1, 1, 2, 2), downsample=2))
        0.0
        >>> half = torch.tensor([[[0.0, 1.0], [0.0, 1.0]]])  # (1, 2, 2): only the right column counts
        >>> float(l1_reconstruction(stripes, torch.zeros(1, 1, 2, 2), weight=half))
        0.5
    """
    check_tensor("pred", pred)
    check_floating("pred", pred)
    check_tensor("target", target)
    check_floating("target", target)
    if pred.shape != target.shape:
        raise ValueError(f"target: expected the shape of pred {tuple(pred.shape)}, got {tuple(target.shape)}")
    if pred.numel() == 0:
        raise ValueError(f"pred: expected a non-empty tensor, got shape {tuple(pred.shape)}")
    check_positive_int("downsample", downsample)
    if weight is not None:
        check_tensor("weight", weight)
        check_rank("pred", pred, 4, "(B, C, H, W) with a weight")
        _check_pixel_weight(weight, pred)
        if downsample > 1:
            raise ValueError(
                f"weight: expected downsample=1 with per-pixel weights, got downsample={downsample}"
            )
        return ((pred - target).abs() * weight.unsqueeze(1).to(pred.dtype)).mean()
    if downsample > 1:
        check_rank("pred", pred, 4, "(B, C, H, W) when downsample > 1")
        h, w = pred.shape[-2:]
        if h % downsample or w % downsample:
            raise ValueError(f"pred: expected H and W divisible by downsample={downsample}, got ({h}, {w})")
        pred = F.avg_pool2d(pred, downsample)
        target = F.avg_pool2d(target, downsample)
    return F.l1_loss(pred, target)


class SegmentationCrossEntropy(nn.Module):
    """Module form of
    [`segmentation_cross_entropy`][condgan.losses.reconstruction.segmentation_cross_entropy].

    Examples:
        >>> SegmentationCrossEntropy()(torch.zeros(1, 2, 1, 1), torch.ones(1, 1, 1, dtype=torch.long))
        tensor(0.6931)
    """

    def __init__(self, *, ignore_index: int | None = None, check_labels: bool = True) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.check_labels = check_labels

    def forward(
        self, logits: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        return segmentation_cross_entropy(
            logits, labels, ignore_index=self.ignore_index, check_labels=self.check_labels, weight=weight
        )


class L1Reconstruction(nn.Module):
    """Module form of [`l1_reconstruction`][condgan.losses.reconstruction.l1_reconstruction].

    Examples:
        >>> L1Reconstruction()(torch.ones(2, 3), torch.zeros(2, 3))
        tensor(1.)
    """

    def __init__(self, *, downsample: int = 1) -> None:
        super().__init__()
        self.downsample = check_positive_int("downsample", downsample)

    def forward(
        self, pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        return l1_reconstruction(pred, target, downsample=self.downsample, weight=weight)

    def extra_repr(self) -> str:
        return f"downsample={self.downsample}" if self.downsample > 1 else ""
