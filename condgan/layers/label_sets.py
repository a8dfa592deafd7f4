"""Human-parsing label sets people parse photos with, and their merge tables to the seven FashionGAN labels.

FashionGAN's label ids: 0 background, 1 hair, 2 face, 3 upper clothes, 4 lower clothes / dress, 5 legs and
shoes, 6 arms. A parse in another label set becomes a FashionGAN label map with
[`merge_labels`][condgan.layers.merge_labels] and one of the tables here (or, for DeepFashion-MultiModal, with
[`deepfashion_mm_to_fashiongan`][condgan.layers.label_sets.deepfashion_mm_to_fashiongan], which also splits
its single "skin" class into arms and legs). The choices follow the official FashionGAN conversion of ATR
parses (``label_assign`` in ``complete_demo/script2.m``, condgan's ``ATR_18_TO_7``): hats count as hair,
sunglasses as face, scarves as upper clothes, dresses, belts and bags as lower clothes, shoes as legs.

Sources of the label sets:

- **LIP** (Look Into Person; Gong et al., CVPR 2017): 20 ids, 0 background .. 19 right shoe, as its dataset
  release and the parsers trained on it (SCHP's ``--dataset lip``) number them.
- **DeepFashion-MultiModal** (Jiang et al., Text2Human, SIGGRAPH 2022): 24 ids, as its README's "Human Parsing
  Label" table numbers them (``yumingj/DeepFashion-MultiModal``).
"""

from __future__ import annotations

import torch

from condgan._checks import check_integer, check_label_range, check_rank

__all__ = [
    "LIP_LABELS",
    "LIP_20_TO_7",
    "DEEPFASHION_MM_LABELS",
    "DEEPFASHION_MM_24_TO_7",
    "deepfashion_mm_to_fashiongan",
]

#: LIP's 20 labels; id ``k`` is ``LIP_LABELS[k]``.
LIP_LABELS: tuple[str, ...] = (
    "background",
    "hat",
    "hair",
    "glove",
    "sunglasses",
    "upper_clothes",
    "dress",
    "coat",
    "socks",
    "pants",
    "jumpsuits",
    "scarf",
    "skirt",
    "face",
    "left_arm",
    "right_arm",
    "left_leg",
    "right_leg",
    "left_shoe",
    "right_shoe",
)

#: LIP id -> FashionGAN label: hat, hair -> hair; sunglasses, face -> face; upper clothes, coat, scarf ->
#: upper clothes; dress, pants, jumpsuits, skirt -> lower clothes; socks, legs, shoes -> legs; gloves, arms ->
#: arms.
LIP_20_TO_7: tuple[int, ...] = (0, 1, 1, 6, 2, 3, 4, 3, 5, 4, 4, 3, 4, 2, 6, 6, 5, 5, 5, 5)

#: DeepFashion-MultiModal's 24 labels; id ``k`` is ``DEEPFASHION_MM_LABELS[k]``.
DEEPFASHION_MM_LABELS: tuple[str, ...] = (
    "background",
    "top",
    "outer",
    "skirt",
    "dress",
    "pants",
    "leggings",
    "headwear",
    "eyeglass",
    "neckwear",
    "belt",
    "footwear",
    "bag",
    "hair",
    "face",
    "skin",
    "ring",
    "wrist_wearing",
    "socks",
    "gloves",
    "necklace",
    "rompers",
    "earrings",
    "tie",
)

DEEPFASHION_MM_24_TO_7: tuple[int, ...] = (
    0,
    3,
    3,
    4,
    4,
    4,
    4,
    1,
    2,
    3,
    4,
    5,
    4,
    1,
    2,
    6,
    6,
    6,
    5,
    6,
    3,
    4,
    2,
    3,
)
"""DeepFashion-MultiModal id -> FashionGAN label: top, outer, neckwear, necklace, tie -> upper clothes;
skirt, dress, pants, leggings, belt, bag, rompers -> lower clothes; headwear, hair -> hair; eyeglass, face,
earrings -> face; footwear, socks -> legs; skin, ring, wrist wearing, gloves -> arms (skin covers legs too:
[`deepfashion_mm_to_fashiongan`][condgan.layers.label_sets.deepfashion_mm_to_fashiongan] splits it)."""

_DF_SKIN = DEEPFASHION_MM_LABELS.index("skin")
_LOWER, _LEGS, _ARMS = 4, 5, 6


def deepfashion_mm_to_fashiongan(labels: torch.Tensor) -> torch.Tensor:
    """A DeepFashion-MultiModal parse ``(B, H, W)`` (ids 0..23) as FashionGAN labels ``(B, H, W)`` (0..6).

    Every class maps through [`DEEPFASHION_MM_24_TO_7`][condgan.layers.label_sets.DEEPFASHION_MM_24_TO_7],
    except "skin", which DeepFashion-MultiModal does not split into arms and legs: a skin pixel is legs when
    it lies below the top row of the person's lower garment or shoes, arms otherwise (arms when the parse
    shows neither).

    Raises:
        TypeError: non-integer labels.
        ValueError: not ``(B, H, W)``, or an id outside 0..23.

    Examples:
        >>> parse = torch.tensor([[[13, 14], [15, 15], [5, 15]]])  # hair face / skin skin / pants skin
        >>> deepfashion_mm_to_fashiongan(parse)
        tensor([[[1, 2],
                 [6, 6],
                 [4, 5]]])
    """
    check_rank("labels", labels, 3, "(B, H, W)")
    check_integer("labels", labels)
    check_label_range("labels", labels, len(DEEPFASHION_MM_LABELS))
    table = torch.tensor(DEEPFASHION_MM_24_TO_7, dtype=torch.long, device=labels.device)
    out = table[labels.long()]
    lower = (out == _LOWER) | (out == _LEGS)
    rows = torch.arange(labels.shape[1], device=labels.device).view(1, -1, 1)
    # The first row holding lower clothes or shoes, per person (H when there is none).
    first = torch.where(lower.any(2), rows.squeeze(2), labels.shape[1]).min(1).values.view(-1, 1, 1)
    skin = labels == _DF_SKIN
    return torch.where(skin & (rows >= first), torch.full_like(out, _LEGS), out)
