"""Exponential moving average (EMA) of a generator's weights.

GAN generators are usually evaluated with an EMA of their weights, which is smoother than the last iterate.
This is `torch.optim.swa_utils.AveragedModel` with `get_ema_multi_avg_fn`
(one fused ``lerp`` per device and dtype): parameters are averaged; buffers (BatchNorm running statistics) are
copied from the live model at each update, or averaged like the parameters with ``average_buffers=True`` (as
timm's model EMA does), so that the averaged weights do not run with statistics measured on other weights.

    W_ema <- decay * W_ema + (1 - decay) * W        (the first update copies W)

The EMA is an ``nn.Module``: save and load it with
[`condgan.train.save_checkpoint`][condgan.train.checkpoint.save_checkpoint] like any module.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from condgan.train.distributed import unwrap_model

__all__ = ["make_ema", "update_ema"]


def make_ema(module: nn.Module, decay: float = 0.999, *, average_buffers: bool = False) -> AveragedModel:
    """Create an EMA copy of ``module`` (a deep copy, in eval mode, without gradients).

    Args:
        module: The model to track. DDP / ``torch.compile`` wrappers are unwrapped first.
        decay: ``W_ema <- decay * W_ema + (1 - decay) * W``; in ``[0, 1]`` (0 copies, 1 freezes).
        average_buffers: average the floating-point buffers too (integer ones such as BatchNorm's
            ``num_batches_tracked`` are copied); default: copy every buffer from the live model.

    Returns:
        An `AveragedModel`; call it like the model, update it with
        [`update_ema`][condgan.train.ema.update_ema] after each optimizer step.

    Examples:
        >>> net = nn.Linear(2, 1, bias=False)
        >>> ema = make_ema(net, decay=0.9)
        >>> update_ema(ema, net)  # first update copies
        >>> with torch.no_grad():
        ...     _ = net.weight.fill_(1.0)
        ...     _ = ema.module.weight.fill_(0.0)
        >>> update_ema(ema, net)
        >>> ema.module.weight  # 0.9 * 0 + 0.1 * 1
        Parameter containing:
        tensor([[0.1000, 0.1000]])
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected an nn.Module, got {type(module).__name__}")
    if isinstance(decay, bool) or not isinstance(decay, (int, float)):
        raise TypeError(f"decay: expected a float in [0, 1], got {type(decay).__name__}")
    if not (math.isfinite(decay) and 0.0 <= decay <= 1.0):
        raise ValueError(f"decay: expected a float in [0, 1], got {decay}")
    if not isinstance(average_buffers, bool):
        raise TypeError(f"average_buffers: expected a bool, got {type(average_buffers).__name__}")
    ema = AveragedModel(
        unwrap_model(module), multi_avg_fn=_ema_keeping_integers(float(decay)), use_buffers=average_buffers
    )
    ema.requires_grad_(False)
    ema.eval()
    return ema


def _ema_keeping_integers(decay: float):
    """torch's EMA update, except that integer tensors (step counters) take the live value."""
    average = get_ema_multi_avg_fn(decay)

    def update(ema_tensors, live_tensors, n_averaged):
        if ema_tensors and not (ema_tensors[0].is_floating_point() or ema_tensors[0].is_complex()):
            for ema_tensor, live_tensor in zip(ema_tensors, live_tensors, strict=True):
                ema_tensor.copy_(live_tensor)
            return
        average(ema_tensors, live_tensors, n_averaged)

    return update


@torch.no_grad()
def update_ema(ema: AveragedModel, module: nn.Module) -> None:
    """Fold the current weights of ``module`` into ``ema`` (buffers copied or averaged, as made).

    Args:
        ema: Made by [`make_ema`][condgan.train.ema.make_ema] from a model with the same structure.
        module: The live model (DDP / ``torch.compile`` wrappers are unwrapped).
    """
    if not isinstance(ema, AveragedModel):
        raise TypeError(f"ema: expected an AveragedModel from make_ema, got {type(ema).__name__}")
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected an nn.Module, got {type(module).__name__}")
    live = unwrap_model(module)
    n_ema = sum(1 for _ in ema.module.parameters())
    n_live = sum(1 for _ in live.parameters())
    if n_ema != n_live:
        raise ValueError(f"module: expected {n_ema} parameters like the EMA copy, got {n_live}")
    ema.update_parameters(live)
