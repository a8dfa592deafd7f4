"""Tests of condgan.train.gan_step: the thin conditional GAN step."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from condgan.losses import d_fake_loss, d_real_loss, g_loss, matching_aware_d_loss
from condgan.train import (
    NonFiniteError,
    conditional_gan_step,
    make_adam,
    make_precision,
    set_requires_grad,
    to_channels_last,
)

KEYS = ["d_total", "d_real", "d_mismatch", "d_fake", "g_adv", "g_rec", "g_total", "skipped"]


def _setup(tiny_gan, *, seed=0, batchnorm=False, adam=True):
    g, d = tiny_gan.make_models(seed, batchnorm=batchnorm)
    if adam:
        return g, d, make_adam(g.parameters(), device="cpu"), make_adam(d.parameters(), device="cpu")
    return g, d, torch.optim.SGD(g.parameters(), lr=0.1), torch.optim.SGD(d.parameters(), lr=0.1)


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def test_step_returns_the_losses_it_optimised(tiny_gan):
    g, d, go, do = _setup(tiny_gan)
    data = tiny_gan.make_data(batch=4)
    x, c = data["x"], data["c"]
    with torch.no_grad():  # expected values, computed independently before the step
        fake = g(data["z"], c)
        expected = matching_aware_d_loss(d(x, c), d(data["x_other"], c), d(fake, c), kind="bce")
        expected_rec = (fake - x).abs().mean()
    g_before, d_before = _params(g), _params(d)
    out = conditional_gan_step(**tiny_gan.step_kwargs(g, d, go, do, data, make_precision("cpu"), stage="s"))
    assert list(out)[: len(KEYS)] == KEYS and {"d_grad_norm", "g_grad_norm"} <= set(out)
    assert out["d_total"] == pytest.approx(float(expected.total), rel=1e-5)
    assert out["d_real"] == pytest.approx(float(expected.real), rel=1e-5)
    assert out["d_mismatch"] == pytest.approx(float(expected.mismatched), rel=1e-5)
    assert out["d_fake"] == pytest.approx(float(expected.fake), rel=1e-5)
    assert out["g_rec"] == pytest.approx(float(expected_rec), rel=1e-5)
    assert out["g_total"] == pytest.approx(out["g_adv"] + 10.0 * out["g_rec"], rel=1e-5)
    assert out["skipped"] == 0
    assert all(not torch.equal(a, b) for a, b in zip(g_before, _params(g), strict=True))  # both nets moved
    assert all(not torch.equal(a, b) for a, b in zip(d_before, _params(d), strict=True))
    assert all(p.requires_grad for p in d.parameters())  # D unfrozen after the G step


def test_generator_step_uses_the_updated_discriminator(tiny_gan):
    """The G loss is computed by a fresh D call after D's update (pix2pix / official order)."""
    g, d, go, do = _setup(tiny_gan, adam=False)
    data = tiny_gan.make_data(batch=4)
    precision = make_precision("cpu")
    g_copy, _ = tiny_gan.make_models(0)
    out = conditional_gan_step(**tiny_gan.step_kwargs(g, d, go, do, data, precision, reconstruction=None))
    with torch.no_grad():
        expected = g_loss(d(g_copy(data["z"], data["c"]), data["c"]))  # d is already updated here
    assert out["g_adv"] == pytest.approx(float(expected), rel=1e-5)
    assert out["g_rec"] == 0.0 and out["g_total"] == out["g_adv"]


@pytest.mark.parametrize("loss", ["bce", "hinge", "lsgan"])
def test_single_d_call_equals_separate_calls_without_batchnorm(tiny_gan, loss):
    results = []
    for single in (True, False):
        g, d, go, do = _setup(tiny_gan, adam=False)
        kwargs = tiny_gan.step_kwargs(g, d, go, do, tiny_gan.make_data(batch=4), make_precision("cpu"))
        out = conditional_gan_step(**kwargs, loss=loss, single_d_call=single)
        results.append((out, _params(g) + _params(d)))
    (a, pa), (b, pb) = results
    for key in KEYS:
        assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-6), key
    for x, y in zip(pa, pb, strict=True):
        torch.testing.assert_close(x, y, atol=1e-6, rtol=1e-5)


def test_without_mismatch_term(tiny_gan):
    g, d, go, do = _setup(tiny_gan)
    data = tiny_gan.make_data(batch=4)
    with torch.no_grad():
        fake = g(data["z"], data["c"])
        real_term = d_real_loss(d(data["x"], data["c"]))
        fake_term = d_fake_loss(d(fake, data["c"]))
    kwargs = tiny_gan.step_kwargs(
        g, d, go, do, data, make_precision("cpu"), mismatched=None, d_weights=(2.0, 5.0, 0.5)
    )
    out = conditional_gan_step(**kwargs)
    assert out["d_mismatch"] == 0.0
    assert out["d_total"] == pytest.approx(2.0 * float(real_term) + 0.5 * float(fake_term), rel=1e-5)


def test_d_weights_scale_the_terms(tiny_gan):
    g, d, go, do = _setup(tiny_gan)
    data = tiny_gan.make_data(batch=4)
    out = conditional_gan_step(
        **tiny_gan.step_kwargs(g, d, go, do, data, make_precision("cpu"), d_weights=(1.0, 0.1, 0.9))
    )
    assert out["d_total"] == pytest.approx(
        out["d_real"] + 0.1 * out["d_mismatch"] + 0.9 * out["d_fake"], rel=1e-5
    )


def test_bf16_step_runs_on_cpu(tiny_gan):
    g, d, go, do = _setup(tiny_gan)
    precision = make_precision("cpu", "bf16")
    out = conditional_gan_step(**tiny_gan.step_kwargs(g, d, go, do, tiny_gan.make_data(batch=4), precision))
    assert all(math.isfinite(v) for v in out.values()) and out["skipped"] == 0
    assert all(p.dtype == torch.float32 for p in g.parameters())  # master weights stay fp32


def test_channels_last_step_matches_contiguous(tiny_gan):
    outs = []
    for channels_last in (False, True):
        g, d, go, do = _setup(tiny_gan, adam=False)
        data = tiny_gan.make_data(batch=4)
        if channels_last:
            to_channels_last(g, d)
            data["x"], data["x_other"] = to_channels_last(data["x"], data["x_other"])
            assert d.conv.weight.is_contiguous(memory_format=torch.channels_last)
        outs.append(conditional_gan_step(**tiny_gan.step_kwargs(g, d, go, do, data, make_precision("cpu"))))
        if channels_last:
            assert d.conv.weight.is_contiguous(memory_format=torch.channels_last)  # the step kept the format
    for key in KEYS:
        assert outs[0][key] == pytest.approx(outs[1][key], rel=1e-4, abs=1e-6), key


def test_nan_weight_raises_naming_stage_step_and_loss(tiny_gan):
    g, d, go, do = _setup(tiny_gan)
    with torch.no_grad():
        d.fc.bias.fill_(float("nan"))
    kwargs = tiny_gan.step_kwargs(g, d, go, do, tiny_gan.make_data(batch=4), make_precision("cpu"))
    with pytest.raises(NonFiniteError, match=r"non-finite d_real = nan at stage 'render', step 17") as err:
        conditional_gan_step(**kwargs, stage="render", step=17)
    assert (err.value.stage, err.value.step, err.value.name) == ("render", 17, "d_real")
    assert all(p.requires_grad for p in d.parameters())


def test_nan_loss_raises_naming_the_loss(tiny_gan):
    g, d, go, do = _setup(tiny_gan)
    data = tiny_gan.make_data(batch=4)
    kwargs = tiny_gan.step_kwargs(
        g, d, go, do, data, make_precision("cpu"), reconstruction=lambda fake: fake.mean() * float("inf")
    )
    with pytest.raises(NonFiniteError, match=r"non-finite g_rec = -?inf at stage 'shape', step 3"):
        conditional_gan_step(**kwargs, stage="shape", step=3)
    assert all(p.requires_grad for p in d.parameters())  # D unfrozen even after the error


def test_nonfinite_gradient_is_caught_before_the_step(tiny_gan):
    class InfGrad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            return grad * float("inf")

    g, d, go, do = _setup(tiny_gan)
    data = tiny_gan.make_data(batch=4)

    class G(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = g

        def forward(self, z, c):
            return InfGrad.apply(self.inner(z, c))

    before = _params(g)
    kwargs = tiny_gan.step_kwargs(G(), d, go, do, data, make_precision("cpu"), reconstruction=None)
    with pytest.raises(NonFiniteError, match=r"non-finite g_grad_norm = (inf|nan) at stage 'x', step 0"):
        conditional_gan_step(**kwargs, stage="x")
    assert all(torch.equal(a, b) for a, b in zip(before, _params(g), strict=True))


def test_skip_mode_counts_and_leaves_optimizer_state_alone(tiny_gan):
    g, d, go, do = _setup(tiny_gan)
    data = tiny_gan.make_data(batch=4)
    precision = make_precision("cpu")
    conditional_gan_step(**tiny_gan.step_kwargs(g, d, go, do, data, precision))  # Adam state exists now
    g_state = [{k: v.clone() for k, v in go.state[p].items()} for p in g.parameters()]
    g_before = _params(g)
    d_before = _params(d)
    bad = tiny_gan.step_kwargs(
        g, d, go, do, data, precision, reconstruction=lambda fake: fake.mean() * float("nan")
    )
    out = conditional_gan_step(**bad, on_nonfinite="skip", step=1)
    assert out["skipped"] == 1 and math.isnan(out["g_rec"])
    assert all(torch.equal(a, b) for a, b in zip(g_before, _params(g), strict=True))  # G step skipped
    assert any(not torch.equal(a, b) for a, b in zip(d_before, _params(d), strict=True))  # D step taken
    for p, saved in zip(g.parameters(), g_state, strict=True):  # Adam moments and step counts untouched
        assert go.state[p].keys() == saved.keys() == {"step", "exp_avg", "exp_avg_sq"}
        for key, value in saved.items():
            assert torch.equal(go.state[p][key], value), key
        assert float(go.state[p]["step"]) == 1.0
    assert all(p.grad is None for p in g.parameters())

    with torch.no_grad():
        d.fc.weight.fill_(float("nan"))
    out = conditional_gan_step(**bad, on_nonfinite="skip", step=2)
    assert out["skipped"] == 2


def test_set_requires_grad():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    set_requires_grad([a, b], False)
    assert not any(p.requires_grad for p in [*a.parameters(), *b.parameters()])
    set_requires_grad(a, True)
    assert all(p.requires_grad for p in a.parameters())
    with pytest.raises(TypeError, match="flag: expected a bool, got int"):
        set_requires_grad(a, 1)
    with pytest.raises(TypeError, match=r"modules\[1\]: expected an nn.Module, got str"):
        set_requires_grad([a, "b"], True)


@pytest.mark.parametrize(
    ("override", "error", "match"),
    [
        ({"generator": "g"}, TypeError, "generator: expected an nn.Module, got str"),
        ({"d_optimizer": None}, TypeError, "d_optimizer: expected a torch.optim.Optimizer, got NoneType"),
        ({"precision": "fp32"}, TypeError, "precision: expected a Precision from make_precision"),
        ({"g_inputs": [1]}, TypeError, "g_inputs: expected a tuple of generator inputs, got list"),
        ({"real": []}, TypeError, r"real: expected a tuple \(x, \*conditions\) of tensors, got list"),
        ({"real": ()}, ValueError, "real: expected at least the sample x, got an empty tuple"),
        ({"mismatched": (torch.zeros(4, 3, 8, 8),)}, ValueError, "mismatched: expected 2 tensors like real"),
        (
            {"fake_conditions": ()},
            ValueError,
            r"fake_conditions: expected 1 tensors \(the conditions of real\), got 0",
        ),
        ({"fake_conditions": (1,)}, TypeError, r"fake_conditions\[0\]: expected a torch.Tensor, got int"),
        (
            {"reconstruction": 3},
            TypeError,
            "reconstruction: expected a callable fake -> scalar or None, got int",
        ),
        (
            {"reconstruction_weight": -1.0},
            ValueError,
            "reconstruction_weight: expected a finite float >= 0, got -1.0",
        ),
        ({"loss": "wgan"}, ValueError, r"loss: expected one of \['bce', 'hinge', 'lsgan'\], got 'wgan'"),
        ({"d_weights": (1.0, 1.0)}, ValueError, r"d_weights: expected three non-negative floats"),
        ({"on_nonfinite": "ignore"}, ValueError, "on_nonfinite: expected 'raise' or 'skip', got 'ignore'"),
        ({"step": -2}, ValueError, "step: expected an int >= 0, got -2"),
        ({"stage": 1}, TypeError, "stage: expected a str, got int"),
    ],
)
def test_validation(tiny_gan, override, error, match):
    g, d, go, do = _setup(tiny_gan)
    kwargs = tiny_gan.step_kwargs(g, d, go, do, tiny_gan.make_data(batch=4), make_precision("cpu"))
    kwargs.update(override)
    with pytest.raises(error, match=match):
        conditional_gan_step(**kwargs)


def test_batch_and_shape_mismatches_are_named(tiny_gan):
    g, d, go, do = _setup(tiny_gan)
    data = tiny_gan.make_data(batch=4)
    precision = make_precision("cpu")
    kwargs = tiny_gan.step_kwargs(g, d, go, do, data, precision, real=(data["x"], data["c"][:3]))
    with pytest.raises(
        ValueError, match=r"batch size mismatch: expected equal first dimensions, got real\[0\]=4"
    ):
        conditional_gan_step(**kwargs)
    small = torch.zeros(4, 3, 4, 4)
    kwargs = tiny_gan.step_kwargs(g, d, go, do, data, precision, mismatched=(small, data["c"]))
    with pytest.raises(ValueError, match=r"single_d_call: D input 0 must have the same per-sample shape"):
        conditional_gan_step(**kwargs)
    kwargs = tiny_gan.step_kwargs(
        g, d, go, do, data, precision, reconstruction=lambda f: (f - data["x"]).abs()
    )
    with pytest.raises(
        ValueError, match=r"reconstruction\(fake\): expected a scalar, got shape \(4, 3, 8, 8\)"
    ):
        conditional_gan_step(**kwargs)


@settings(deadline=None, max_examples=6)
@given(batch=st.integers(2, 5), n_mis=st.integers(1, 4), loss=st.sampled_from(["bce", "hinge", "lsgan"]))
def test_uneven_parts_split_back_correctly(tiny_gan, batch, n_mis, loss):
    """Parts of different batch sizes are concatenated for one D call and split back to the right terms."""
    g, d, go, do = _setup(tiny_gan, adam=False)
    data = tiny_gan.make_data(batch=batch)
    x_mis, c_mis = torch.rand(n_mis, 3, 8, 8), torch.randn(n_mis, 4)
    with torch.no_grad():
        fake = g(data["z"], data["c"])
        expected = matching_aware_d_loss(
            d(data["x"], data["c"]), d(x_mis, c_mis), d(fake, data["c"]), kind=loss
        )
    kwargs = tiny_gan.step_kwargs(g, d, go, do, data, make_precision("cpu"), mismatched=(x_mis, c_mis))
    out = conditional_gan_step(**kwargs, loss=loss)
    assert out["d_real"] == pytest.approx(float(expected.real), rel=1e-5, abs=1e-6)
    assert out["d_mismatch"] == pytest.approx(float(expected.mismatched), rel=1e-5, abs=1e-6)
    assert out["d_fake"] == pytest.approx(float(expected.fake), rel=1e-5, abs=1e-6)


def test_without_finite_checks_no_grad_norms_and_no_error(tiny_gan):
    g, d, go, do = _setup(tiny_gan)
    data = tiny_gan.make_data(batch=4)
    kwargs = tiny_gan.step_kwargs(
        g, d, go, do, data, make_precision("cpu"), reconstruction=lambda f: f.mean() * float("nan")
    )
    out = conditional_gan_step(**kwargs, check_finite=False)
    assert list(out) == KEYS and math.isnan(out["g_rec"]) and out["skipped"] == 0
