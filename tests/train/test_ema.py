"""Tests of condgan.train.ema: the EMA update math, buffers, and validation."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from condgan.train import make_ema, update_ema


@settings(deadline=None, max_examples=20)
@given(decay=st.floats(0.0, 1.0), steps=st.integers(1, 5), seed=st.integers(0, 1000))
def test_ema_follows_the_recursion(decay, steps, seed):
    """W_ema_0 = W_0, then W_ema <- decay * W_ema + (1 - decay) * W, checked against a float64 reference."""
    gen = torch.Generator().manual_seed(seed)
    net = nn.Linear(4, 3)
    ema = make_ema(net, decay=decay)
    reference = None
    for _ in range(steps):
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))
        update_ema(ema, net)
        current = [p.detach().double() for p in net.parameters()]
        if reference is None:
            reference = current
        else:
            reference = [decay * r + (1 - decay) * c for r, c in zip(reference, current, strict=True)]
    for got, want in zip(ema.module.parameters(), reference, strict=True):
        torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=1e-5)


def test_buffers_are_copied_not_averaged():
    net = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4))
    ema = make_ema(net, decay=0.9)
    for _ in range(3):
        net(torch.randn(8, 2) * 3 + 1)
        update_ema(ema, net)
    assert torch.equal(ema.module[1].running_mean, net[1].running_mean)
    assert torch.equal(ema.module[1].num_batches_tracked, net[1].num_batches_tracked)
    assert int(ema.n_averaged) == 3


def test_ema_is_a_frozen_eval_copy():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    ema = make_ema(net)
    assert ema.module is not net and not ema.training
    assert not any(p.requires_grad for p in ema.parameters())
    x = torch.randn(3, 2)
    update_ema(ema, net)
    torch.testing.assert_close(ema(x), net.eval()(x))


def test_ema_unwraps_data_parallel():
    net = nn.Linear(2, 2)
    ema = make_ema(nn.DataParallel(net), decay=0.5)
    assert isinstance(ema.module, nn.Linear)
    update_ema(ema, nn.DataParallel(net))
    assert torch.equal(ema.module.weight, net.weight)


def test_validation():
    with pytest.raises(ValueError, match=r"decay: expected a float in \[0, 1\], got 1.5"):
        make_ema(nn.Linear(2, 2), decay=1.5)
    with pytest.raises(TypeError, match="decay: expected a float in \\[0, 1\\], got str"):
        make_ema(nn.Linear(2, 2), decay="0.9")
    with pytest.raises(TypeError, match="module: expected an nn.Module, got int"):
        make_ema(3)
    ema = make_ema(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="module: expected 2 parameters like the EMA copy, got 4"):
        update_ema(ema, nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)))
    with pytest.raises(TypeError, match="ema: expected an AveragedModel from make_ema, got Linear"):
        update_ema(nn.Linear(2, 2), nn.Linear(2, 2))


def test_average_buffers_averages_float_buffers_and_copies_counters():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4))
    ema = make_ema(net, decay=0.5, average_buffers=True)
    expected = None
    for _ in range(3):
        net(torch.randn(8, 2) * 3 + 1)
        update_ema(ema, net)
        live = net[1].running_mean.clone()
        expected = live if expected is None else 0.5 * expected + 0.5 * live  # the first update copies
    torch.testing.assert_close(ema.module[1].running_mean, expected)
    assert not torch.equal(ema.module[1].running_mean, net[1].running_mean)
    assert torch.equal(ema.module[1].num_batches_tracked, net[1].num_batches_tracked)  # 3, not averaged
    with pytest.raises(TypeError, match="average_buffers: expected a bool, got int"):
        make_ema(net, average_buffers=1)
