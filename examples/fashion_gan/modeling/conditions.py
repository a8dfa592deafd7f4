"""From a data batch to the tensors FashionGAN's networks consume.

A batch (see [`fashion_gan.data.contract`][fashion_gan.data.contract]) holds uint8 images and label maps;
everything here runs on the training device, once per batch, so the data path stays uint8 and cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from condgan.layers import FASHIONGAN_7_TO_4, color_code_segmentation, one_hot_labels, spatial_constraint

__all__ = [
    "Conditions",
    "images_to_float",
    "images_to_uint8",
    "appearance_code",
    "APPEARANCE_DIM",
    "build_conditions",
    "constraints_and_appearance",
]

NUM_LABELS = 7
HAIR, FACE, LEGS, ARMS = 1, 2, 5, 6
APPEARANCE_DIM = 7  # skin RGB, hair RGB, hair extent


def images_to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, H, W) in [0, 255] -> float (B, 3, H, W) in [-1, 1]."""
    if images.dtype != torch.uint8:
        raise TypeError(f"images: expected torch.uint8 (B, 3, H, W), got dtype {images.dtype}")
    return images.float().div_(127.5).sub_(1.0)


def images_to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float (B, 3, H, W) in [-1, 1] -> uint8 (B, 3, H, W) (clamped, rounded)."""
    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def _masked_mean_rgb(images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weight = mask.unsqueeze(1).to(images.dtype)
    total = weight.sum(dim=(2, 3))
    return (images * weight).sum(dim=(2, 3)) / total.clamp_min(1.0)


def appearance_code(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The wearer's appearance as the paper's design code carries it: skin and hair colour, hair extent.

    Measured from the person's own image and segmentation, so it is available for the synthetic data and for
    the real release alike (the paper annotated such attributes; the official code fed none).

    Args:
        images: (B, 3, H, W) float in [-1, 1].
        labels: (B, H, W) int64 official ids.

    Returns:
        (B, 7): mean skin RGB (face, arms), mean hair RGB (0 where no hair), and the hair area
        relative to
        hair + face area mapped to [-1, 1].
    """
    # Face and arms only: the legs label holds the shoes too, whose colour says nothing about the skin.
    skin = (labels == FACE) | (labels == ARMS)
    hair = labels == HAIR
    skin_rgb = _masked_mean_rgb(images, skin)
    hair_rgb = _masked_mean_rgb(images, hair)
    hair_area = hair.flatten(1).float().sum(1)
    face_area = (labels == FACE).flatten(1).float().sum(1)
    extent = hair_area / (hair_area + face_area).clamp_min(1.0)
    return torch.cat([skin_rgb, hair_rgb, (extent * 2 - 1).unsqueeze(1)], dim=1)


@dataclass
class Conditions:
    """Everything a stage needs about a batch of people, on one device."""

    images: torch.Tensor  # (B, 3, H, W) float [-1, 1]
    labels: torch.Tensor  # (B, H, W) int64
    one_hot: torch.Tensor  # (B, 7, H, W)
    constraint4: torch.Tensor  # (B, 4, m, m) merged [hair, face, rest, background]
    constraint7: torch.Tensor  # (B, 7, m, m) unmerged (One-Step 8-7 baseline)
    seg_code: torch.Tensor  # (B, 3, H, W) the official colour-coded, blurred segmentation
    appearance: torch.Tensor  # (B, APPEARANCE_DIM)


def build_conditions(
    images_u8: torch.Tensor,
    labels_u8: torch.Tensor,
    *,
    constraint_size: int = 8,
    constraint_mode: str = "bicubic",
) -> Conditions:
    """Turn a uint8 batch into [`Conditions`][fashion_gan.modeling.conditions.Conditions] (on the tensors'
    device)."""
    images = images_to_float(images_u8)
    labels = labels_u8.long()
    one_hot = one_hot_labels(labels, NUM_LABELS)
    constraint4, constraint7, appearance = _body_and_looks(
        images, labels, one_hot, constraint_size, constraint_mode
    )
    return Conditions(
        images=images,
        labels=labels,
        one_hot=one_hot,
        constraint4=constraint4,
        constraint7=constraint7,
        seg_code=color_code_segmentation(labels),
        appearance=appearance,
    )


def constraints_and_appearance(
    images_u8: torch.Tensor,
    labels_u8: torch.Tensor,
    *,
    constraint_size: int = 8,
    constraint_mode: str = "bicubic",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``constraint4`` ``(B, 4, m, m)``, ``constraint7`` ``(B, 7, m, m)`` and ``appearance`` ``(B, 7)`` of a
    uint8 batch, as [`build_conditions`][fashion_gan.modeling.conditions.build_conditions] computes them,
    without the rest (what a garment twin replaces in stage 1's conditions).

    Examples:
        >>> images = torch.zeros(2, 3, 16, 16, dtype=torch.uint8)
        >>> labels = torch.zeros(2, 16, 16, dtype=torch.uint8)
        >>> [tuple(t.shape) for t in constraints_and_appearance(images, labels)]
        [(2, 4, 8, 8), (2, 7, 8, 8), (2, 7)]
    """
    images = images_to_float(images_u8)
    labels = labels_u8.long()
    return _body_and_looks(
        images, labels, one_hot_labels(labels, NUM_LABELS), constraint_size, constraint_mode
    )


def _body_and_looks(images, labels, one_hot, size: int, mode: str):
    constraint4 = spatial_constraint(one_hot, size=size, table=FASHIONGAN_7_TO_4, mode=mode)
    constraint7 = spatial_constraint(one_hot, size=size, table=None, mode=mode)
    return constraint4, constraint7, appearance_code(images, labels)
