"""Stage 1's cross-entropy weighted where a short sleeve ends (``train.shape_sleeve_edge_weight``).

At 64x64 a short sleeve is a few pixels on the upper arm, and stage 1 drew many as 2-3 pixel caps that read as
sleeveless. Weighting the band where upper clothes meet arms in the short-sleeved samples gained category
(+0.01 to +0.05) and FD (2-4 lower) on two stage-1 seeds with the same render, sleeve over all unchanged;
three renders trained on the weighted stage 1's maps gave sleeve 0.896-0.936, category 0.316-0.361 (0.335
on average against 0.351 on the preset's stage 1) and one draw with solid colour 0.90, so every preset
leaves it off (docs/fashiongan.md, "Three tries on the last sleeve"). Sleeveless samples keep weight 1:
weighting their armholes as well made stage 1 leave caps there.
"""

from __future__ import annotations

import torch

from condgan.layers import class_boundary

from ..data.contract import LABEL_NAMES, SLEEVE_NAMES

__all__ = ["sleeve_edge_weights", "UPPER_CLOTHES", "ARMS", "SHORT_SLEEVE"]

#: Label ids of the two classes whose common edge is weighted.
UPPER_CLOTHES = LABEL_NAMES.index("upper clothes")
ARMS = LABEL_NAMES.index("arms")
#: The sleeve class whose edge is weighted.
SHORT_SLEEVE = SLEEVE_NAMES.index("short-sleeved")


def sleeve_edge_weights(labels: torch.Tensor, sleeve: torch.Tensor, weight: float) -> torch.Tensor:
    """Per-pixel weights ``(B, H, W)``, mean 1: ``1 + weight`` on the upper-clothes / arms edge of each
    short-sleeved sample, 1 elsewhere, then divided by their mean.

    Args:
        labels: ``(B, H, W)`` the true label maps (official ids).
        sleeve: ``(B,)`` the samples' sleeve classes (0-based, ``SLEEVE_NAMES``).
        weight: the extra weight (>= 0; 0 gives all ones).

    Examples:
        >>> labels = torch.tensor([[[3, 3, 6, 6]], [[3, 3, 6, 6]]])  # (2, 1, 4): a torso and an arm
        >>> sleeve_edge_weights(labels, torch.tensor([1, 0]), 3.0)  # short-sleeved, then long
        tensor([[[0.5714, 2.2857, 2.2857, 0.5714]],
        <BLANKLINE>
                [[0.5714, 0.5714, 0.5714, 0.5714]]])
    """
    if sleeve.shape != labels.shape[:1]:
        raise ValueError(
            f"sleeve: expected one class per label map, shape ({labels.shape[0]},), got {tuple(sleeve.shape)}"
        )
    band = class_boundary(labels, UPPER_CLOTHES, ARMS)
    short = (sleeve.to(labels.device) == SHORT_SLEEVE).view(-1, 1, 1)
    weights = 1.0 + weight * (band & short).float()
    return weights / weights.mean()
