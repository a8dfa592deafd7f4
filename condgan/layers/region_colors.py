"""Per-region base colours for compositional rendering: from a code, or anchored to measured colours.

A compositional generator renders one texture ``T_k`` per region and composes them with the segmentation
([`compose_regions`][condgan.layers.compose_regions]). Colour is the attribute a sentence controls most and a
person's skin and hair are what must not change, yet a U-Net trained for minutes mixes both into its textures.
This layer gives every region a base colour and lets the network render only the residual (shading, folds,
prints):

    ``T_k = c_k + R_k``, with ``c_k = tanh(W_k d + b_k)`` for a free region and ``c_k = a_{s(k)}`` for an
    anchored one,

where ``d`` is the code and ``a`` are colours measured from the input (e.g. the person's skin and hair
colour): anchored regions (face, arms, legs -> skin; hair -> hair) get the person's own colour whatever the
sentence, and a garment region's colour is a direct function of the code.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from condgan._checks import check_floating, check_int, check_positive_int, check_rank, check_same_batch

__all__ = ["RegionColors", "add_region_colors"]


def add_region_colors(renderings: torch.Tensor, colors: torch.Tensor) -> torch.Tensor:
    """``T_k = c_k + R_k``: add one colour per region to per-region renderings.

    Args:
        renderings: ``(B, K, C, H, W)`` residual renderings.
        colors: ``(B, K, C)`` base colours.

    Returns:
        ``(B, K, C, H, W)``.

    Examples:
        >>> add_region_colors(torch.zeros(1, 2, 3, 4, 4), torch.ones(1, 2, 3))[0, 1, :, 0, 0]
        tensor([1., 1., 1.])
    """
    check_rank("renderings", renderings, 5, "(B, K, C, H, W)")
    check_rank("colors", colors, 3, "(B, K, C)")
    check_floating("renderings", renderings)
    check_floating("colors", colors)
    if tuple(colors.shape) != tuple(renderings.shape[:3]):
        raise ValueError(
            f"colors: expected shape (B, K, C) = {tuple(renderings.shape[:3])} of renderings "
            f"{tuple(renderings.shape)}, got {tuple(colors.shape)}"
        )
    return renderings + colors.to(renderings.dtype)[..., None, None]


class RegionColors(nn.Module):
    """Base colour of every region: learned from a code, or copied from measured anchor colours.

    Args:
        code_dim: ``D``, the width of the code the free colours are predicted from.
        num_regions: ``K``.
        channels: ``C`` (3 for RGB).
        anchors: region index -> anchor slot: region ``k`` takes ``anchor_colors[:, anchors[k]]``.

    Attributes:
        num_anchors: how many anchor slots ``forward`` expects (``max(anchors.values()) + 1``, 0 without).

    Shapes:
        ``code (B, D)``, ``anchor_colors (B, num_anchors, C)`` -> ``(B, K, C)``, free colours in ``(-1, 1)``.

    Examples:
        >>> colors = RegionColors(code_dim=5, num_regions=4, anchors={2: 0})
        >>> skin = torch.full((2, 1, 3), 0.3)
        >>> out = colors(torch.randn(2, 5), skin)
        >>> out.shape, bool((out[:, 2] == 0.3).all())
        (torch.Size([2, 4, 3]), True)
    """

    def __init__(
        self,
        *,
        code_dim: int,
        num_regions: int,
        channels: int = 3,
        anchors: Mapping[int, int] | None = None,
    ) -> None:
        super().__init__()
        self.code_dim = check_positive_int("code_dim", code_dim)
        self.num_regions = check_positive_int("num_regions", num_regions)
        self.channels = check_positive_int("channels", channels)
        anchors = {} if anchors is None else dict(anchors)
        for region, slot in anchors.items():
            check_int(f"anchors key {region!r}", region, low=0, high=num_regions - 1)
            check_int(f"anchors[{region}]", slot, low=0)
        self.anchors = dict(sorted(anchors.items()))
        self.num_anchors = max(self.anchors.values()) + 1 if self.anchors else 0
        self.linear = nn.Linear(code_dim, num_regions * channels)
        nn.init.zeros_(self.linear.weight)  # start from grey (0) and let the code move each region's colour
        nn.init.zeros_(self.linear.bias)
        index = torch.full((num_regions,), -1, dtype=torch.long)
        for region, slot in self.anchors.items():
            index[region] = slot
        self.register_buffer("anchor_index", index, persistent=False)

    def forward(self, code: torch.Tensor, anchor_colors: torch.Tensor | None = None) -> torch.Tensor:
        check_rank("code", code, 2, f"(B, {self.code_dim})")
        check_floating("code", code)
        if code.shape[1] != self.code_dim:
            raise ValueError(f"code: expected shape (B, {self.code_dim}), got {tuple(code.shape)}")
        free = torch.tanh(self.linear(code)).view(-1, self.num_regions, self.channels)
        if not self.num_anchors:
            return free
        expected = (code.shape[0], self.num_anchors, self.channels)
        if anchor_colors is None or tuple(anchor_colors.shape) != expected:
            got = None if anchor_colors is None else tuple(anchor_colors.shape)
            raise ValueError(f"anchor_colors: expected shape (B, num_anchors, C) = {expected}, got {got}")
        check_floating("anchor_colors", anchor_colors)
        check_same_batch(code=code, anchor_colors=anchor_colors)
        anchored = self.anchor_index >= 0
        picked = anchor_colors.to(free.dtype)[:, self.anchor_index.clamp_min(0)]  # (B, K, C)
        return torch.where(anchored.view(1, -1, 1), picked, free)

    def extra_repr(self) -> str:
        return f"code_dim={self.code_dim}, num_regions={self.num_regions}, anchors={self.anchors}"
