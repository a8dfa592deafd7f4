"""Tests of condgan.train.precision: precision modes, the guarded optimizer step, Adam, channels_last."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from condgan.train import NonFiniteError, Precision, make_adam, make_precision, to_channels_last


def test_modes_on_cpu():
    fp32 = make_precision("cpu")
    assert (
        fp32 == Precision(device=torch.device("cpu"), mode="fp32")
        and fp32.dtype is None
        and fp32.scaler is None
    )
    bf16 = make_precision(torch.device("cpu"), "bf16")
    assert bf16.dtype is torch.bfloat16
    x = torch.randn(2, 4)
    with fp32.autocast():
        assert nn.Linear(4, 4)(x).dtype == torch.float32
    with bf16.autocast():
        assert nn.Linear(4, 4)(x).dtype == torch.bfloat16


def test_fp16_on_cpu_is_a_clear_error():
    with pytest.raises(
        ValueError, match=r"mode: 'fp16' needs a CUDA device .* got device 'cpu'; use mode='bf16'"
    ):
        make_precision("cpu", "fp16")


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("cpu", "fp8"), ValueError, r"mode: expected one of \('fp32', 'bf16', 'fp16'\), got 'fp8'"),
        ((0,), TypeError, "device: expected a str or torch.device, got int"),
        (("gpu0",), ValueError, "device: expected a device like 'cpu' or 'cuda:0', got 'gpu0'"),
    ],
)
def test_make_precision_validation(args, error, match):
    with pytest.raises(error, match=match):
        make_precision(*args)


def _quadratic():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    return net, torch.optim.Adam(net.parameters(), lr=0.1)


def test_backward_step_steps_and_reports_grad_norm():
    net, opt = _quadratic()
    loss = net(torch.ones(4, 3)).square().mean()
    loss.backward()
    expected_norm = float(torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in net.parameters()])))
    before = [p.detach().clone() for p in net.parameters()]
    loss = net(torch.ones(4, 3)).square().mean()
    report = make_precision("cpu").backward_step(loss, opt, losses={"mse": loss})
    assert report.stepped and report.reason is None
    assert report.values["mse"] == pytest.approx(float(loss.detach()))
    assert report.values["grad_norm"] == pytest.approx(expected_norm, rel=1e-6)
    assert all(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_backward_step_zeroes_old_gradients():
    net, opt = _quadratic()
    for p in net.parameters():
        p.grad = torch.full_like(p, 1e6)  # stale gradients must not leak into the step
    loss = net(torch.ones(4, 3)).square().mean()
    report = make_precision("cpu").backward_step(loss, opt)
    assert report.values["grad_norm"] < 1e3


def test_backward_step_raise_and_skip():
    net, opt = _quadratic()
    p = make_precision("cpu")
    bad = net(torch.ones(2, 3)).sum() * float("nan")
    with pytest.raises(NonFiniteError, match=r"non-finite mine = nan at stage 'st', step 4") as err:
        p.backward_step(bad, opt, losses={"mine": bad}, stage="st", step=4)
    assert err.value.value != err.value.value  # NaN
    assert not opt.state  # Adam never stepped
    before = [q.detach().clone() for q in net.parameters()]
    bad = net(torch.ones(2, 3)).sum() * float("nan")
    report = p.backward_step(bad, opt, on_nonfinite="skip")
    assert not report.stepped and "non-finite loss" in report.reason
    assert not opt.state and all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_backward_step_without_check_still_reports():
    net, opt = _quadratic()
    loss = net(torch.ones(2, 3)).sum()
    report = make_precision("cpu").backward_step(loss, opt, check_finite=False)
    assert report.stepped and set(report.values) == {"loss"}


def test_backward_step_validation():
    net, opt = _quadratic()
    p = make_precision("cpu")
    with pytest.raises(TypeError, match="loss: expected a torch.Tensor, got float"):
        p.backward_step(1.0, opt)
    with pytest.raises(ValueError, match=r"loss: expected a scalar tensor, got shape \(2, 1\)"):
        p.backward_step(net(torch.ones(2, 3)), opt)
    with pytest.raises(ValueError, match="loss: expected a tensor that requires grad"):
        p.backward_step(torch.tensor(1.0), opt)
    with pytest.raises(TypeError, match="optimizer: expected a torch.optim.Optimizer, got str"):
        p.backward_step(net(torch.ones(1, 3)).sum(), "adam")
    with pytest.raises(ValueError, match="on_nonfinite: expected 'raise' or 'skip', got 'warn'"):
        p.backward_step(net(torch.ones(1, 3)).sum(), opt, on_nonfinite="warn")


def test_make_adam():
    net = nn.Linear(2, 2)
    opt = make_adam(net.parameters(), device="cpu")
    assert isinstance(opt, torch.optim.Adam)
    assert opt.defaults["lr"] == 2e-4 and opt.defaults["betas"] == (0.5, 0.999)
    assert opt.defaults["foreach"] is True and not opt.defaults["fused"]
    groups = make_adam([{"params": [net.weight], "lr": 1e-3}, {"params": [net.bias]}], device="cpu", lr=1e-2)
    assert [g["lr"] for g in groups.param_groups] == [1e-3, 1e-2]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lr": 0.0}, ValueError, "lr: expected > 0, got 0.0"),
        ({"lr": float("nan")}, TypeError, "lr: expected a finite float, got nan"),
        ({"betas": (0.5, 1.0)}, ValueError, r"betas: expected two floats in \[0, 1\), got \(0.5, 1.0\)"),
        ({"device": 3}, TypeError, "device: expected a str or torch.device, got int"),
        ({"weight_decay": -1.0}, ValueError, "eps, weight_decay: expected >= 0"),
    ],
)
def test_make_adam_validation(kwargs, error, match):
    args = {"device": "cpu", **kwargs}
    with pytest.raises(error, match=match):
        make_adam(nn.Linear(2, 2).parameters(), **args)
    with pytest.raises(ValueError, match="params: expected at least one parameter, got an empty iterable"):
        make_adam([], device="cpu")


@settings(deadline=None, max_examples=8)
@given(channels=st.integers(4, 16), size=st.integers(4, 12))
def test_channels_last_keeps_values(channels, size):
    conv = nn.Conv2d(3, channels, 3, padding=1)
    x = torch.randn(2, 3, size, size)
    expected = conv(x)
    conv2, x2 = to_channels_last(conv, x)
    assert conv2 is conv and conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert x2.is_contiguous(memory_format=torch.channels_last) and torch.equal(x2, x)
    torch.testing.assert_close(conv(x2), expected, atol=1e-5, rtol=1e-5)


def test_channels_last_validation():
    with pytest.raises(
        ValueError, match=r"items\[0\]: expected a 4-d \(B, C, H, W\) tensor, got shape \(2, 3\)"
    ):
        to_channels_last(torch.zeros(2, 3))
    with pytest.raises(TypeError, match=r"items\[1\]: expected an nn.Module or a torch.Tensor, got int"):
        to_channels_last(nn.Identity(), 3)
    with pytest.raises(ValueError, match="items: expected at least one module or 4-d tensor, got none"):
        to_channels_last()


def test_grad_scaler_overflow_is_a_skip_not_an_error():
    """The fp16 path (GradScaler) exercised on the CPU: an overflow skips the step and lowers the scale."""
    net, opt = _quadratic()
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**127, growth_interval=1)
    p = Precision(device=torch.device("cpu"), mode="fp32", scaler=scaler)
    before = [q.detach().clone() for q in net.parameters()]
    loss = net(torch.full((2, 3), 1e3)).square().mean()  # finite loss, but loss * 2**127 overflows
    report = p.backward_step(loss, opt, stage="s", step=0)
    assert not report.stepped and "GradScaler skipped the step" in report.reason
    assert scaler.get_scale() == 2.0**126
    assert not opt.state and all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    scaler.update(new_scale=1024.0)
    loss = net(torch.ones(2, 3)).square().mean()
    report = p.backward_step(loss, opt, stage="s", step=1)  # a normal scaled step, unscaled before clipping
    assert report.stepped and report.values["grad_norm"] < 100
    assert all(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    bad = net(torch.ones(2, 3)).sum() * float("nan")
    with pytest.raises(NonFiniteError, match=r"non-finite loss = nan at stage 's', step 2"):
        p.backward_step(bad, opt, stage="s", step=2)
    loss = net(torch.ones(2, 3)).square().mean()
    assert p.backward_step(loss, opt, step=3).stepped  # the scaler's per-step state was reset after the error
