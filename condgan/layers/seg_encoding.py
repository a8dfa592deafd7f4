"""The official FashionGAN stage-2 condition: a colour-coded, blurred segmentation.

The released render generators (``ih1*`` in zhusz/ICCV17-fashionGAN) do not take a one-hot map: every label is
painted with a fixed RGB colour, each channel is blurred with MATLAB's ``fspecial('gaussian', 5, 1)`` and 0.5
is subtracted (``ih1/train.lua``), giving a 3-channel map in about ``[-0.25, 0.25]``:

    ``E = G_{5x5, sigma=1} * (sum_k S_k palette_k) + offset``

For integer labels ``S`` is the one-hot map (a palette lookup); for a ``(B, K, H, W)`` probability map the
colour is the probability-weighted palette mix, so the encoding is differentiable and can consume a stage-1
softmax directly.

Border handling: the official code used Torch ``image.convolve(u, H, 'same')``, a full convolution cropped to
the input size, i.e. zero padding. Zero padding pulls the two outermost pixel rows and columns towards 0, a
dark frame that does not exist in the segmentation. We pad with ``"replicate"`` by default, which keeps a
uniform region (the background, or a leg that leaves the frame) uniform up to the border;
``border_type="constant"`` reproduces the official zero padding exactly.

The blur is ``kornia.filters.gaussian_blur2d``; kornia is imported on the first blur, not with this module.
"""

from __future__ import annotations

from collections.abc import Sequence

import einops
import torch
from torch import nn

from condgan._checks import (
    check_channels,
    check_floating,
    check_integer,
    check_label_range,
    check_positive_int,
    check_rank,
    check_tensor,
)

__all__ = [
    "OFFICIAL_PALETTE",
    "OFFICIAL_BLUR_KERNEL",
    "BORDER_TYPES",
    "color_code_segmentation",
    "ColorCodeEncoding",
]

#: RGB colour of each FashionGAN label, in label order (background first): ``0.25 * (cb1, cb2, cb3)`` of the
#: official code. ``torch.tensor(OFFICIAL_PALETTE)`` is ``(7, 3)``.
OFFICIAL_PALETTE: tuple[tuple[float, float, float], ...] = (
    (0.50, 0.50, 0.50),  # background
    (0.75, 0.50, 0.25),  # hair
    (0.50, 0.75, 0.25),  # face
    (0.25, 0.75, 0.50),  # upper clothes
    (0.25, 0.50, 0.75),  # lower clothes
    (0.50, 0.25, 0.75),  # legs
    (0.75, 0.25, 0.50),  # arms
)

#: The official 5x5 blur kernel ``H`` as printed (4 decimals) in ``ih1/train.lua``, equal to MATLAB's
#: ``fspecial('gaussian', 5, 1)`` rounded; kornia's ``get_gaussian_kernel2d((5, 5), (1.0, 1.0))`` matches it.
OFFICIAL_BLUR_KERNEL: tuple[tuple[float, ...], ...] = (
    (0.0030, 0.0133, 0.0219, 0.0133, 0.0030),
    (0.0133, 0.0596, 0.0983, 0.0596, 0.0133),
    (0.0219, 0.0983, 0.1621, 0.0983, 0.0219),
    (0.0133, 0.0596, 0.0983, 0.0596, 0.0133),
    (0.0030, 0.0133, 0.0219, 0.0133, 0.0030),
)

#: Padding modes accepted by [`color_code_segmentation`][condgan.layers.seg_encoding.color_code_segmentation]
#: (those of ``kornia.filters.gaussian_blur2d``).
BORDER_TYPES: tuple[str, ...] = ("replicate", "reflect", "constant", "circular")


def _palette_tensor(palette: object) -> torch.Tensor:
    """``palette`` as a ``(K, C)`` floating tensor."""
    if isinstance(palette, torch.Tensor):
        check_floating("palette", palette)
        value = palette
    elif isinstance(palette, Sequence) and not isinstance(palette, (str, bytes)):
        try:
            value = torch.tensor(palette, dtype=torch.float32)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"palette: expected a (K, C) nested sequence of floats, got {palette!r}"
            ) from error
    else:
        raise TypeError(f"palette: expected a (K, C) tensor or nested sequence, got {type(palette).__name__}")
    if value.ndim != 2 or value.shape[0] == 0 or value.shape[1] == 0:
        raise ValueError(f"palette: expected shape (K, C) with K, C >= 1, got {tuple(value.shape)}")
    return value


def _check_blur(kernel_size: object, sigma: object, offset: object, border_type: object) -> None:
    kernel_size = check_positive_int("kernel_size", kernel_size)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size: expected an odd positive int, got {kernel_size}")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)):
        raise TypeError(f"sigma: expected a positive float, got {type(sigma).__name__} {sigma!r}")
    if not sigma > 0:
        raise ValueError(f"sigma: expected a positive float, got {sigma}")
    if isinstance(offset, bool) or not isinstance(offset, (int, float)):
        raise TypeError(f"offset: expected a float, got {type(offset).__name__} {offset!r}")
    if border_type not in BORDER_TYPES:
        raise ValueError(f"border_type: expected one of {BORDER_TYPES}, got {border_type!r}")


def color_code_segmentation(
    segmentation: torch.Tensor,
    *,
    palette: Sequence[Sequence[float]] | torch.Tensor = OFFICIAL_PALETTE,
    kernel_size: int = 5,
    sigma: float = 1.0,
    offset: float = -0.5,
    border_type: str = "replicate",
    check_labels: bool = True,
) -> torch.Tensor:
    """Encode a segmentation as the official stage-2 condition: palette colours, Gaussian blur, offset.

    ``out = gaussian_blur(sum_k S_k * palette_k) + offset`` with ``S`` the one-hot map of integer labels or
    the given probabilities.

    Args:
        segmentation: ``(B, H, W)`` integer labels in ``[0, K)`` or ``(B, K, H, W)`` float probabilities
            (differentiable), ``K = len(palette)``.
        palette: ``(K, C)`` colours, row ``k`` for label ``k``.
        kernel_size: odd blur kernel size; 1 disables the blur.
        sigma: blur standard deviation in pixels.
        offset: added after the blur (the official ``-0.5`` centres the map on zero).
        border_type: blur padding, one of `BORDER_TYPES` (see the module docstring for why
            ``"replicate"``).
        check_labels: scan integer labels once for out-of-range values.

    Returns:
        ``(B, C, H, W)``: ``palette``'s dtype for integer labels (float32 for the default), ``segmentation``'s
        dtype for probabilities.

    Raises:
        TypeError: wrong types or dtypes.
        ValueError: wrong rank, channel count vs palette, label out of range, even kernel size, bad sigma or
            border type.

    Examples:
        >>> labels = torch.zeros(1, 8, 8, dtype=torch.long)  # all background
        >>> color_code_segmentation(labels).unique()
        tensor([0.])
        >>> labels[:, 2:6, 2:6] = 1  # a square of hair
        >>> color_code_segmentation(labels, kernel_size=1)[0, :, 4, 4]
        tensor([ 0.2500,  0.0000, -0.2500])
    """
    check_tensor("segmentation", segmentation)
    colors = _palette_tensor(palette)
    _check_blur(kernel_size, sigma, offset, border_type)
    num_classes = colors.shape[0]
    if segmentation.is_floating_point():
        check_rank("segmentation", segmentation, 4, "(B, K, H, W)")
        check_channels("segmentation", segmentation, num_classes)
        colors = colors.to(device=segmentation.device, dtype=segmentation.dtype)
        image = torch.einsum("bkhw,kc->bchw", segmentation, colors)
    else:
        check_integer("segmentation", segmentation)
        check_rank(
            "segmentation", segmentation, 3, "(B, H, W) for integer labels (floating maps are (B, K, H, W))"
        )
        if check_labels:
            check_label_range("segmentation", segmentation, num_classes)
        colors = colors.to(segmentation.device)
        image = einops.rearrange(colors[segmentation.long()], "b h w c -> b c h w")
    if kernel_size > 1:
        import kornia.filters  # here, not at module level: importing condgan.layers needs no kornia

        image = kornia.filters.gaussian_blur2d(
            image, (kernel_size, kernel_size), (float(sigma), float(sigma)), border_type=border_type
        )
    return image + offset


class ColorCodeEncoding(nn.Module):
    """Module form of [`color_code_segmentation`][condgan.layers.seg_encoding.color_code_segmentation]; the
    palette is a (non-persistent) buffer.

    Args:
        palette: ``(K, C)`` colours (default: the official seven).
        kernel_size: odd blur size (1: no blur).
        sigma: blur standard deviation.
        offset: added after the blur.
        border_type: blur padding.
        check_labels: scan integer labels for out-of-range values.

    Attributes:
        out_channels: ``C``.

    Examples:
        >>> encode = ColorCodeEncoding()
        >>> encode(torch.randint(0, 7, (2, 32, 32))).shape
        torch.Size([2, 3, 32, 32])
        >>> encode(torch.rand(2, 7, 32, 32).softmax(1)).shape
        torch.Size([2, 3, 32, 32])
    """

    def __init__(
        self,
        *,
        palette: Sequence[Sequence[float]] | torch.Tensor = OFFICIAL_PALETTE,
        kernel_size: int = 5,
        sigma: float = 1.0,
        offset: float = -0.5,
        border_type: str = "replicate",
        check_labels: bool = True,
    ) -> None:
        super().__init__()
        _check_blur(kernel_size, sigma, offset, border_type)
        self.register_buffer("palette", _palette_tensor(palette).detach().clone(), persistent=False)
        self.kernel_size = kernel_size
        self.sigma = float(sigma)
        self.offset = float(offset)
        self.border_type = border_type
        self.check_labels = bool(check_labels)
        self.out_channels = self.palette.shape[1]

    def forward(self, segmentation: torch.Tensor) -> torch.Tensor:
        return color_code_segmentation(
            segmentation,
            palette=self.palette,
            kernel_size=self.kernel_size,
            sigma=self.sigma,
            offset=self.offset,
            border_type=self.border_type,
            check_labels=self.check_labels,
        )

    def extra_repr(self) -> str:
        return (
            f"num_classes={self.palette.shape[0]}, kernel_size={self.kernel_size}, sigma={self.sigma}, "
            f"offset={self.offset}, border_type={self.border_type!r}"
        )
