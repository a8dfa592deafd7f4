"""Keep regions of a source segmentation in a generated one: structural identity for two-stage generators.

A shape generator redraws the whole label map, hair and face included. To keep the person, the kept classes
(e.g. hair and face) must appear in the generated map exactly where the person's own map has them, and
nowhere else; every other pixel takes the best of the classes that are not kept:

    ``out[b, :, p] = onehot(source[b, p])``                 where ``source[b, p]`` is a kept class
    ``out[b, k, p] = S[b, k, p]`` for ``k`` not kept, and the kept classes switched off, elsewhere

For logits, "switched off" is the most negative finite value of the dtype (a softmax gives them exactly zero,
products with zero stay zero); for probabilities the kept classes are zeroed and the rest renormalised. The
result is differentiable with respect to the generated map at every pixel that is not kept. With a
compositional render stage that also takes the kept regions from the source image
([`compose_regions`][condgan.layers.compose_regions] with ``keep``), hair and face come out as the input's own
pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from condgan._checks import (
    check_choice,
    check_floating,
    check_int,
    check_integer,
    check_label_range,
    check_rank,
)

__all__ = ["KEEP_MASK_KINDS", "keep_source_regions", "KeepSourceRegions"]

#: What [`keep_source_regions`][condgan.layers.keep_source_regions] reads and returns.
KEEP_MASK_KINDS: tuple[str, ...] = ("logits", "probabilities")


def _check_keep(keep: object, num_classes: int | None) -> tuple[int, ...]:
    """``keep`` as sorted distinct class indices (in ``[0, num_classes)`` when that is known)."""
    if isinstance(keep, (str, bytes)) or not isinstance(keep, (Sequence, set, frozenset)):
        raise TypeError(f"keep: expected a sequence of class indices, got {type(keep).__name__}")
    high = None if num_classes is None else num_classes - 1
    values = tuple(sorted({check_int(f"keep[{i}]", k, low=0, high=high) for i, k in enumerate(keep)}))
    if num_classes is not None and len(values) >= num_classes:
        raise ValueError(
            f"keep: expected at most {num_classes - 1} of the {num_classes} classes (the other pixels need a "
            f"class that is not kept), got {list(values)}"
        )
    return values


def _check_inputs(segmentation, source_labels, mask) -> None:
    check_rank("segmentation", segmentation, 4, "(B, K, H, W)")
    check_floating("segmentation", segmentation)
    check_rank("source_labels", source_labels, 3, "(B, H, W)")
    check_integer("source_labels", source_labels)
    check_choice("mask", mask, KEEP_MASK_KINDS)
    b, _, h, w = segmentation.shape
    if tuple(source_labels.shape) != (b, h, w):
        raise ValueError(
            f"source_labels: expected shape (B, H, W) = {(b, h, w)} to match segmentation "
            f"{tuple(segmentation.shape)}, got {tuple(source_labels.shape)}"
        )


def keep_source_regions(
    segmentation: torch.Tensor,
    source_labels: torch.Tensor,
    *,
    keep: Sequence[int] = (1, 2),
    mask: str = "logits",
    check_labels: bool = True,
) -> torch.Tensor:
    """Force the kept classes of ``source_labels`` into ``segmentation``, exactly where the source has them.

    Args:
        segmentation: ``(B, K, H, W)`` float logits or probabilities of a generated segmentation.
        source_labels: ``(B, H, W)`` integer labels in ``[0, K)`` of the person to keep.
        keep: the class indices to keep (FashionGAN: hair 1 and face 2); at least one class must stay free.
        mask: ``"logits"`` or ``"probabilities"``: how ``segmentation`` is read and the output is written.
        check_labels: scan ``source_labels`` once for out-of-range values (one device sync).

    Returns:
        ``(B, K, H, W)`` of the same kind and dtype: its argmax is the source label at every kept pixel, and a
        class that is not kept everywhere else (the best one of the generated map). ``keep=()`` returns
        ``segmentation`` unchanged.

    Raises:
        TypeError: non-floating ``segmentation``, non-integer ``source_labels``, bad ``keep`` entries.
        ValueError: wrong ranks, mismatched sizes, labels or ``keep`` out of range, every class kept.

    Examples:
        >>> logits = torch.tensor([[[[2.0, 2.0]], [[1.0, 0.0]], [[0.0, 3.0]]]])  # (1, 3, 1, 2): K = 3
        >>> source = torch.tensor([[[1, 0]]])  # the person has class 1 at pixel 0 and class 0 at pixel 1
        >>> keep_source_regions(logits, source, keep=(1,)).argmax(1)
        tensor([[[1, 2]]])
    """
    _check_inputs(segmentation, source_labels, mask)
    num_classes = segmentation.shape[1]
    keep = _check_keep(keep, num_classes)
    if not keep:
        return segmentation
    if check_labels:
        check_label_range("source_labels", source_labels, num_classes)
    kept_class = torch.zeros(num_classes, dtype=torch.bool, device=segmentation.device)
    kept_class[list(keep)] = True
    kept_pixel = kept_class[source_labels].unsqueeze(1)  # (B, 1, H, W): the source has a kept class there
    source_one_hot = F.one_hot(source_labels.long(), num_classes).permute(0, 3, 1, 2).to(segmentation.dtype)
    switched_off = kept_class.view(1, -1, 1, 1)
    if mask == "logits":
        lowest = torch.finfo(segmentation.dtype).min
        free = segmentation.masked_fill(switched_off, lowest)
        forced = torch.where(source_one_hot.bool(), torch.zeros_like(free), torch.full_like(free, lowest))
        return torch.where(kept_pixel, forced, free)
    free = segmentation.masked_fill(switched_off, 0.0)
    total = free.sum(dim=1, keepdim=True)
    # A pixel whose mass was all on kept classes gets the free classes uniformly (its argmax: the first one).
    uniform = (~switched_off).to(segmentation.dtype) / (num_classes - len(keep))
    free = torch.where(total > 0, free / total.clamp_min(torch.finfo(segmentation.dtype).tiny), uniform)
    return torch.where(kept_pixel, source_one_hot, free)


class KeepSourceRegions(nn.Module):
    """Module form of [`keep_source_regions`][condgan.layers.keep_source_regions] with a fixed ``keep``.

    Args:
        keep: the class indices taken from the source label map (FashionGAN: ``(1, 2)``, hair and face).
        mask: ``"logits"`` or ``"probabilities"``.
        check_labels: scan the source labels for out-of-range values on every call.

    Examples:
        >>> layer = KeepSourceRegions(keep=(1, 2))
        >>> out = layer(torch.randn(2, 7, 8, 8), torch.randint(0, 7, (2, 8, 8)))
        >>> out.shape
        torch.Size([2, 7, 8, 8])
    """

    def __init__(self, *, keep: Sequence[int] = (1, 2), mask: str = "logits", check_labels: bool = True):
        super().__init__()
        self.keep = _check_keep(keep, None)
        self.mask = check_choice("mask", mask, KEEP_MASK_KINDS)
        self.check_labels = bool(check_labels)

    def forward(self, segmentation: torch.Tensor, source_labels: torch.Tensor) -> torch.Tensor:
        return keep_source_regions(
            segmentation, source_labels, keep=self.keep, mask=self.mask, check_labels=self.check_labels
        )

    def extra_repr(self) -> str:
        return f"keep={self.keep}, mask={self.mask!r}"
