"""pix2pix U-Net generator with noise and a code injected at the bottleneck (the official ``ih1_skip``)."""

from __future__ import annotations

import torch
from torch import nn

from condgan._checks import check_bool, check_positive_int
from condgan.layers.conditioning import concat_code
from condgan.layers.conv_norm_act import UpBlock
from condgan.layers.create_norm import NormSpec
from condgan.layers.film import FiLM
from condgan.layers.unet import UNetDecoder, UNetEncoder, unet_channels
from condgan.nets._common import (
    CodeReduction,
    check_batch,
    check_map_input,
    check_nonneg_int,
    check_optional_bool,
    check_power_of_two,
    check_vector_input,
    first_weight,
)

__all__ = ["UNetGenerator"]


class UNetGenerator(nn.Module):
    """U-Net generator ``G(z, code, condition)`` with the code at the bottleneck (the official ``ih1_skip``).

    The encoder halves the condition map down to 1x1 with ``log2(image_size)`` levels (7 at 128, 6 at 64, 5 at
    32); level ``i`` has ``min(base_channels * 2**i, max_channels)`` channels (see
    [`condgan.layers.unet.unet_channels`][condgan.layers.unet.unet_channels]). At the bottleneck::

        b = [e_n, z, reduce(code)]                  (B, c_n + noise_dim + code_reduced_dim, 1, 1)
        d_1 = Dropout(BN(deconv(ReLU(b))))          (B, c_{n-1}, 2, 2)

    and every further decoder level is ``Dropout?(BN(deconv(ReLU([d, e]))))`` with the skip ``e`` of the same
    resolution; the first ``num_dropout`` decoder levels (``d_1`` included) use dropout. A final
    ``tanh(deconv(ReLU([d, e_1])))`` gives the image. The decoder mirrors the encoder channels (official:
    512, 512, 512, 256, 128, 64, then 128 -> 3).

    Args:
        condition_channels: channels of the input map (official: 3, the colour-coded segmentation).
        out_channels: output channels (per region for ``num_regions``).
        num_regions: when given, output ``num_regions`` renderings of ``out_channels`` channels each for the
            compositional mapping layer.
        image_size: height = width of the input and output, a power of two >= 4.
        base_channels: channels of the first encoder level.
        max_channels: channel cap of the deeper levels.
        noise_dim: size of ``z`` (0: none, as in pix2pix).
        code_dim: size of the code (0: none).
        code_reduced_dim: output of the learned ``Linear -> LReLU`` code reduction (``None``: the raw code).
        dropout: dropout probability of the first decoder levels.
        num_dropout: how many decoder levels use dropout.
        norm: see [`condgan.layers.create_norm.get_norm_layer`][condgan.layers.create_norm.get_norm_layer].
        bias: conv biases (``None``: only where no norm follows; official ``ih1_skip``: ``True``).
        spectral_norm: spectral normalisation on every conv.
        code_at_input: also tile the reduced code over the input map (concatenated to the condition), so
            every level sees it. With the code only at the 1x1 bottleneck, the skips carry everything the
            decoder needs and a briefly trained U-Net learns to ignore the code (measured in the FashionGAN
            demo: swapping the sentence changed the output by 1e-5).
        upsample: ``"deconv"`` (official: transposed conv 4x4) or ``"resize"`` (nearest-neighbour upsampling +
            conv 3x3, no checkerboard) in the bottleneck and every decoder level. Not official.
        final_upsample: the last decoder level's own choice (``None``: ``upsample``); see
            [`UNetDecoder`][condgan.layers.unet.UNetDecoder]. Not official.
        code_film: also modulate the bottleneck and every decoder level with the reduced code
            ([`FiLM`][condgan.layers.film.FiLM], zero-initialised): the code scales and shifts each channel
            instead of only being concatenated. Not official.

    Shapes:
        ``z (B, noise_dim)``, ``code (B, code_dim)``, ``condition (B, condition_channels, H, H)`` ->
        ``(B, out_channels, H, H)`` or ``(B, num_regions, out_channels, H, H)``.

    Examples:
        >>> g = UNetGenerator(image_size=16, base_channels=4, max_channels=8, noise_dim=3, code_dim=5,
        ...                   code_reduced_dim=2)
        >>> g(torch.randn(2, 3), torch.randn(2, 5), torch.randn(2, 3, 16, 16)).shape
        torch.Size([2, 3, 16, 16])
    """

    def __init__(
        self,
        *,
        condition_channels: int = 3,
        out_channels: int = 3,
        num_regions: int | None = None,
        image_size: int = 128,
        base_channels: int = 64,
        max_channels: int = 512,
        noise_dim: int = 80,
        code_dim: int = 100,
        code_reduced_dim: int | None = 20,
        dropout: float = 0.5,
        num_dropout: int = 3,
        norm: NormSpec = "batch",
        bias: bool | None = True,
        spectral_norm: bool = False,
        code_at_input: bool = False,
        code_film: bool = False,
        upsample: str = "deconv",
        final_upsample: str | None = None,
    ) -> None:
        super().__init__()
        check_positive_int("condition_channels", condition_channels)
        check_bool("code_at_input", code_at_input)
        check_bool("code_film", code_film)
        check_positive_int("out_channels", out_channels)
        if num_regions is not None:
            check_positive_int("num_regions", num_regions)
        check_power_of_two("image_size", image_size, minimum=4)
        check_nonneg_int("noise_dim", noise_dim)
        check_nonneg_int("code_dim", code_dim)
        check_optional_bool("bias", bias)
        check_bool("spectral_norm", spectral_norm)
        enc = unet_channels(image_size, base_channels=base_channels, max_channels=max_channels)
        self.condition_channels = condition_channels
        self.out_channels = out_channels
        self.num_regions = num_regions
        self.image_size = image_size
        self.noise_dim = noise_dim
        self.code_dim = code_dim

        self.code_branch = CodeReduction(code_dim, code_reduced_dim, norm=False, bias=bias)
        self.code_at_input = code_at_input and code_dim > 0
        film_dim = self.code_branch.out_dim if code_film and code_dim > 0 else 0
        self.code_film = film_dim > 0
        in_channels = condition_channels + (self.code_branch.out_dim if self.code_at_input else 0)
        self.encoder = UNetEncoder(
            in_channels, channels=enc, norm=norm, bias=bias, spectral_norm=spectral_norm
        )
        bottleneck = enc[-1] + noise_dim + self.code_branch.out_dim
        self.bottleneck = UpBlock(
            bottleneck,
            enc[-2],
            norm=norm,
            act="relu",
            act_first=True,
            dropout=dropout if num_dropout > 0 else 0.0,
            bias=bias,
            spectral_norm=spectral_norm,
            mode=upsample,
        )
        self.bottleneck_film = FiLM(code_dim=film_dim, channels=enc[-2]) if film_dim else None
        skips = enc[-2::-1]  # e_{n-1}, ..., e_1
        self.decoder = UNetDecoder(
            in_channels=enc[-2] + skips[0],
            skip_channels=skips[1:],
            channels=skips[1:],
            out_channels=out_channels * (num_regions or 1),
            norm=norm,
            dropout=dropout,
            num_dropout=max(num_dropout - 1, 0),
            bias=bias,
            spectral_norm=spectral_norm,
            code_dim=film_dim,
            upsample=upsample,
            final_upsample=final_upsample,
        )

    def forward(
        self, z: torch.Tensor | None, code: torch.Tensor | None, condition: torch.Tensor
    ) -> torch.Tensor:
        """Generate from noise ``z``, ``code`` and the full-resolution ``condition``."""
        weight = first_weight(self)
        z = check_vector_input("z", z, self.noise_dim, "noise_dim", like=weight)
        code = check_vector_input("code", code, self.code_dim, "code_dim", like=weight)
        condition = check_map_input(
            "condition", condition, self.condition_channels, self.image_size, like=weight
        )
        check_batch(z=z, code=code, condition=condition)
        reduced = None
        if self.code_at_input or self.code_film:
            reduced = self.code_branch(code)
        if self.code_at_input:
            # The code tiled over the input reaches every encoder level and, through the skips, the decoder.
            condition = concat_code(condition, reduced)
        feats = self.encoder(condition)
        parts = [feats[-1]]
        if z is not None:
            parts.append(z[:, :, None, None])
        if code is not None:
            reduced = self.code_branch(code) if reduced is None else reduced
            parts.append(reduced[:, :, None, None])
        d = self.bottleneck(torch.cat(parts, dim=1))
        if self.bottleneck_film is not None:
            d = self.bottleneck_film(d, reduced)
        d = torch.cat([d, feats[-2]], dim=1)
        y = torch.tanh(self.decoder(d, feats[-3::-1], reduced if self.code_film else None))
        if self.num_regions is not None:
            y = y.unflatten(1, (self.num_regions, self.out_channels))
        return y
