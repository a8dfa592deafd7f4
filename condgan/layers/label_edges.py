"""Where two classes of a label map meet: a thin band along their common edge.

A sleeve's length is decided by a few pixels: where the upper garment ends on the arm. A per-pixel loss
averaged over a whole segmentation hardly sees them, so a recipe may weight that band more
([`segmentation_cross_entropy`][condgan.losses.segmentation_cross_entropy] takes per-pixel weights). The band
is found with two max-pools, one per class: a pixel is in it when its ``(2r+1) x (2r+1)`` neighbourhood holds
both classes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from condgan._checks import check_int, check_integer, check_rank, check_tensor

__all__ = ["class_boundary"]


def class_boundary(labels: torch.Tensor, first: int, second: int, *, radius: int = 1) -> torch.Tensor:
    """The pixels within ``radius`` (8-neighbourhood steps) of a ``first`` pixel and of a ``second`` pixel.

    Args:
        labels: ``(B, H, W)`` integer label map.
        first: one class id (>= 0).
        second: another class id (>= 0, not ``first``).
        radius: how far from each class a pixel may be (>= 1): the band is about ``2 * radius`` pixels wide,
            on both sides of the edge.

    Returns:
        ``(B, H, W)`` bool, symmetric in ``first`` and ``second``; all False where either class is absent.

    Raises:
        TypeError: non-integer ``labels`` or non-int class ids or radius.
        ValueError: ``labels`` not ``(B, H, W)``, negative ids, ``first == second``, ``radius < 1``.

    Examples:
        >>> labels = torch.tensor([[[3, 3, 6, 6, 0]]])  # upper clothes, then arm, then background
        >>> class_boundary(labels, 3, 6).int()
        tensor([[[0, 1, 1, 0, 0]]], dtype=torch.int32)
        >>> class_boundary(labels, 3, 6, radius=2).int()
        tensor([[[1, 1, 1, 1, 0]]], dtype=torch.int32)
    """
    check_tensor("labels", labels)
    check_integer("labels", labels)
    check_rank("labels", labels, 3, "(B, H, W)")
    first = check_int("first", first, low=0)
    second = check_int("second", second, low=0)
    if first == second:
        raise ValueError(f"second: expected a class other than first ({first}), got {second}")
    radius = check_int("radius", radius, low=1)
    both = torch.stack([labels == first, labels == second], dim=1).float()  # (B, 2, H, W)
    near = F.max_pool2d(both, 2 * radius + 1, stride=1, padding=radius) > 0
    return near[:, 0] & near[:, 1]
