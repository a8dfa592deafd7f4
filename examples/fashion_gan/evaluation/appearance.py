"""Reading generated people without any network: region colours in CIELAB and label-map overlaps.

These readers judge identity and colour control from pixels and label maps alone, so a weak detector cannot
hide (or fake) a result:

- [`identity_scores`][fashion_gan.evaluation.appearance.identity_scores]: is it the same person? IoU of
  hair + face and of the background between the generated and the input label map; CIELAB distance (Delta E
  76) between the mean colour of the generated and the input person's hair, face and visible arm skin.
- [`garment_colour_hits`][fashion_gan.evaluation.appearance.garment_colour_hits]: is the garment the colour
  the sentence names? The median colour of the generated upper-garment region, mapped to the nearest of the
  official solid colours in CIELAB.
- [`print_scores`][fashion_gan.evaluation.appearance.print_scores]: does a "multicolor" garment show a print?
  How sharply the colour changes between neighbouring pixels inside the garment.

Legs are not scored as skin: the legs label holds the shoes too.
"""

from __future__ import annotations

import torch
from kornia.color import rgb_to_lab

__all__ = [
    "HAIR",
    "FACE",
    "UPPER",
    "ARMS",
    "lab_images",
    "region_mean_lab",
    "identity_scores",
    "garment_colour_hits",
    "print_scores",
    "solid_palette_lab",
]

BACKGROUND, HAIR, FACE, UPPER, LOWER, LEGS, ARMS = range(7)
#: Fewer pixels than this make a region "absent" (its colour is not scored).
MIN_PIXELS = 4


def lab_images(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 RGB ``(B, 3, H, W)`` -> CIELAB ``(B, 3, H, W)`` float32 (L in [0, 100])."""
    return rgb_to_lab(images_u8.float() / 255.0)


def region_mean_lab(lab: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean CIELAB ``(B, 3)`` of ``lab`` ``(B, 3, H, W)`` over ``mask`` ``(B, H, W)``; NaN: too few pixels."""
    weight = mask.unsqueeze(1).float()
    count = weight.sum(dim=(2, 3))
    mean = (lab * weight).sum(dim=(2, 3)) / count.clamp_min(1)
    return torch.where(count >= MIN_PIXELS, mean, torch.full_like(mean, float("nan")))


def _iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    inter = (a & b).flatten(1).sum(1).float()
    union = (a | b).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union))


def identity_scores(
    images_u8: torch.Tensor,
    labels: torch.Tensor,
    people_u8: torch.Tensor,
    people_labels: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """Per-person identity scores of generated people against the input people.

    Args:
        images_u8: ``(B, 3, H, W)`` generated images.
        labels: ``(B, H, W)`` their label maps (stage 1's output, or a parser's reading for One-Step).
        people_u8: ``(B, 3, H, W)`` the input people.
        people_labels: ``(B, H, W)`` their label maps.

    Returns:
        ``(B,)`` tensors: ``hair_face_iou`` and ``background_iou`` (of the label maps), ``hair_delta_e``,
        ``face_delta_e`` and ``skin_delta_e`` (CIELAB distance of mean colours; the input's skin is the mean
        of its arms, or of its face when it shows no arms; NaN where the generated region is absent).

    Examples:
        >>> people = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
        >>> labels = torch.randint(0, 7, (2, 8, 8))
        >>> scores = identity_scores(people, labels, people, labels)
        >>> float(scores["hair_face_iou"].min()), float(scores["background_iou"].min())
        (1.0, 1.0)
    """
    lab, lab_in = lab_images(images_u8), lab_images(people_u8)
    out = {
        "hair_face_iou": _iou(
            (labels == HAIR) | (labels == FACE), (people_labels == HAIR) | (people_labels == FACE)
        ),
        "background_iou": _iou(labels == BACKGROUND, people_labels == BACKGROUND),
    }
    for name, label in (("hair", HAIR), ("face", FACE)):
        delta = region_mean_lab(lab, labels == label) - region_mean_lab(lab_in, people_labels == label)
        out[f"{name}_delta_e"] = delta.norm(dim=1)
    arms_in = region_mean_lab(lab_in, people_labels == ARMS)
    skin_in = torch.where(arms_in.isnan(), region_mean_lab(lab_in, people_labels == FACE), arms_in)
    out["skin_delta_e"] = (region_mean_lab(lab, labels == ARMS) - skin_in).norm(dim=1)
    return out


def solid_palette_lab(palette_rgb) -> torch.Tensor:
    """CIELAB ``(N, 3)`` of RGB colours in ``[0, 1]`` (``None`` entries, e.g. multicolor, become NaN rows)."""
    rows = [
        torch.full((3,), float("nan")) if c is None else torch.tensor(c, dtype=torch.float32)
        for c in palette_rgb
    ]
    rgb = torch.stack(rows).view(-1, 3, 1, 1)
    lab = rgb_to_lab(rgb.nan_to_num(0.0)).view(-1, 3)
    return torch.where(rgb.view(-1, 3).isnan(), torch.full_like(lab, float("nan")), lab)


def garment_colour_hits(
    images_u8: torch.Tensor, labels: torch.Tensor, target: torch.Tensor, palette_lab: torch.Tensor
) -> torch.Tensor:
    """Whether the generated upper garment shows the target colour: ``(B,)`` float 1/0 (NaN: no garment).

    The per-channel median CIELAB over the pixels labelled upper clothes is mapped to the nearest palette
    colour; ``target`` ``(B,)`` holds palette indices (rows of ``palette_lab`` that are NaN never match).
    """
    lab = lab_images(images_u8)
    hits = torch.full((lab.shape[0],), float("nan"))
    valid = ~palette_lab.isnan().any(1)
    candidates = palette_lab[valid]
    index = torch.nonzero(valid).flatten()
    for b in range(lab.shape[0]):
        region = labels[b] == UPPER
        if int(region.sum()) < MIN_PIXELS:
            continue
        median = lab[b][:, region].median(dim=1).values
        nearest = index[(candidates - median).norm(dim=1).argmin()]
        hits[b] = float(nearest == target[b])
    return hits


def print_scores(images_u8: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """How sharply the colour changes inside the upper garment, ``(B,)``: a print's stripes, checks or dots.

    The mean CIELAB distance (Delta E 76) between neighbouring pixels (right and below) of the garment's
    interior (pixels whose 3x3 neighbourhood is all garment, so the outline and the edges against skin or
    background do not count). A solid garment with its shading stays at a unit or two; a print's colour edges
    lift it far above; a garment whose colours merely drift (a blurred blob of two colours) does not get
    there, which a spread of colours alone would not tell apart. NaN: too small a garment. Compare with the
    same score on real solid garments to set a threshold.

    Examples:
        >>> labels = torch.full((2, 8, 8), UPPER)
        >>> stripes = torch.zeros(2, 3, 8, 8, dtype=torch.uint8)
        >>> stripes[0, 0, :, ::2] = 255                                    # red and black stripes
        >>> stripes[1, 0] = torch.linspace(0, 255, 8).round().to(torch.uint8)  # a smooth drift
        >>> scores = print_scores(stripes, labels)
        >>> bool(scores[0] > 5 * scores[1])
        True
    """
    lab = lab_images(images_u8)
    region = labels == UPPER
    interior = -torch.nn.functional.max_pool2d(-region.float().unsqueeze(1), 3, 1, 1).squeeze(1) > 0.5
    right = (lab[..., :, 1:] - lab[..., :, :-1]).norm(dim=1)  # (B, H, W-1)
    down = (lab[..., 1:, :] - lab[..., :-1, :]).norm(dim=1)  # (B, H-1, W)
    in_right = interior[..., :, 1:] & interior[..., :, :-1]
    in_down = interior[..., 1:, :] & interior[..., :-1, :]
    total = (right * in_right).flatten(1).sum(1) + (down * in_down).flatten(1).sum(1)
    count = in_right.flatten(1).sum(1) + in_down.flatten(1).sum(1)
    score = total / count.clamp_min(1)
    return torch.where(count >= MIN_PIXELS, score, torch.full_like(score, float("nan")))
