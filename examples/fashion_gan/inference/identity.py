"""How a redressed person stays the same person: the three identity modes.

=============  ===============================================================================================
mode           what keeps the person
=============  ===============================================================================================
``none``       nothing but the networks (for ablations): stage 1 redraws the whole label map, stage 2
               paints it
``structural`` the default. Stage 1's hair and face are the input's own, exactly where the input has them
               ([`keep_source_regions`][condgan.layers.keep_source_regions]); a compositional stage 2 takes
               those regions' pixels from the input image ([`compose_regions`][condgan.layers.compose_regions]
               with ``keep``), so they are the input's pixels bit for bit; arms and legs get the measured skin
               tone from the design code through the render model's region colours
``official``   the released test script's post-processing (``demo_release/demo_full.lua``): the networks run
               as in ``none``, then pixels whose ORIGINAL label is hair or face are copied from the input, and
               generated arm and leg pixels are averaged with the median colour of the input's arms and legs
=============  ===============================================================================================

One-Step models have no segmentation: ``structural`` keeps nothing for them, and ``official`` can only copy
the input's hair and face pixels (there are no generated limbs to blend).
"""

from __future__ import annotations

import torch

__all__ = ["IDENTITY_MODES", "HAIR_AND_FACE", "LIMBS", "official_postprocess", "check_identity_mode"]

#: The identity modes, the default first.
IDENTITY_MODES: tuple[str, ...] = ("structural", "none", "official")
#: Labels kept from the input person: hair 1, face 2 (official ids).
HAIR_AND_FACE: tuple[int, ...] = (1, 2)
#: Labels whose colour the official post-processing balances: legs 5, arms 6.
LIMBS: tuple[int, ...] = (5, 6)


def check_identity_mode(mode: object) -> str:
    """``mode`` if it is one of `IDENTITY_MODES`, else a ValueError naming them."""
    if mode not in IDENTITY_MODES:
        raise ValueError(f"identity: expected one of {list(IDENTITY_MODES)}, got {mode!r}")
    return mode


def _median_colour(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor | None:
    """Per-channel median of ``image`` (3, H, W) over ``mask`` (H, W), or None for an empty mask."""
    if not bool(mask.any()):
        return None
    return image[:, mask].median(dim=1).values


@torch.no_grad()
def official_postprocess(
    images: torch.Tensor,
    source_images: torch.Tensor,
    source_labels: torch.Tensor,
    generated_labels: torch.Tensor | None,
) -> torch.Tensor:
    """The official test script's identity post-processing of generated images.

    Where the GENERATED label is legs (5) or arms (6), ``out = (out + m) / 2`` with ``m`` the per-channel
    median of the source image over the source's pixels of that label (falling back to the other limb, then
    to the face, when the source shows none of it); then ``out = source`` where the SOURCE label is hair or
    face (last, so those pixels are the input's exactly).

    Args:
        images: ``(B, 3, H, W)`` generated images in ``[-1, 1]``.
        source_images: ``(B, 3, H, W)`` the input people, same range.
        source_labels: ``(B, H, W)`` their label maps.
        generated_labels: ``(B, H, W)`` stage 1's label maps, or ``None`` (One-Step: no limbs are blended).

    Returns:
        ``(B, 3, H, W)``, a new tensor.

    Examples:
        >>> images = torch.zeros(1, 3, 2, 2)
        >>> source = torch.ones(1, 3, 2, 2)
        >>> labels = torch.tensor([[[1, 0], [6, 0]]])  # hair, background / arm, background
        >>> official_postprocess(images, source, labels, labels)[0, 0]
        tensor([[1.0000, 0.0000],
                [0.5000, 0.0000]])
    """
    out = images.clone()
    if generated_labels is not None:
        _blend_limbs(out, source_images, source_labels, generated_labels)
    # Copied last, so that hair and face are the input's pixels even where a generated limb overlaps them.
    kept = torch.isin(source_labels, torch.tensor(HAIR_AND_FACE, device=source_labels.device))
    return torch.where(kept.unsqueeze(1), source_images.to(out.dtype), out)


def _blend_limbs(out, source_images, source_labels, generated_labels) -> None:
    """In place: generated legs / arms averaged with the median colour of the source's (see above)."""
    for b in range(out.shape[0]):
        for label in LIMBS:
            region = generated_labels[b] == label
            if not bool(region.any()):
                continue
            others = [label, *[x for x in LIMBS if x != label], 2]
            medians = (_median_colour(source_images[b], source_labels[b] == x) for x in others)
            median = next((m for m in medians if m is not None), None)
            if median is not None:
                out[b][:, region] = (out[b][:, region] + median.to(out.dtype).unsqueeze(1)) / 2
