"""The compositional mapping layer of FashionGAN (Zhu et al., ICCV 2017, section 3.3).

The render generator's last layer emits one rendering (texture) per semantic region, ``T_k`` of shape
``(C, H, W)`` for ``k = 1..K``, and the image is composed with the segmentation masks ``S_k``:

    ``I = sum_k S_k * T_k``

so each region's texture shows only inside that region and the generated image follows the segmentation
exactly. Regions listed in ``keep`` (e.g. hair and face) take their pixels from a ``source`` image instead of
a rendering, which preserves them structurally (the official code pasted them back at test time):

    ``I = sum_{k not in keep} S_k * T_k + (sum_{k in keep} S_k) * source``

The layer is absent from the official release (its issue #5); this is the paper's description.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import einops
import torch
from torch import nn

from condgan._checks import check_floating, check_positive_int, check_rank, check_same_batch, check_tensor

__all__ = ["MASK_KINDS", "compose_regions", "blur_masks", "CompositionalMapping"]

#: What [`compose_regions`][condgan.layers.compositional.compose_regions] accepts as ``mask``: raw logits
#: (softmax over regions), probabilities, one-hot.
MASK_KINDS: tuple[str, ...] = ("logits", "probabilities", "one_hot")

# Tolerance of check_mask's sum-to-one test, by dtype.
_SUM_TOLERANCE = {torch.float64: 1e-6, torch.float32: 1e-4}


def _check_mask_kind(mask: object) -> str:
    if mask not in MASK_KINDS:
        raise ValueError(f"mask: expected one of {MASK_KINDS}, got {mask!r}")
    return mask


def _check_keep(keep: object, num_regions: int | None) -> tuple[int, ...]:
    """``keep`` as a sorted tuple of distinct region indices in ``[0, num_regions)``."""
    if isinstance(keep, (str, bytes)) or not isinstance(keep, (Sequence, set, frozenset)):
        raise TypeError(f"keep: expected a sequence of region indices, got {type(keep).__name__}")
    values = []
    for value in keep:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"keep: expected int region indices, got {type(value).__name__} {value!r}")
        if value < 0 or (num_regions is not None and value >= num_regions):
            upper = "K - 1" if num_regions is None else str(num_regions - 1)
            raise ValueError(f"keep: expected region indices in [0, {upper}], got {value}")
        values.append(value)
    return tuple(sorted(set(values)))


def _check_mask_values(weights: torch.Tensor, mask: str) -> None:
    """The optional scan behind ``check_mask=True`` (one device sync)."""
    if mask == "logits":
        if not bool(torch.isfinite(weights).all()):
            raise ValueError("segmentation: expected finite logits, got NaN or inf values")
        return
    low, high = float(weights.min()), float(weights.max())
    sums = weights.sum(1)
    if mask == "one_hot":
        if not bool(((weights == 0) | (weights == 1)).all()):
            raise ValueError(
                f"segmentation: expected a one-hot map of 0s and 1s, got values in [{low}, {high}]"
            )
        if float(sums.max()) > 1:
            raise ValueError(
                f"segmentation: expected at most one 1 per pixel in a one-hot map, got {int(sums.max())}"
            )
        return
    tolerance = _SUM_TOLERANCE.get(weights.dtype, 2e-2)
    if low < -tolerance or high > 1 + tolerance:
        raise ValueError(f"segmentation: expected probabilities in [0, 1], got values in [{low}, {high}]")
    error = float((sums - 1).abs().max())
    if error > tolerance:
        raise ValueError(
            f"segmentation: expected probabilities summing to 1 over dim 1 (tolerance {tolerance}), "
            f"got a pixel off by {error:.3g}"
        )


def compose_regions(
    renderings: torch.Tensor,
    segmentation: torch.Tensor,
    *,
    mask: str = "probabilities",
    keep: Sequence[int] = (),
    source: torch.Tensor | None = None,
    check_mask: bool = False,
    antialias: float = 0.0,
) -> torch.Tensor:
    """Compose per-region renderings with segmentation masks: ``I = sum_k S_k * T_k`` (paper section 3.3).

    Args:
        renderings: ``(B, K, C, H, W)``, or ``(B, K*C, H, W)`` region-major (channels ``k*C .. k*C + C - 1``
            are region ``k``'s rendering, i.e. ``einops.rearrange(x, "b (k c) h w -> b k c h w", k=K)``).
        segmentation: ``(B, K, H, W)`` float masks of the ``K`` regions.
        mask: how to read ``segmentation``: ``"logits"`` (a softmax over the ``K`` regions is applied),
            ``"probabilities"`` or ``"one_hot"`` (used as given; all-zero pixels of a one-hot map, e.g.
            ignored labels, compose to 0). Their sums are not checked unless ``check_mask`` is set.
        keep: region indices whose pixels come from ``source`` instead of a rendering (their renderings are
            unused and get zero gradient).
        source: ``(B, C, H, W)`` image for the kept regions; required when ``keep`` is non-empty, ignored
            otherwise.
        check_mask: scan ``segmentation`` once (one device sync): finite logits; probabilities in ``[0, 1]``
            summing to one; one-hot values in ``{0, 1}`` with at most one 1 per pixel.
        antialias: standard deviation ``sigma`` (pixels) of a Gaussian that blurs the masks before composing
            (``0``: none, the paper's layer). A hard label map composes to stair-stepped edges; photographs
            and anti-aliased drawings blend the two sides of every edge in its pixels, and ``sigma`` about
            ``0.5`` does the same (a pixel next to an edge takes about a tenth of its neighbour). The blur
            keeps masks that sum to one summing to one. Nothing is blurred into a kept region: wherever its
            unblurred mask is 1 the pixel is the source's exactly; the pixels around it blend with it.

    Returns:
        ``(B, C, H, W)`` in ``renderings.dtype`` (masks and source are cast to it).

    Raises:
        TypeError: non-tensor or non-floating inputs, bad ``keep`` entries.
        ValueError: wrong ranks; ``K`` of ``segmentation`` disagreeing with ``renderings`` (both named);
            spatial size or batch mismatch; ``keep`` index out of range; ``source`` missing or misshaped; a
            failed ``check_mask`` scan.

    Examples:
        >>> renderings = torch.stack([torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2)], dim=1)  # K=2, C=3
        >>> masks = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]]])  # (1, 2, 2, 2)
        >>> compose_regions(renderings, masks, mask="one_hot")[0, 0]
        tensor([[0., 1.],
                [1., 0.]])
    """
    check_rank("renderings", renderings, (4, 5), "(B, K, C, H, W) or (B, K*C, H, W)")
    check_floating("renderings", renderings)
    check_rank("segmentation", segmentation, 4, "(B, K, H, W)")
    check_floating("segmentation", segmentation)
    mask = _check_mask_kind(mask)
    num_regions = segmentation.shape[1]
    keep = _check_keep(keep, num_regions)

    if renderings.ndim == 5:
        if renderings.shape[1] != num_regions:
            raise ValueError(
                f"renderings: expected {num_regions} regions in dim 1 to match segmentation's {num_regions} "
                f"channels, got renderings {tuple(renderings.shape)} and segmentation "
                f"{tuple(segmentation.shape)}"
            )
        textures = renderings
    else:
        if renderings.shape[1] % num_regions != 0:
            raise ValueError(
                f"renderings: expected K*C channels with K = {num_regions} (segmentation's channels), got "
                f"{renderings.shape[1]} channels, not a multiple of {num_regions} (renderings "
                f"{tuple(renderings.shape)}, segmentation {tuple(segmentation.shape)})"
            )
        textures = einops.rearrange(renderings, "b (k c) h w -> b k c h w", k=num_regions)
    channels = textures.shape[2]
    if textures.shape[-2:] != segmentation.shape[-2:]:
        raise ValueError(
            f"segmentation: expected spatial size {tuple(textures.shape[-2:])} of renderings, got "
            f"{tuple(segmentation.shape[-2:])} (renderings {tuple(renderings.shape)}, segmentation "
            f"{tuple(segmentation.shape)})"
        )
    check_same_batch(renderings=renderings, segmentation=segmentation)

    if keep and source is None:
        raise ValueError(f"source: required when keep is non-empty (keep={keep}), got None")
    if source is not None:
        check_rank("source", source, 4, "(B, C, H, W)")
        check_floating("source", source)
        expected = (textures.shape[0], channels, *textures.shape[-2:])
        if tuple(source.shape) != expected:
            raise ValueError(f"source: expected shape {expected} (B, C, H, W), got {tuple(source.shape)}")

    sigma = _check_antialias(antialias)
    weights = segmentation.softmax(dim=1) if mask == "logits" else segmentation
    if check_mask:
        _check_mask_values(segmentation if mask == "logits" else weights, mask)
    weights = weights.to(textures.dtype)
    unblurred = weights
    if sigma > 0:
        weights = blur_masks(weights, sigma)
    # A broadcast product and a sum over k, not torch.einsum("bkhw,bkchw->bchw"): einsum lowers this to a
    # batched matmul of K-long dot products: ~5x slower forwards, 3x with backward, on CPU (docs/layers.md).
    if not keep:
        return (weights.unsqueeze(2) * textures).sum(dim=1)
    kept = torch.tensor([k in keep for k in range(num_regions)], device=weights.device).view(1, -1, 1, 1)
    free_weights = weights.masked_fill(kept, 0)
    kept_weight = weights.masked_fill(~kept, 0).sum(dim=1, keepdim=True)
    rendered = (free_weights.unsqueeze(2) * textures).sum(dim=1)
    composed = rendered + kept_weight * source.to(textures.dtype)
    if sigma == 0:
        return composed
    # Nothing is blurred into a kept region: where its unblurred mask is 1 the pixel is the source's exactly
    # (1 * source + 0 * composed); only the pixels around it blend.
    inside = unblurred.masked_fill(~kept, 0).sum(dim=1, keepdim=True)
    return inside * source.to(textures.dtype) + (1 - inside) * composed


def _check_antialias(antialias: object) -> float:
    if (
        isinstance(antialias, bool)
        or not isinstance(antialias, (int, float))
        or not math.isfinite(antialias)
        or antialias < 0
    ):
        raise ValueError(f"antialias: expected a finite Gaussian sigma >= 0 (pixels), got {antialias!r}")
    return float(antialias)


def blur_masks(masks: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of ``(B, K, H, W)`` masks, standard deviation ``sigma`` pixels, borders replicated.

    The kernel is ``2 * ceil(2 sigma) + 1`` wide and sums to one, so masks that sum to one at every pixel
    still do. This is the ``antialias`` of [`compose_regions`][condgan.layers.compositional.compose_regions].

    Examples:
        >>> masks = torch.zeros(1, 2, 1, 4)
        >>> masks[:, 0, :, :2], masks[:, 1, :, 2:] = 1.0, 1.0  # a vertical edge between pixels 1 and 2
        >>> blur_masks(masks, 0.5)[0, 0, 0]
        tensor([1.0000, 0.8935, 0.1065, 0.0000])
    """
    check_rank("masks", masks, 4, "(B, K, H, W)")
    check_floating("masks", masks)
    sigma = _check_antialias(sigma)
    if sigma == 0:
        return masks
    import kornia.filters  # here, not at module level: importing condgan.layers needs no kornia

    size = 2 * math.ceil(2 * sigma) + 1
    return kornia.filters.gaussian_blur2d(masks, (size, size), (sigma, sigma), border_type="replicate")


class CompositionalMapping(nn.Module):
    """Module form of [`compose_regions`][condgan.layers.compositional.compose_regions] with a fixed number of
    regions and channels.

    Put it after a generator trunk whose last layer has `in_channels` ``= num_regions * channels``
    outputs (one ``channels``-channel rendering per region) and feed it the segmentation to follow.

    Args:
        num_regions: ``K``, the number of segmentation regions.
        channels: ``C``, the channels of each rendering (3 for RGB).
        mask: how to read the segmentation: ``"logits"``, ``"probabilities"`` or ``"one_hot"``.
        keep: region indices taken from ``source`` (e.g. ``(1, 2)`` for hair and face).
        check_mask: scan the segmentation values on every call (see
            [`compose_regions`][condgan.layers.compositional.compose_regions]).
        antialias: Gaussian sigma (pixels) of the masks' blur before composing (0: none).

    Attributes:
        in_channels: ``K * C``, the channel count of 4-d renderings.

    Examples:
        >>> layer = CompositionalMapping(num_regions=7, channels=3, mask="logits")
        >>> layer.in_channels
        21
        >>> layer(torch.randn(2, 21, 16, 16), torch.randn(2, 7, 16, 16)).shape
        torch.Size([2, 3, 16, 16])
    """

    def __init__(
        self,
        *,
        num_regions: int,
        channels: int = 3,
        mask: str = "logits",
        keep: Sequence[int] = (),
        check_mask: bool = False,
        antialias: float = 0.0,
    ) -> None:
        super().__init__()
        self.antialias = _check_antialias(antialias)
        self.num_regions = check_positive_int("num_regions", num_regions)
        self.channels = check_positive_int("channels", channels)
        self.mask = _check_mask_kind(mask)
        self.keep = _check_keep(keep, self.num_regions)
        self.check_mask = bool(check_mask)
        self.in_channels = self.num_regions * self.channels

    def forward(
        self, renderings: torch.Tensor, segmentation: torch.Tensor, source: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_tensor("renderings", renderings)
        check_tensor("segmentation", segmentation)
        if segmentation.ndim >= 2 and segmentation.shape[1] != self.num_regions:
            raise ValueError(
                f"segmentation: expected {self.num_regions} region channels in dim 1 (num_regions), "
                f"got shape {tuple(segmentation.shape)}"
            )
        if renderings.ndim == 4 and renderings.shape[1] != self.in_channels:
            raise ValueError(
                f"renderings: expected {self.in_channels} = num_regions * channels = {self.num_regions} * "
                f"{self.channels} channels, got shape {tuple(renderings.shape)}"
            )
        if renderings.ndim == 5 and tuple(renderings.shape[1:3]) != (self.num_regions, self.channels):
            raise ValueError(
                f"renderings: expected (B, {self.num_regions}, {self.channels}, H, W) (num_regions, "
                f"channels), got shape {tuple(renderings.shape)}"
            )
        return compose_regions(
            renderings,
            segmentation,
            mask=self.mask,
            keep=self.keep,
            source=source,
            check_mask=self.check_mask,
            antialias=self.antialias,
        )

    def extra_repr(self) -> str:
        extra = f", antialias={self.antialias}" if self.antialias else ""
        return (
            f"num_regions={self.num_regions}, channels={self.channels}, mask={self.mask!r}, keep={self.keep}"
            + extra
        )
