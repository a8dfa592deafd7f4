"""Gradient penalties on the discriminator."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from condgan._checks import check_floating, check_tensor

__all__ = ["r1_penalty", "R1Penalty"]


def r1_penalty(real_logits: torch.Tensor, real_inputs: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
    """R1 penalty (Mescheder et al. 2018): ``E_x ||grad_x D(x)||^2`` on real data, differentiable.

    The gradient of ``real_logits.sum()`` is taken with ``create_graph=True`` so that the penalty can be
    back-propagated into the discriminator. With several inputs (e.g. the image and its condition) the squared
    norms are summed; with patch logits ``(B, 1, h, w)`` the gradient is that of each sample's summed logits.
    Multiply by ``gamma / 2`` for the usual weighting ([`R1Penalty`][condgan.losses.regularizers.R1Penalty]
    does). Samples must not interact inside D (BatchNorm in training mode makes them interact; use the penalty
    with eval-mode BN, another norm or none).

    Args:
        real_logits: ``(B,)`` or ``(B, ...)`` logits computed from ``real_inputs``.
        real_inputs: the tensor(s) ``(B, ...)`` the logits were computed from, with ``requires_grad=True``.

    Returns:
        A scalar: the batch mean of the squared gradient norm (computed in float32).

    Examples:
        >>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> float(r1_penalty((3.0 * x).sum(dim=1), x))  # grad = (3, 3) per sample: 9 + 9
        18.0
    """
    check_tensor("real_logits", real_logits)
    check_floating("real_logits", real_logits)
    if real_logits.numel() == 0:
        raise ValueError(f"real_logits: expected a non-empty batch, got shape {tuple(real_logits.shape)}")
    if real_logits.ndim == 0:
        raise ValueError(f"real_logits: expected shape (B,) or (B, ...), got {tuple(real_logits.shape)}")
    inputs = [real_inputs] if isinstance(real_inputs, torch.Tensor) else real_inputs
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence) or not inputs:
        raise TypeError(
            f"real_inputs: expected a tensor or a non-empty sequence of tensors, got {real_inputs!r}"
        )
    for i, t in enumerate(inputs):
        name = "real_inputs" if isinstance(real_inputs, torch.Tensor) else f"real_inputs[{i}]"
        check_tensor(name, t)
        check_floating(name, t)
        if not t.requires_grad:
            raise ValueError(
                f"{name}: expected a tensor with requires_grad=True (call .requires_grad_()), got one without"
            )
        if t.ndim == 0 or t.shape[0] != real_logits.shape[0]:
            raise ValueError(
                f"{name}: expected the batch size of real_logits ({real_logits.shape[0]}) in dim 0, "
                f"got shape {tuple(t.shape)}"
            )
    if not real_logits.requires_grad:
        raise ValueError(
            "real_logits: expected logits computed from real_inputs (requires_grad=True), got a constant"
        )
    grads = torch.autograd.grad(real_logits.sum(), list(inputs), create_graph=True, allow_unused=True)
    total = real_logits.new_zeros(real_logits.shape[0], dtype=torch.float32)
    for g in grads:
        if g is not None:
            total = total + g.float().square().flatten(1).sum(dim=1)
    return total.mean()


class R1Penalty(nn.Module):
    """``gamma / 2 * r1_penalty(real_logits, real_inputs)``.

    Args:
        gamma: the R1 weight (StyleGAN2 uses 10 at 1024 px; smaller images often use 0.1-1).

    Examples:
        >>> x = torch.ones(2, 3, requires_grad=True)
        >>> float(R1Penalty(gamma=1.0)(x.sum(dim=1), x))  # 1/2 * 3
        1.5
    """

    def __init__(self, *, gamma: float = 10.0) -> None:
        super().__init__()
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or gamma < 0:
            raise ValueError(f"gamma: expected a non-negative float, got {gamma!r}")
        self.gamma = float(gamma)

    def forward(
        self, real_logits: torch.Tensor, real_inputs: torch.Tensor | Sequence[torch.Tensor]
    ) -> torch.Tensor:
        return 0.5 * self.gamma * r1_penalty(real_logits, real_inputs)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}"
