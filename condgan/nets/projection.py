"""Projection discriminator head (Miyato & Koyama, "cGANs with Projection Discriminator", ICLR 2018)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from condgan._checks import check_bool, check_dtype_like, check_positive_int, check_rank, check_same_batch
from condgan.nets._common import check_choice

__all__ = ["ProjectionHead", "PROJECTION_POOLS"]

PROJECTION_POOLS = ("sum", "mean", "none")


class ProjectionHead(nn.Module):
    """``logit = w^T phi + b + <V code, phi>``: an unconditional score plus the code-feature inner product.

    ``phi`` is the feature vector, pooled over space (``pool="sum"``, as in the paper, or ``"mean"``) for
    one logit per sample, or kept per location (``pool="none"``) for one logit per patch (a PatchGAN head).
    The code is a continuous vector (e.g. a text embedding) embedded by a linear map ``V`` without bias;
    for class labels pass a one-hot code.

    Args:
        in_channels: channels ``C`` of ``phi``.
        code_dim: size ``D`` of the code.
        pool: ``"sum"``, ``"mean"`` or ``"none"``.
        bias: bias ``b`` of the unconditional term.
        spectral_norm: spectral normalisation on ``w`` and ``V`` (as in the paper).

    Shapes:
        ``features (B, C, H, W)`` or ``(B, C)``, ``code (B, D)`` -> ``(B,)``, or ``(B, 1, H, W)`` with
        ``pool="none"``.

    Examples:
        >>> head = ProjectionHead(in_channels=8, code_dim=5)
        >>> head(torch.randn(2, 8, 4, 4), torch.randn(2, 5)).shape
        torch.Size([2])
        >>> patch_head = ProjectionHead(in_channels=8, code_dim=5, pool="none")
        >>> patch_head(torch.randn(2, 8, 4, 4), torch.randn(2, 5)).shape
        torch.Size([2, 1, 4, 4])
    """

    def __init__(
        self,
        *,
        in_channels: int,
        code_dim: int,
        pool: str = "sum",
        bias: bool = True,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        check_positive_int("in_channels", in_channels)
        check_positive_int("code_dim", code_dim)
        check_choice("pool", pool, PROJECTION_POOLS)
        check_bool("bias", bias)
        check_bool("spectral_norm", spectral_norm)
        self.in_channels = in_channels
        self.code_dim = code_dim
        self.pool = pool
        self.linear = nn.Linear(in_channels, 1, bias=bias)
        self.embed = nn.Linear(code_dim, in_channels, bias=False)
        if spectral_norm:
            self.linear = _spectral_norm(self.linear)
            self.embed = _spectral_norm(self.embed)

    def forward(self, features: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """Score ``features`` against ``code`` (see the class docstring for shapes)."""
        check_rank("features", features, (2, 4), f"(B, {self.in_channels}, H, W) or (B, {self.in_channels})")
        check_dtype_like("features", features, self.embed)
        check_rank("code", code, 2, f"(B, {self.code_dim})")
        check_dtype_like("code", code, self.embed)
        if features.shape[1] != self.in_channels:
            raise ValueError(
                f"features: expected {self.in_channels} channels in dim 1, got {features.shape[1]} "
                f"(shape {tuple(features.shape)})"
            )
        if code.shape[1] != self.code_dim:
            raise ValueError(f"code: expected shape (B, {self.code_dim}), got {tuple(code.shape)}")
        check_same_batch(features=features, code=code)
        embedded = self.embed(code)
        if features.ndim == 4 and self.pool == "none":
            phi = features.movedim(1, -1)  # (B, H, W, C)
            score = self.linear(phi).squeeze(-1) + torch.einsum("bhwc,bc->bhw", phi, embedded)
            return score.unsqueeze(1)
        if features.ndim == 4:
            phi = features.sum(dim=(2, 3)) if self.pool == "sum" else features.mean(dim=(2, 3))
        else:
            phi = features
        return self.linear(phi).squeeze(-1) + (phi * embedded).sum(dim=1)
