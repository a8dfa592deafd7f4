"""DCGAN-style conditional discriminator ``D(x, condition, code) -> logit`` (official sr1 and ih1 D)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from condgan._checks import check_bool, check_positive_int
from condgan.layers.conditioning import concat_code
from condgan.layers.conv_norm_act import ConvNormAct, DownBlock
from condgan.layers.create_norm import NormSpec
from condgan.nets._common import (
    CONDITION_ENCODERS,
    CodeReduction,
    build_condition_branch,
    build_mid_blocks,
    check_batch,
    check_channels_list,
    check_choice,
    check_map_input,
    check_nonneg_int,
    check_optional_bool,
    check_optional_int,
    check_vector_input,
    first_weight,
    resolve_mid_at,
)
from condgan.nets.projection import ProjectionHead

__all__ = ["ConditionalDiscriminator", "DISCRIMINATOR_HEADS"]

DISCRIMINATOR_HEADS = ("concat", "projection")


class ConditionalDiscriminator(nn.Module):
    """Conditional DCGAN discriminator returning one logit per sample (no sigmoid: the losses take logits).

    Data flow (``channels[i]`` lives at ``r = image_size / 2**(i+1)``; the last level must be 4x4)::

        x = softmax(x) if input_softmax                          (as the official stage-1 sr1 D does)
        for each DownBlock i (conv 4x4 s2 p1 -> BN -> LReLU; no BN on the first):
            x = block(x)                                          now at resolution r
            if r == fuse_at: x = [x, encode(condition)]
            if r == mid_at:  x = mid blocks (3x3 conv, BN, LReLU)(x)
        c = LReLU(BN(Linear(code)))                               the reduced code (B, code_reduced_dim)
        head="concat":     logit = conv4x4_valid(LReLU(BN(conv1x1([x, tile(c, 4, 4)]))))
        head="projection": logit = ProjectionHead(x, c)           (sum pooling, Miyato & Koyama 2018)

    The image size is ``4 * 2**len(channels)``. The spatial condition is either encoded at its own resolution
    by 3x3 conv blocks (``"conv3x3"``, stage 1: 4x8x8 -> conv3x3 64 (no BN) -> conv3x3 128 + BN, at 8x8) or by
    a second stream of strided blocks from full resolution (``"strided"``: the two-stream ``ih1`` D, 3x128x128
    -> 64 (no BN) -> 128 -> 256 at 16x16, separate weights from the image stream).

    Args:
        in_channels: channels of ``x`` (7 segmentation logits for stage 1, 3 for images).
        channels: output channels of the image-stream DownBlocks.
        first_norm: normalise the first DownBlock (DCGAN: no).
        input_softmax: apply a softmax over the channels of ``x`` first (the official stage-1 D does this to
            the real one-hot maps and the fake logits alike).
        condition_channels: channels of the spatial condition (0: none).
        condition_size: its height = width.
        condition_encoder: ``"conv3x3"`` or ``"strided"``.
        condition_encoder_channels: output channels of the condition blocks (the first has no norm).
        fuse_at: resolution at which the encoded condition is concatenated.
        mid_at: resolution of the mid blocks (after the fusion when equal).
        mid_channels: output channels of the 3x3 mid blocks (empty: none).
        code_dim: size of the code (0: no code).
        code_reduced_dim: output of the code reduction ``Linear -> BN -> LReLU`` (``None``: the raw code).
        head: ``"concat"`` (tile the code at 4x4, official) or ``"projection"``.
        head_channels: channels of the 1x1 conv of the ``"concat"`` head.
        norm: see [`condgan.layers.create_norm.get_norm_layer`][condgan.layers.create_norm.get_norm_layer].
        bias: conv biases (``None``: only where no norm follows; official: ``False``).
        spectral_norm: spectral normalisation on every conv and linear layer of the trunk and head.

    In training mode the batch norm of the code reduction needs a batch of at least 2.

    Shapes:
        ``x (B, in_channels, H, H)``, ``condition (B, condition_channels, S, S)``, ``code (B, code_dim)``
        -> ``(B,)``.

    Examples:
        >>> d = ConditionalDiscriminator(
        ...     in_channels=7, channels=(8, 16, 16), input_softmax=True, condition_channels=4,
        ...     condition_size=8, condition_encoder_channels=(8, 8), fuse_at=8, mid_at=16, mid_channels=(8,),
        ...     code_dim=10, code_reduced_dim=4, head_channels=16)
        >>> d(torch.randn(2, 7, 32, 32), torch.rand(2, 4, 8, 8), torch.randn(2, 10)).shape
        torch.Size([2])
    """

    def __init__(
        self,
        *,
        in_channels: int = 3,
        channels: Sequence[int] = (64, 128, 256, 512, 512),
        first_norm: bool = False,
        input_softmax: bool = False,
        condition_channels: int = 4,
        condition_size: int = 8,
        condition_encoder: str = "conv3x3",
        condition_encoder_channels: Sequence[int] = (64, 128),
        fuse_at: int = 8,
        mid_at: int | None = 16,
        mid_channels: Sequence[int] = (512, 512, 256),
        code_dim: int = 100,
        code_reduced_dim: int | None = 20,
        head: str = "concat",
        head_channels: int = 512,
        norm: NormSpec = "batch",
        bias: bool | None = None,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        check_positive_int("in_channels", in_channels)
        channels = check_channels_list("channels", channels)
        check_nonneg_int("condition_channels", condition_channels)
        check_choice("condition_encoder", condition_encoder, CONDITION_ENCODERS)
        mid_channels = check_channels_list("mid_channels", mid_channels, allow_empty=True)
        check_nonneg_int("code_dim", code_dim)
        check_choice("head", head, DISCRIMINATOR_HEADS)
        check_positive_int("head_channels", head_channels)
        check_bool("first_norm", first_norm)
        check_bool("input_softmax", input_softmax)
        check_optional_int("fuse_at", fuse_at)
        check_optional_int("mid_at", mid_at)
        check_optional_bool("bias", bias)
        check_bool("spectral_norm", spectral_norm)
        self.image_size = 4 * 2 ** len(channels)
        resolutions = [self.image_size // 2 ** (i + 1) for i in range(len(channels))]
        block = {"norm": norm, "bias": bias, "spectral_norm": spectral_norm}  # every conv block's options

        self.condition_encoder, fuse_at, cond_out = build_condition_branch(
            condition_encoder,
            condition_channels,
            condition_size,
            condition_encoder_channels,
            fuse_at=fuse_at,
            resolutions=resolutions,
            first_norm=False,
            **block,
        )
        mid_at = resolve_mid_at(mid_at, mid_channels, resolutions)

        self.in_channels = in_channels
        self.input_softmax = input_softmax
        self.condition_channels = condition_channels
        self.condition_size = condition_size if condition_channels else None
        self.fuse_at = fuse_at
        self.mid_at = mid_at
        self.code_dim = code_dim
        self.head_kind = head

        self.mid, self.blocks, prev = self._build_trunk(
            in_channels, channels, resolutions, cond_out, mid_channels, first_norm=first_norm, **block
        )
        self.resolutions = tuple(resolutions)
        self.code_branch = CodeReduction(
            code_dim, code_reduced_dim, norm=True, bias=bias, spectral_norm=spectral_norm
        )
        self.head = self._build_head(head, prev, self.code_branch.out_dim, head_channels, **block)

    def _build_trunk(
        self,
        in_channels: int,
        channels: tuple[int, ...],
        resolutions: list[int],
        cond_out: int,
        mid_channels: tuple[int, ...],
        *,
        first_norm: bool,
        norm: NormSpec,
        bias: bool | None,
        spectral_norm: bool,
    ) -> tuple[nn.Sequential | None, nn.ModuleList, int]:
        """The image stream's DownBlocks and the mid blocks, built level by level in the order
        [`features`][condgan.nets.conditional_discriminator.ConditionalDiscriminator.features] runs them;
        returns ``(mid, blocks, channels at 4x4)``."""
        mid, blocks, prev = None, [], in_channels
        for i, (c, res) in enumerate(zip(channels, resolutions, strict=True)):
            blocks.append(
                DownBlock(
                    prev,
                    c,
                    norm=norm if (i > 0 or first_norm) else "none",
                    bias=bias,
                    spectral_norm=spectral_norm,
                )
            )
            prev = c
            if res == self.fuse_at:
                prev += cond_out
            if res == self.mid_at:
                mid = build_mid_blocks(prev, mid_channels, norm=norm, bias=bias, spectral_norm=spectral_norm)
                prev = mid_channels[-1]
        return mid, nn.ModuleList(blocks), prev

    def _build_head(
        self,
        head: str,
        in_channels: int,
        code_out: int,
        head_channels: int,
        *,
        norm: NormSpec,
        bias: bool | None,
        spectral_norm: bool,
    ) -> nn.Module:
        """The 4x4 head on features of ``in_channels`` and a reduced code of ``code_out``: ``conv1x1 -> norm
        -> LReLU -> conv4x4 valid`` on ``[x, tile(code)]`` (``"concat"``) or a projection."""
        if head == "projection":
            if self.code_dim == 0:
                raise ValueError(
                    "head: expected 'concat' when code_dim=0 (a projection needs a code), got 'projection'"
                )
            return ProjectionHead(
                in_channels=in_channels, code_dim=code_out, pool="sum", spectral_norm=spectral_norm
            )
        return nn.Sequential(
            ConvNormAct(
                in_channels + code_out,
                head_channels,
                kernel_size=1,
                norm=norm,
                bias=bias,
                spectral_norm=spectral_norm,
            ),
            ConvNormAct(
                head_channels,
                1,
                kernel_size=4,
                padding=0,
                norm="none",
                act="none",
                bias=bias,
                spectral_norm=spectral_norm,
            ),
        )

    def features(self, x: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        """The trunk: ``(B, C, 4, 4)`` features before the code enters (inputs checked by
        [`forward`][condgan.nets.conditional_discriminator.ConditionalDiscriminator.forward])."""
        if self.input_softmax:
            x = torch.softmax(x, dim=1)
        for block, res in zip(self.blocks, self.resolutions, strict=True):
            x = block(x)
            if res == self.fuse_at:
                x = torch.cat([x, self.condition_encoder(condition)], dim=1)
            if res == self.mid_at:
                x = self.mid(x)
        return x

    def forward(
        self, x: torch.Tensor, condition: torch.Tensor | None = None, code: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Score ``x`` under ``condition`` and ``code``; returns logits ``(B,)``."""
        weight = first_weight(self)
        check_map_input("x", x, self.in_channels, self.image_size, like=weight)
        condition = check_map_input(
            "condition", condition, self.condition_channels, self.condition_size, like=weight
        )
        code = check_vector_input("code", code, self.code_dim, "code_dim", like=weight)
        check_batch(x=x, condition=condition, code=code)
        h = self.features(x, condition)
        c = self.code_branch(code) if code is not None else None
        if self.head_kind == "projection":
            return self.head(h, c)
        if c is not None:
            h = concat_code(h, c)
        return self.head(h).flatten()
