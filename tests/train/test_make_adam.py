"""make_adam: foreach Adam by default, fused Adam on request (the CPU too), with its argument errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from condgan.train import make_adam


def test_fused_cpu_adam_matches_foreach():
    torch.manual_seed(0)
    nets = [nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)) for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    opts = [
        make_adam(nets[0].parameters(), device="cpu"),
        make_adam(nets[1].parameters(), device="cpu", fused=True),
    ]
    assert opts[0].defaults["foreach"] and not opts[0].defaults["fused"]
    assert opts[1].defaults["fused"] and not opts[1].defaults["foreach"]
    x = torch.randn(5, 6)
    for _ in range(4):
        for net, opt in zip(nets, opts, strict=True):
            opt.zero_grad()
            net(x).pow(2).mean().backward()
            opt.step()
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    assert opts[1].state[next(iter(nets[1].parameters()))]["exp_avg"].abs().sum() > 0


def test_make_adam_fused_validation():
    with pytest.raises(TypeError, match="fused: expected None, True or False, got str 'yes'"):
        make_adam(nn.Linear(2, 2).parameters(), device="cpu", fused="yes")
    with pytest.raises(
        ValueError, match="fused: expected floating-point parameters .* got parameter 1 with dtype"
    ):
        make_adam([torch.zeros(2), torch.zeros(2, dtype=torch.int64)], device="cpu", fused=True)
    groups = make_adam(
        [{"params": [torch.zeros(2, requires_grad=True)], "lr": 1e-3}], device="cpu", fused=True
    )
    assert groups.defaults["fused"] is True and groups.param_groups[0]["lr"] == 1e-3
    assert make_adam(nn.Linear(2, 2).parameters(), device="cpu", fused=False).defaults["foreach"] is True
