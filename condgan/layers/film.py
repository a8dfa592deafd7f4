"""Feature-wise linear modulation (FiLM): a code scales and shifts every channel of a feature map.

Perez et al., "FiLM: Visual Reasoning with a General Conditioning Layer" (AAAI 2018); the same operation is
the affine part of conditional batch normalisation and of SPADE/AdaIN-style generators. Concatenating a tiled
code (``concat_code``) lets a network learn to ignore it; a modulation multiplies the features by it, so the
code acts on every unit of the layer it modulates.
"""

from __future__ import annotations

import torch
from torch import nn

from condgan._checks import check_channels, check_floating, check_positive_int, check_rank, check_same_batch

__all__ = ["film", "FiLM"]


def film(features: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """``out[b, c] = features[b, c] * (1 + gamma[b, c]) + beta[b, c]``.

    The scale is ``1 + gamma`` so that ``gamma = beta = 0`` is the identity (a zero-initialised projection
    starts as a no-op).

    Args:
        features: ``(B, C, H, W)`` float feature map.
        gamma: ``(B, C)`` scale offsets.
        beta: ``(B, C)`` shifts.

    Returns:
        ``(B, C, H, W)`` in the dtype of ``features``.

    Examples:
        >>> x = torch.ones(1, 2, 2, 2)
        >>> film(x, torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, -1.0]]))[0, :, 0, 0]
        tensor([2., 0.])
    """
    check_rank("features", features, 4, "(B, C, H, W)")
    check_floating("features", features)
    channels = features.shape[1]
    for name, value in (("gamma", gamma), ("beta", beta)):
        check_rank(name, value, 2, "(B, C)")
        check_floating(name, value)
        check_channels(name, value, channels)
    check_same_batch(features=features, gamma=gamma, beta=beta)
    gamma = gamma.to(features.dtype)[:, :, None, None]
    beta = beta.to(features.dtype)[:, :, None, None]
    return features * (1 + gamma) + beta


class FiLM(nn.Module):
    """``forward(features, code)``: ``film(features, gamma(code), beta(code))`` with one learned ``Linear``.

    ``[gamma, beta] = W code + b``; ``W`` and ``b`` start at zero, so the layer starts as the identity and
    learns how much the code should modulate each channel.

    Args:
        code_dim: ``D``, the width of the code.
        channels: ``C``, the channels of the modulated features.

    Shapes:
        ``features (B, C, H, W)``, ``code (B, D)`` -> ``(B, C, H, W)``.

    Examples:
        >>> layer = FiLM(code_dim=5, channels=8)
        >>> x = torch.randn(2, 8, 4, 4)
        >>> torch.equal(layer(x, torch.randn(2, 5)), x)  # zero-initialised: the identity
        True
    """

    def __init__(self, *, code_dim: int, channels: int) -> None:
        super().__init__()
        self.code_dim = check_positive_int("code_dim", code_dim)
        self.channels = check_positive_int("channels", channels)
        self.proj = nn.Linear(code_dim, 2 * channels)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, features: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        check_rank("code", code, 2, "(B, D)")
        check_floating("code", code)
        check_channels("code", code, self.code_dim)
        check_rank("features", features, 4, "(B, C, H, W)")
        check_channels("features", features, self.channels)
        gamma, beta = self.proj(code.to(self.proj.weight.dtype)).chunk(2, dim=1)
        return film(features, gamma, beta)

    def extra_repr(self) -> str:
        return f"code_dim={self.code_dim}, channels={self.channels}"
