"""The official FashionGAN networks and the paper's variants, assembled from ``condgan.nets``.

Each builder reproduces a network of the official Torch code (zhusz/ICCV17-fashionGAN: stage 1 ``sr1``
(``sr1/net_graph_sr1.lua``), stage 2 ``ih1`` (``ih1/net_graph_ih1.lua``) and
``ih1_skip``): channel counts, kernels, strides, paddings, where batch norm is and is not, biases and the
initialisation std. Keyword overrides make small variants:

* ``image_size`` (a power of two, 32 to 256; official 128): the levels adapt as each docstring says;
* ``width``: multiplies every channel count (``max(1, round(c * width))``; 0.25 or 0.125 for CPU runs), but
  not the code sizes;
* ``noise_dim`` (official 80), ``code_dim`` (official 100, the RNN text code; larger with wearer attributes)
  and ``code_reduced_dim`` (official 20);
* ``head`` of every discriminator: ``"concat"`` (official: the reduced code tiled beside the last features) or
  ``"projection"`` (not official: the code enters only through an inner product with the features, Miyato &
  Koyama 2018; ``condgan.nets.ProjectionHead``, per patch in the PatchGAN). ``model.d_head`` sets it;
* ``spectral_norm`` of every discriminator (not official; ``model.d_spectral_norm``): spectral normalisation
  on every conv and linear layer, batch norm kept.

Discriminators return logits; the official ``Sigmoid`` + ``BCECriterion`` is ``condgan.losses`` with
``kind="bce"``.

Paper variants (paper section 4):
[`render_generator_compositional`][fashion_gan.modeling.official_nets.render_generator_compositional] (one RGB
rendering per region; the caller composes them with ``condgan.layers.CompositionalMapping``),
[`one_step_generator`][fashion_gan.modeling.official_nets.one_step_generator] /
[`one_step_discriminator`][fashion_gan.modeling.official_nets.one_step_discriminator] (One-Step GAN 8-7 and
8-4: the stage-1 shape straight to the image); the Non-Compositional baseline is
[`ih1_generator`][fashion_gan.modeling.official_nets.ih1_generator] itself.
"""

from __future__ import annotations

import math

from condgan.layers import init_weights
from condgan.nets import ConditionalDiscriminator, ConditionalGenerator, PatchDiscriminator, UNetGenerator

__all__ = [
    "OFFICIAL_INIT_STD",
    "scale_channels",
    "sr1_generator",
    "sr1_discriminator",
    "ih1_generator",
    "ih1_discriminator",
    "ih1_skip_generator",
    "ih1_skip_discriminator",
    "render_generator_compositional",
    "one_step_generator",
    "one_step_discriminator",
]

#: Conv weight std of the official code (its ``train.lua`` files): ``0.02 / 16`` in sr1 and ih1, ``0.02`` in
#: ih1_skip.
OFFICIAL_INIT_STD = {"sr1": 0.02 / 16, "ih1": 0.02 / 16, "ih1_skip": 0.02}
_NORM_STD = 0.02


def _check_width(width: object) -> float:
    if isinstance(width, bool) or not isinstance(width, (int, float)):
        raise TypeError(
            "width: expected a positive float (1.0 = official channels), "
            f"got {type(width).__name__} {width!r}"
        )
    if not math.isfinite(width):
        raise ValueError(f"width: expected a finite positive float (1.0 = official channels), got {width!r}")
    if not width > 0:
        raise ValueError(f"width: expected a positive float (1.0 = official channels), got {width!r}")
    return float(width)


def scale_channels(channels: int, width: float) -> int:
    """``max(1, round(channels * width))``: a channel count scaled by the width multiplier.

    Examples:
        >>> scale_channels(1024, 0.125), scale_channels(20, 0.01)
        (128, 1)
    """
    return max(1, int(round(channels * _check_width(width))))


def _check_size(image_size: object, minimum: int = 32) -> int:
    if (
        isinstance(image_size, bool)
        or not isinstance(image_size, int)
        or image_size < minimum
        or image_size > 256
        or image_size & (image_size - 1)
    ):
        raise ValueError(f"image_size: expected a power of two in [{minimum}, 256], got {image_size!r}")
    return image_size


def _log2(n: int) -> int:
    return n.bit_length() - 1


def _sr1_generator(
    *,
    output: str,
    out_channels: int,
    image_size: int,
    width: float,
    noise_dim: int,
    code_dim: int,
    code_reduced_dim: int | None,
    constraint_channels: int,
) -> ConditionalGenerator:
    _check_size(image_size)
    w = _check_width(width)
    levels = _log2(image_size // 4)  # resolutions 4, 8, ..., image_size / 2
    net = ConditionalGenerator(
        output=output,
        out_channels=out_channels,
        noise_dim=noise_dim,
        code_dim=code_dim,
        code_reduced_dim=code_reduced_dim,
        up_channels=tuple(scale_channels(4096 // 2 ** (i + 2), w) for i in range(levels)),
        condition_channels=constraint_channels,
        condition_size=8,
        condition_encoder="conv3x3",
        condition_encoder_channels=(scale_channels(64, w), scale_channels(128, w)),
        fuse_at=8,
        mid_at=16,
        mid_channels=(scale_channels(512, w), scale_channels(512, w), scale_channels(256, w)),
        norm="batch",
        bias=False,
    )
    return init_weights(net, std=OFFICIAL_INIT_STD["sr1"], norm_std=_NORM_STD)


def sr1_generator(
    *,
    image_size: int = 128,
    width: float = 1.0,
    noise_dim: int = 80,
    code_dim: int = 100,
    code_reduced_dim: int | None = 20,
    num_classes: int = 7,
    constraint_channels: int = 4,
) -> ConditionalGenerator:
    """Stage-1 shape generator ``G_shape(z, code, constraint) -> segmentation logits`` (official ``sr1``).

    Official layers at 128 (``w`` = width multiplier applied to every channel count)::

        code -> Linear 100->20 (no bias) -> LReLU                                20
        [z, code] -> deconv 4x4 s1 p0 -> 1024 @4 -> BN -> ReLU                   g1
        deconv 4x4 s2 p1 -> 512 @8, BN, ReLU                                     g_extra
        constraint 4x8x8 -> conv3x3 64 -> BN -> LReLU -> conv3x3 128 -> BN -> LReLU
        concat 640 @8 -> deconv -> 256 @16, BN, ReLU                             g2
        conv3x3 512, 512, 256 @16, each BN + LReLU                               m1-m3
        deconv -> 128 @32 -> 64 @64, each BN + ReLU                              g3, g4
        deconv -> 7 @128, no BN, no activation (logits)                          g5

    No conv has a bias (the official ``noBias()``); weights ~ N(0, 0.02/16), BN gamma ~ N(1, 0.02).

    Levels adapt to ``image_size``: the up-sampling path has ``log2(image_size / 4)`` levels whose channels
    are ``4096 / r`` at resolution ``r`` (1024 at 4, 512 at 8, ...); the constraint always enters at 8x8 and
    the mid blocks stay at 16x16, so 64 drops the 64-channel level and 256 adds a 32-channel one.

    Examples:
        >>> import torch
        >>> g = sr1_generator(image_size=32, width=0.125)
        >>> g(torch.randn(2, 80), torch.randn(2, 100), torch.rand(2, 4, 8, 8)).shape
        torch.Size([2, 7, 32, 32])
    """
    return _sr1_generator(
        output="logits",
        out_channels=num_classes,
        image_size=image_size,
        width=width,
        noise_dim=noise_dim,
        code_dim=code_dim,
        code_reduced_dim=code_reduced_dim,
        constraint_channels=constraint_channels,
    )


def _sr1_discriminator(
    *,
    in_channels: int,
    input_softmax: bool,
    image_size: int,
    width: float,
    code_dim: int,
    code_reduced_dim: int | None,
    constraint_channels: int,
    head: str,
    spectral_norm: bool,
) -> ConditionalDiscriminator:
    _check_size(image_size)
    w = _check_width(width)
    levels = _log2(image_size // 4)  # resolutions image_size / 2, ..., 4
    resolutions = [image_size // 2 ** (i + 1) for i in range(levels)]
    net = ConditionalDiscriminator(
        in_channels=in_channels,
        channels=tuple(scale_channels(min(512, 4096 // r), w) for r in resolutions),
        first_norm=False,
        input_softmax=input_softmax,
        condition_channels=constraint_channels,
        condition_size=8,
        condition_encoder="conv3x3",
        condition_encoder_channels=(scale_channels(64, w), scale_channels(128, w)),
        fuse_at=8,
        mid_at=16,
        mid_channels=(scale_channels(512, w), scale_channels(512, w), scale_channels(256, w)),
        code_dim=code_dim,
        code_reduced_dim=code_reduced_dim,
        head=head,
        spectral_norm=spectral_norm,
        head_channels=scale_channels(512, w),
        norm="batch",
        bias=False,
    )
    return init_weights(net, std=OFFICIAL_INIT_STD["sr1"], norm_std=_NORM_STD)


def sr1_discriminator(
    *,
    image_size: int = 128,
    width: float = 1.0,
    code_dim: int = 100,
    code_reduced_dim: int | None = 20,
    num_classes: int = 7,
    constraint_channels: int = 4,
    head: str = "concat",
    spectral_norm: bool = False,
) -> ConditionalDiscriminator:
    """Stage-1 discriminator ``D_shape(segmentation, constraint, code) -> logit`` (official ``sr1``).

    Official layers at 128::

        softmax over the 7 input channels (real one-hot and fake logits alike)
        conv 4x4 s2 p1: 64 @64 (no BN) -> 128 @32 -> 256 @16, BN + LReLU       d1-d3
        conv3x3 512, 512, 256 @16, BN + LReLU                                  mid1-mid3
        conv 4x4 s2 -> 512 @8, BN + LReLU                                      d4
        constraint 4x8x8 -> conv3x3 64 (no BN) -> LReLU -> conv3x3 128 -> BN -> LReLU
        concat 640 @8 -> conv 4x4 s2 -> 512 @4, BN + LReLU                     d_extra
        code -> Linear 100->20 -> BN -> LReLU, tiled 4x4
        concat 532 -> conv1x1 512 -> BN -> LReLU -> conv 4x4 valid -> 1 logit  (Sigmoid: in the loss)

    No biases; weights ~ N(0, 0.02/16). Levels adapt: ``log2(image_size / 4)`` strided levels with
    ``min(512, 4096 / r)`` channels at resolution ``r``; the mid blocks stay at 16 and the constraint at 8.

    Examples:
        >>> import torch
        >>> d = sr1_discriminator(image_size=32, width=0.125)
        >>> d(torch.randn(2, 7, 32, 32), torch.rand(2, 4, 8, 8), torch.randn(2, 100)).shape
        torch.Size([2])
    """
    return _sr1_discriminator(
        in_channels=num_classes,
        input_softmax=True,
        image_size=image_size,
        width=width,
        code_dim=code_dim,
        code_reduced_dim=code_reduced_dim,
        constraint_channels=constraint_channels,
        head=head,
        spectral_norm=spectral_norm,
    )


def _ih1_generator(
    *,
    output: str,
    num_regions: int | None,
    image_size: int,
    width: float,
    noise_dim: int,
    code_dim: int,
    code_reduced_dim: int | None,
    condition_channels: int,
) -> ConditionalGenerator:
    _check_size(image_size)
    w = _check_width(width)
    levels = _log2(image_size // 4)  # >= 3
    up = (1024,) + (512,) * (levels - 2) + (64,)
    net = ConditionalGenerator(
        output=output,
        out_channels=3,
        num_regions=num_regions,
        noise_dim=noise_dim,
        code_dim=code_dim,
        code_reduced_dim=code_reduced_dim,
        up_channels=tuple(scale_channels(c, w) for c in up),
        condition_channels=condition_channels,
        condition_size=image_size,
        condition_encoder="strided",
        condition_encoder_channels=tuple(scale_channels(c, w) for c in (64, 128, 256)),
        fuse_at=image_size // 8,
        mid_at=image_size // 4,
        mid_channels=tuple(scale_channels(c, w) for c in (512, 512, 512, 256, 128)),
        norm="batch",
        bias=False,
    )
    return init_weights(net, std=OFFICIAL_INIT_STD["ih1"], norm_std=_NORM_STD)


def ih1_generator(
    *,
    image_size: int = 128,
    width: float = 1.0,
    noise_dim: int = 80,
    code_dim: int = 100,
    code_reduced_dim: int | None = 20,
    condition_channels: int = 3,
) -> ConditionalGenerator:
    """Stage-2 render generator of the original submission, official ``ih1``: a tanh RGB image.

    Official layers at 128::

        [z, LReLU(Linear 100->20 (code))] -> deconv 4x4 s1 p0 -> 1024 @4 -> deconv -> 512 @8
            -> deconv -> 512 @16, each BN + ReLU
        condition 3x128x128 -> conv 4x4 s2: 64 @64 -> 128 @32 -> 256 @16, each BN + LReLU
        concat 768 @16 -> deconv -> 512 @32, BN, ReLU                          g3
        conv3x3 512, 512, 512, 256, 128 @32, each BN + LReLU                   mid1-mid5
        deconv -> 64 @64 (BN, ReLU) -> deconv -> 3 @128 -> tanh                g4, g5

    No biases (the official code re-zeroes them every step); weights ~ N(0, 0.02/16).
    This is also the paper's Non-Compositional baseline.

    Levels adapt: the condition stream always has 3 strided blocks and meets the image stream at
    ``image_size / 8``; the mid blocks run at ``image_size / 4``; the stem is 1024 @4, the last level before
    the output has 64 channels and every level between has 512.

    Examples:
        >>> import torch
        >>> g = ih1_generator(image_size=32, width=0.125)
        >>> g(torch.randn(2, 80), torch.randn(2, 100), torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 3, 32, 32])
    """
    return _ih1_generator(
        output="image",
        num_regions=None,
        image_size=image_size,
        width=width,
        noise_dim=noise_dim,
        code_dim=code_dim,
        code_reduced_dim=code_reduced_dim,
        condition_channels=condition_channels,
    )


def ih1_discriminator(
    *,
    image_size: int = 128,
    width: float = 1.0,
    code_dim: int = 100,
    code_reduced_dim: int | None = 20,
    condition_channels: int = 3,
    head: str = "concat",
    spectral_norm: bool = False,
) -> ConditionalDiscriminator:
    """Two-stream stage-2 discriminator of ``ih1`` (official ``net_graph_ih1.lua``).

    Official layers at 128::

        image 3x128x128 -> conv 4x4 s2: 64 @64 (no BN) -> 128 @32 -> 256 @16, BN + LReLU
        condition 3x128x128 -> the same shapes, separate weights
        concat 512 @16 -> conv3x3 512 x 5, each BN + LReLU                     m1-m5
        conv 4x4 s2 -> 512 @8 -> 1024 @4, BN + LReLU                           d4, d_extra
        code -> Linear 100->20 -> BN -> LReLU, tiled 4x4
        concat 1044 -> conv1x1 1024 -> BN -> LReLU -> conv 4x4 valid -> 1 logit

    No biases; weights ~ N(0, 0.02/16). The table lists no BN/LReLU after the head's 1x1 conv; we use the
    same head as ``sr1`` (BN + LReLU), an inference. Levels adapt: both streams reach ``image_size / 8``
    where the mid blocks run; then strided 512-channel blocks down to 8 and a 1024-channel one to 4 (at 32
    the mid output at 4x4 feeds the head directly).

    Examples:
        >>> import torch
        >>> d = ih1_discriminator(image_size=64, width=0.125)
        >>> d(torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64), torch.randn(2, 100)).shape
        torch.Size([2])
    """
    _check_size(image_size)
    w = _check_width(width)
    tail = _log2(image_size // 32)  # strided levels after image_size / 8
    channels = (64, 128, 256) + ((512,) * (tail - 1) + (1024,) if tail else ())
    net = ConditionalDiscriminator(
        in_channels=3,
        channels=tuple(scale_channels(c, w) for c in channels),
        first_norm=False,
        input_softmax=False,
        condition_channels=condition_channels,
        condition_size=image_size,
        condition_encoder="strided",
        condition_encoder_channels=tuple(scale_channels(c, w) for c in (64, 128, 256)),
        fuse_at=image_size // 8,
        mid_at=image_size // 8,
        mid_channels=(scale_channels(512, w),) * 5,
        code_dim=code_dim,
        code_reduced_dim=code_reduced_dim,
        head=head,
        spectral_norm=spectral_norm,
        head_channels=scale_channels(1024, w),
        norm="batch",
        bias=False,
    )
    return init_weights(net, std=OFFICIAL_INIT_STD["ih1"], norm_std=_NORM_STD)


def ih1_skip_generator(
    *,
    image_size: int = 128,
    width: float = 1.0,
    noise_dim: int = 80,
    code_dim: int = 100,
    code_reduced_dim: int | None = 20,
    condition_channels: int = 3,
    num_regions: int | None = None,
    code_at_input: bool = False,
    code_film: bool = False,
    upsample: str = "deconv",
    final_upsample: str | None = None,
) -> UNetGenerator:
    """The released default stage-2 generator ``ih1_skip``: a pix2pix U-Net with z and code at the bottleneck.

    ``code_at_input=True`` (not official) also tiles the reduced code over the input map, and
    ``code_film=True`` (not official) also modulates every decoder level with it, and ``upsample="resize"``
    (not official) replaces the transposed convolutions by upsampling + conv 3x3: see
    [`condgan.nets.UNetGenerator`][condgan.nets.unet_generator.UNetGenerator].

    Official layers at 128 (official ``net_graph_ih1.lua``)::

        e1..e7: conv 4x4 s2: 3 -> 64 -> 128 -> 256 -> 512 -> 512 -> 512 -> 512 (1x1); LReLU before each conv
            but e1, BN after each but e1 and e7
        [e7, z, LReLU(Linear 100->20 (code))] 612 @1 -> ReLU -> deconv 512 @2 -> BN -> Dropout 0.5
        decoder with skips: ReLU -> deconv -> BN (-> Dropout 0.5 on the first three levels in all):
            512 @2, 512 @4, 512 @8, 256 @16, 128 @32, 64 @64 (input = previous + skip)
        ReLU -> deconv 128 -> 3 @128 -> tanh

    Convs have biases (init 0); weights ~ N(0, 0.02). Levels adapt: ``log2(image_size)`` encoder levels down
    to 1x1 (6 at 64, 5 at 32), channels ``min(64 * 2**i, 512)``. ``num_regions`` turns the output into region
    renderings for the compositional layer.

    Examples:
        >>> import torch
        >>> g = ih1_skip_generator(image_size=32, width=0.125)
        >>> g(torch.randn(2, 80), torch.randn(2, 100), torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 3, 32, 32])
    """
    _check_size(image_size)
    w = _check_width(width)
    net = UNetGenerator(
        condition_channels=condition_channels,
        out_channels=3,
        num_regions=num_regions,
        image_size=image_size,
        base_channels=scale_channels(64, w),
        max_channels=scale_channels(512, w),
        noise_dim=noise_dim,
        code_dim=code_dim,
        code_reduced_dim=code_reduced_dim,
        dropout=0.5,
        num_dropout=3,
        norm="batch",
        bias=True,
        code_at_input=code_at_input,
        code_film=code_film,
        upsample=upsample,
        final_upsample=final_upsample,
    )
    # Like every linear, the FiLM projections are drawn from N(0, 0.02): close to the identity at the start.
    return init_weights(net, std=OFFICIAL_INIT_STD["ih1_skip"], norm_std=_NORM_STD)


def ih1_skip_discriminator(
    *,
    image_size: int = 128,
    width: float = 1.0,
    code_dim: int = 100,
    code_reduced_dim: int | None = 20,
    condition_channels: int = 3,
    head: str = "concat",
    spectral_norm: bool = False,
) -> PatchDiscriminator:
    """PatchGAN discriminator of the official ``ih1_skip``: ``(B, 1, 14, 14)`` logits at 128.

    Official layers at 128::

        concat(image, condition) 6 @128 -> conv 4x4 s2: 64 @64 (no BN) -> 128 @32 -> 256 @16, BN + LReLU
        code -> Linear 100->20 -> BN -> LReLU, tiled 16x16, concat 276
        conv 4x4 s1 p1 -> 512 @15 -> BN -> LReLU -> conv 4x4 s1 p1 -> 1 @14

    Convs have biases; weights ~ N(0, 0.02). Levels adapt: always 3 strided levels, so the output is
    ``image_size / 8 - 2`` square (6 at 64, 2 at 32).

    Examples:
        >>> import torch
        >>> d = ih1_skip_discriminator(image_size=32, width=0.125)
        >>> d(torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32), torch.randn(2, 100)).shape
        torch.Size([2, 1, 2, 2])
    """
    _check_size(image_size)
    w = _check_width(width)
    net = PatchDiscriminator(
        in_channels=3,
        condition_channels=condition_channels,
        channels=tuple(scale_channels(c, w) for c in (64, 128, 256)),
        first_norm=False,
        code_dim=code_dim,
        code_reduced_dim=code_reduced_dim,
        head=head,
        spectral_norm=spectral_norm,
        head_channels=scale_channels(512, w),
        norm="batch",
        bias=True,
    )
    return init_weights(net, std=OFFICIAL_INIT_STD["ih1_skip"], norm_std=_NORM_STD)


def render_generator_compositional(
    *,
    num_regions: int = 7,
    base: str = "ih1",
    image_size: int = 128,
    width: float = 1.0,
    noise_dim: int = 80,
    code_dim: int = 100,
    code_reduced_dim: int | None = 20,
    condition_channels: int = 3,
) -> ConditionalGenerator | UNetGenerator:
    """The paper's render generator with the compositional mapping layer's input (paper section 3.3).

    The ``base`` network (``"ih1"``: [`ih1_generator`][fashion_gan.modeling.official_nets.ih1_generator];
    ``"ih1_skip"``: [`ih1_skip_generator`][fashion_gan.modeling.official_nets.ih1_skip_generator]) with a last
    layer of ``num_regions * 3`` channels and tanh: it returns renderings ``(B, num_regions, 3, H, W)``, one
    RGB texture per region. The model wrapper composes them with the (soft) segmentation,
    ``I = sum_k S_k * T_k``, using ``condgan.layers.CompositionalMapping`` (not in the released code, whose
    final layer has 3 channels; issue #5 of the official repository asks for it).

    Examples:
        >>> import torch
        >>> g = render_generator_compositional(num_regions=7, image_size=32, width=0.125)
        >>> g(torch.randn(2, 80), torch.randn(2, 100), torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 7, 3, 32, 32])
    """
    if base == "ih1":
        if isinstance(num_regions, bool) or not isinstance(num_regions, int) or num_regions < 1:
            raise ValueError(f"num_regions: expected a positive int, got {num_regions!r}")
        return _ih1_generator(
            output="regions",
            num_regions=num_regions,
            image_size=image_size,
            width=width,
            noise_dim=noise_dim,
            code_dim=code_dim,
            code_reduced_dim=code_reduced_dim,
            condition_channels=condition_channels,
        )
    if base == "ih1_skip":
        return ih1_skip_generator(
            image_size=image_size,
            width=width,
            noise_dim=noise_dim,
            code_dim=code_dim,
            code_reduced_dim=code_reduced_dim,
            condition_channels=condition_channels,
            num_regions=num_regions,
        )
    raise ValueError(f"base: expected 'ih1' or 'ih1_skip', got {base!r}")


def _check_constraint_channels(constraint_channels: object) -> int:
    if constraint_channels not in (4, 7) or isinstance(constraint_channels, bool):
        raise ValueError(
            f"constraint_channels: expected 7 (One-Step GAN 8-7) or 4 (8-4), got {constraint_channels!r}"
        )
    return constraint_channels


def one_step_generator(
    *,
    constraint_channels: int = 7,
    image_size: int = 128,
    width: float = 1.0,
    noise_dim: int = 80,
    code_dim: int = 100,
    code_reduced_dim: int | None = 20,
) -> ConditionalGenerator:
    """The paper's One-Step GAN baseline: ``G(z, code, 8x8 constraint)`` straight to a tanh RGB image.

    The [`sr1_generator`][fashion_gan.modeling.official_nets.sr1_generator] layers with a 3-channel tanh
    output; the constraint is the 7-class (8-7) or the merged 4-class (8-4) segmentation downsampled to 8x8.
    Same init as ``sr1``.

    Examples:
        >>> import torch
        >>> g = one_step_generator(constraint_channels=4, image_size=32, width=0.125)
        >>> g(torch.randn(2, 80), torch.randn(2, 100), torch.rand(2, 4, 8, 8)).shape
        torch.Size([2, 3, 32, 32])
    """
    return _sr1_generator(
        output="image",
        out_channels=3,
        image_size=image_size,
        width=width,
        noise_dim=noise_dim,
        code_dim=code_dim,
        code_reduced_dim=code_reduced_dim,
        constraint_channels=_check_constraint_channels(constraint_channels),
    )


def one_step_discriminator(
    *,
    constraint_channels: int = 7,
    image_size: int = 128,
    width: float = 1.0,
    code_dim: int = 100,
    code_reduced_dim: int | None = 20,
    head: str = "concat",
    spectral_norm: bool = False,
) -> ConditionalDiscriminator:
    """Discriminator of the One-Step GAN baseline:
    [`sr1_discriminator`][fashion_gan.modeling.official_nets.sr1_discriminator] on RGB images (no input
    softmax).

    Examples:
        >>> import torch
        >>> d = one_step_discriminator(constraint_channels=7, image_size=32, width=0.125)
        >>> d(torch.randn(2, 3, 32, 32), torch.rand(2, 7, 8, 8), torch.randn(2, 100)).shape
        torch.Size([2])
    """
    return _sr1_discriminator(
        in_channels=3,
        input_softmax=False,
        image_size=image_size,
        width=width,
        code_dim=code_dim,
        code_reduced_dim=code_reduced_dim,
        constraint_channels=_check_constraint_channels(constraint_channels),
        head=head,
        spectral_norm=spectral_norm,
    )
