"""Tests of condgan.nets.conditional_generator."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from condgan.nets import ConditionalGenerator

# A stage-1-like tiny generator: fusion with an 8x8 constraint at 8, mid blocks at 16, 32x32 output.
STAGE1 = dict(
    noise_dim=6,
    code_dim=10,
    code_reduced_dim=4,
    up_channels=(16, 8, 8),
    condition_channels=4,
    condition_size=8,
    condition_encoder="conv3x3",
    condition_encoder_channels=(4, 8),
    fuse_at=8,
    mid_at=16,
    mid_channels=(8, 8),
)
# An ih1-like tiny generator: strided condition stream from 32x32 meeting at 4, mids at 8.
STAGE2 = dict(
    noise_dim=6,
    code_dim=10,
    code_reduced_dim=4,
    up_channels=(16, 8, 4),
    condition_channels=3,
    condition_size=32,
    condition_encoder="strided",
    condition_encoder_channels=(4, 4, 8),
    fuse_at=4,
    mid_at=8,
    mid_channels=(8, 4),
)


def inputs(batch=2, cond=(4, 8)):
    return torch.randn(batch, 6), torch.randn(batch, 10), torch.rand(batch, cond[0], cond[1], cond[1])


def test_logits_output_is_raw():
    torch.manual_seed(0)
    g = ConditionalGenerator(output="logits", out_channels=7, **STAGE1)
    y = g(*inputs())
    assert y.shape == (2, 7, 32, 32)
    assert g.image_size == 32
    assert y.abs().max().item() > 0  # not all zeros
    assert not isinstance(g.final.conv, nn.Tanh)
    assert not hasattr(g.final, "act") and not hasattr(g.final, "norm")


def test_image_output_is_tanh_bounded():
    torch.manual_seed(0)
    g = ConditionalGenerator(output="image", **STAGE2)
    y = g(*inputs(cond=(3, 32)))
    assert y.shape == (2, 3, 32, 32)
    assert y.abs().max().item() <= 1.0


def test_regions_output_shape_and_layout():
    torch.manual_seed(0)
    g = ConditionalGenerator(output="regions", num_regions=5, **STAGE2).eval()
    z, code, cond = inputs(cond=(3, 32))
    raw = {}
    g.final.register_forward_hook(lambda module, args, output: raw.update(y=output))
    y = g(z, code, cond)
    assert y.shape == (2, 5, 3, 32, 32)
    # region-major: region k holds channels 3k..3k+2 of the last deconv, after tanh
    assert g.final.conv.out_channels == 15
    torch.testing.assert_close(y[:, 3, 1], torch.tanh(raw["y"][:, 3 * 3 + 1]))


def test_structure_stage1_like():
    g = ConditionalGenerator(output="logits", out_channels=7, **STAGE1)
    # code branch: Linear -> LReLU, no norm
    assert [type(m) for m in g.code_branch.body] == [nn.Linear, nn.LeakyReLU]
    # stem: deconv 4x4 s1 p0 from z + reduced code
    assert (
        g.stem.conv.in_channels == 6 + 4
        and g.stem.conv.kernel_size == (4, 4)
        and g.stem.conv.padding == (0, 0)
    )
    # fusion at 8: the up block after it takes 8 + 8 channels
    assert g.ups[1].conv.in_channels == 8 + 8
    # condition encoder: 3x3 convs, BN on both (the generator normalises its first condition conv)
    assert all(b.conv.kernel_size == (3, 3) and hasattr(b, "norm") for b in g.condition_encoder)
    assert [b.conv.out_channels for b in g.mid] == [8, 8]


def test_forward_hooks_see_the_declared_resolutions():
    g = ConditionalGenerator(output="logits", out_channels=7, **STAGE1).eval()
    seen = {}

    def record(name, use_input):
        def hook(module, args, output):
            seen[name] = tuple((args[0] if use_input else output).shape)

        return hook

    g.condition_encoder.register_forward_hook(record("cond", False))
    g.mid.register_forward_hook(record("mid_in", True))
    g(*inputs())
    assert seen == {"cond": (2, 8, 8, 8), "mid_in": (2, 8, 16, 16)}


def test_conditioning_signals_all_matter():
    torch.manual_seed(0)
    g = ConditionalGenerator(output="logits", out_channels=3, **STAGE1).eval()
    z, code, cond = inputs()
    base = g(z, code, cond)
    assert not torch.allclose(base, g(z + 1, code, cond))
    assert not torch.allclose(base, g(z, code + 1, cond))
    assert not torch.allclose(base, g(z, code, cond + 1))


def test_official_noise_layout_accepted():
    torch.manual_seed(0)
    g = ConditionalGenerator(output="logits", out_channels=3, **STAGE1).eval()
    z, code, cond = inputs()
    torch.testing.assert_close(g(z[:, :, None, None], code[:, :, None, None], cond), g(z, code, cond))


def test_without_noise_condition_or_reduction():
    cfg = dict(STAGE1, noise_dim=0, code_reduced_dim=None, condition_channels=0, mid_channels=())
    g = ConditionalGenerator(output="image", **cfg)
    assert g.stem.conv.in_channels == 10
    assert g(None, torch.randn(2, 10)).shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match=r"z: expected None \(this network was built with noise_dim=0\)"):
        g(torch.randn(2, 6), torch.randn(2, 10))
    with pytest.raises(ValueError, match="condition: expected None"):
        g(None, torch.randn(2, 10), torch.rand(2, 4, 8, 8))


def test_backward_reaches_every_parameter():
    g = ConditionalGenerator(output="regions", num_regions=2, **STAGE2)
    g(*inputs(cond=(3, 32))).square().mean().backward()
    missing = [n for n, p in g.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert missing == []


@settings(deadline=None, max_examples=6)
@given(batch=st.integers(1, 3), levels=st.integers(2, 4), out=st.integers(1, 4))
def test_image_size_follows_up_channels(batch, levels, out):
    cfg = dict(STAGE1, up_channels=(8,) * levels, mid_at=8, mid_channels=(4,))
    g = ConditionalGenerator(output="logits", out_channels=out, **cfg).eval()
    size = 4 * 2**levels
    assert g(*inputs(batch)).shape == (batch, out, size, size)


@torch.no_grad()
def test_channels_last_and_bf16_autocast():
    torch.manual_seed(0)
    g = ConditionalGenerator(output="image", **STAGE2).eval()
    z, code, cond = inputs(cond=(3, 32))
    ref = g(z, code, cond)
    g_cl = g.to(memory_format=torch.channels_last)
    out = g_cl(z, code, cond.to(memory_format=torch.channels_last))
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = g(z, code, cond)
    assert low.dtype == torch.bfloat16 and low.shape == ref.shape
    assert float((low.float() - ref).abs().max()) < 0.1


def test_torch_compile_smoke():
    torch.manual_seed(0)
    g = ConditionalGenerator(output="logits", out_channels=3, **STAGE1).eval()
    compiled = torch.compile(g, backend="aot_eager")
    args = inputs()
    torch.testing.assert_close(compiled(*args), g(*args), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        (
            {"output": "rgb"},
            ValueError,
            r"output: expected one of \['logits', 'image', 'regions'\], got 'rgb'",
        ),
        (
            {"output": "regions"},
            ValueError,
            "num_regions: expected a positive int with output='regions', got None",
        ),
        ({"num_regions": 3}, ValueError, "num_regions: expected None unless output='regions', got 3"),
        ({"fuse_at": 12}, ValueError, r"fuse_at: expected one of the resolutions \[4, 8, 16\], got 12"),
        ({"condition_size": 16}, ValueError, r"condition_size: expected 8 \(the 'conv3x3' encoder"),
        (
            {"condition_encoder": "pool"},
            ValueError,
            r"condition_encoder: expected one of \['conv3x3', 'strided'\]",
        ),
        ({"mid_at": 4}, ValueError, "mid_at: expected a resolution >= fuse_at=8, got 4"),
        ({"mid_at": 64}, ValueError, r"mid_at: expected one of the resolutions \[4, 8, 16\], got 64"),
        ({"up_channels": ()}, ValueError, "up_channels: expected at least one channel count"),
        ({"noise_dim": -1}, ValueError, "noise_dim: expected a non-negative int, got -1"),
        ({"noise_dim": 0, "code_dim": 0}, ValueError, r"noise_dim: expected noise_dim \+ code_dim > 0"),
        ({"condition_size": 6}, ValueError, "condition_size: expected a power of two >= 1, got 6"),
    ],
)
def test_config_errors(change, exc, match):
    cfg = dict(STAGE1, output="logits", out_channels=7)
    cfg.update(change)
    with pytest.raises(exc, match=match):
        ConditionalGenerator(**cfg)


def test_forward_errors():
    g = ConditionalGenerator(output="logits", out_channels=7, **STAGE1)
    z, code, cond = inputs()
    with pytest.raises(ValueError, match=r"z: expected shape \(B, 6\), got \(2, 5\)"):
        g(torch.randn(2, 5), code, cond)
    with pytest.raises(ValueError, match=r"code: expected a tensor of shape \(B, 10\), got None"):
        g(z, None, cond)
    with pytest.raises(ValueError, match=r"condition: expected shape \(B, 4, 8, 8\), got \(2, 4, 16, 16\)"):
        g(z, code, torch.rand(2, 4, 16, 16))
    with pytest.raises(ValueError, match=r"condition: expected a tensor of shape \(B, 4, 8, 8\), got None"):
        g(z, code)
    with pytest.raises(
        ValueError, match="batch size mismatch: expected equal first dimensions, got z=2, code=3"
    ):
        g(z, torch.randn(3, 10), cond)
    with pytest.raises(TypeError, match="code: expected a floating-point tensor, got dtype torch.int64"):
        g(z, torch.ones(2, 10, dtype=torch.long), cond)
    with pytest.raises(TypeError, match="z: expected a torch.Tensor, got list"):
        g([0.0] * 6, code, cond)
