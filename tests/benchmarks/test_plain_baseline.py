"""The plain baseline trains the same networks with the same math as condgan's step (only slower)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def common(bench):
    return bench("bench_common")


def _iteration(common, model, variant, batch):
    cfg = common.run_config(image_size=32, width=0.0625)
    return common.build_iteration(model, variant, cfg=cfg, device="cpu", batch=batch, seed=3)


@pytest.mark.parametrize("model", ["shape", "render_compositional"])
def test_plain_equals_condgan_fp32_with_separate_d_calls(common, model):
    """fp32, three D calls, same seeds: the same losses, the same G gradients and the same weight updates.

    Freezing D in the G step does not change G's gradient, and the for-loop and foreach Adam compute the same
    update. Adam's first step moves every weight by about lr * sign(grad), so weights are compared where the
    gradient is not float noise (biases right before a BatchNorm get noise up to 1e-5, of either sign).
    """
    batch = common.synthetic_batch(32, 3)
    plain = _iteration(common, model, common.PLAIN, batch)
    ours = _iteration(common, model, common.Variant("ref", single_d_call=False, adam="foreach"), batch)
    torch.manual_seed(11)
    a = plain.run()
    torch.manual_seed(11)
    b = ours.run()
    for key in ("d_real", "d_mismatch", "d_fake", "d_total", "g_adv", "g_rec", "g_total"):
        assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-5), key
    plain_g = dict(plain.generator.named_parameters())
    for name, p in ours.generator.named_parameters():  # the G step's gradients (D updated, as in both)
        torch.testing.assert_close(p.grad, plain_g[name].grad, rtol=1e-3, atol=1e-4, msg=f"grad of G.{name}")
    compared = 0
    for module in ("generator", "discriminator"):
        pa = dict(getattr(plain, module).named_parameters())
        for name, p in getattr(ours, module).named_parameters():
            mask = p.grad.abs() > 1e-3  # ours keeps D's D-step gradient (D is frozen in its G step)
            compared += int(mask.sum())
            torch.testing.assert_close(p[mask], pa[name][mask], rtol=1e-5, atol=1e-6, msg=f"{module}.{name}")
    assert compared > 1000


def test_plain_step_trains(common):
    batch = common.synthetic_batch(32, 2)
    it = _iteration(common, "render_ih1_skip", common.PLAIN, batch)
    before = [p.detach().clone() for p in it.generator.parameters()]
    out = it.run()
    assert set(out) == {"d_total", "d_real", "d_mismatch", "d_fake", "g_adv", "g_rec", "g_total"}
    assert all(torch.isfinite(torch.tensor(v)) for v in out.values())
    assert any(not torch.equal(p, q) for p, q in zip(before, it.generator.parameters(), strict=True))
    plain = it.extra["plain"]
    assert not plain.g_opt.defaults["foreach"] and not plain.g_opt.defaults["fused"]


def test_plain_step_validates(bench):
    plain = bench("plain_baseline")
    with pytest.raises(TypeError, match="stage: expected a fashion_gan.modeling.Stage, got dict"):
        plain.PlainStep({}, None, None)
