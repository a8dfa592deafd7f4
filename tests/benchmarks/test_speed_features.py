"""The speed switches of condgan's training step, each on and off, on the CPU, through the benchmark.

bf16 autocast, channels_last, torch.compile, one D call and fused (CPU) Adam: every switch runs on the real
(tiny) FashionGAN networks and gives finite losses; the ones that must not change the math are compared with
the reference configuration.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn


@pytest.fixture(scope="module")
def bc(bench):
    return bench("bench_common")


def _run(bc, model, variant, seed=0):
    cfg = bc.run_config(image_size=32, width=0.0625)
    it = bc.build_iteration(model, variant, cfg=cfg, device="cpu", batch=bc.synthetic_batch(32, 2), seed=seed)
    torch.manual_seed(1)
    return it, it.run()


@pytest.mark.parametrize("model", ["shape", "render_compositional"])
def test_fused_adam_step_equals_foreach_step(bc, model):
    """Fused Adam changes the speed, not the training: one step agrees with foreach."""
    a, la = _run(bc, model, bc.Variant("foreach", adam="foreach"))
    b, lb = _run(bc, model, bc.Variant("fused", adam="fused"))
    assert la == pytest.approx(lb, rel=1e-5, abs=1e-6)
    compared = 0
    for (name, p), q in zip(a.generator.named_parameters(), b.generator.parameters(), strict=True):
        mask = p.grad.abs() > 1e-3  # not float noise (biases before a BatchNorm): Adam follows its sign
        compared += int(mask.sum())
        torch.testing.assert_close(p[mask], q[mask], rtol=1e-5, atol=1e-6, msg=name)
    assert compared > 1000


def test_bf16_channels_last_step(bc):
    it, losses = _run(bc, "render_ih1_skip", bc.condgan_variant("cpu"))
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    assert losses["skipped"] == 0
    convs = [m for m in it.discriminator.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)
    assert all(p.dtype == torch.float32 for p in it.generator.parameters())  # bf16 only inside autocast
    inputs, _ = it.inputs()
    assert inputs.real[0].is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("single_d_call", [True, False])
def test_one_d_call_switch(bc, single_d_call):
    _, losses = _run(bc, "shape", bc.Variant("v", single_d_call=single_d_call))
    assert all(torch.isfinite(torch.tensor(v)) for k, v in losses.items())


def test_compiled_step_matches_eager(bc):
    """torch.compile (aot_eager backend: the same graph capture as inductor, fast to build) of G and D in the
    condgan step: the same losses as eager."""
    eager, le = _run(bc, "shape", bc.Variant("eager"))
    compiled, lc = _run(bc, "shape", bc.Variant("compiled", compile=True, compile_backend="aot_eager"))
    assert lc == pytest.approx(le, rel=1e-4, abs=1e-5)
    assert compiled.generator is not compiled.eager_generator  # the run used the compiled wrappers
