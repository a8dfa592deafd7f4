"""Tests of condgan.nets.conditional_discriminator."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from condgan.nets import ConditionalDiscriminator, ProjectionHead

# stage-1-like: 7-channel softmax input at 32, constraint 4x8x8 fused at 8, mids at 16
STAGE1 = dict(
    in_channels=7,
    channels=(4, 8, 8),
    input_softmax=True,
    condition_channels=4,
    condition_size=8,
    condition_encoder="conv3x3",
    condition_encoder_channels=(4, 8),
    fuse_at=8,
    mid_at=16,
    mid_channels=(8, 4),
    code_dim=10,
    code_reduced_dim=3,
    head_channels=8,
)
# ih1-like two-stream: condition stream 32 -> 4 meets the image stream at 4
TWO_STREAM = dict(
    in_channels=3,
    channels=(4, 8, 8),
    condition_channels=3,
    condition_size=32,
    condition_encoder="strided",
    condition_encoder_channels=(4, 8, 8),
    fuse_at=4,
    mid_at=4,
    mid_channels=(8,),
    code_dim=10,
    code_reduced_dim=3,
    head_channels=8,
)


def stage1_inputs(batch=2):
    return torch.randn(batch, 7, 32, 32), torch.rand(batch, 4, 8, 8), torch.randn(batch, 10)


def test_shapes():
    d = ConditionalDiscriminator(**STAGE1)
    assert d.image_size == 32 and d(*stage1_inputs()).shape == (2,)
    d2 = ConditionalDiscriminator(**TWO_STREAM)
    assert d2(torch.randn(3, 3, 32, 32), torch.randn(3, 3, 32, 32), torch.randn(3, 10)).shape == (3,)


def test_structure():
    d = ConditionalDiscriminator(**STAGE1)
    assert not hasattr(d.blocks[0], "norm") and hasattr(d.blocks[1], "norm")  # no BN on the first conv
    enc = d.condition_encoder
    assert not hasattr(enc[0], "norm") and hasattr(enc[1], "norm")  # conv3x3 (no BN) -> conv3x3 + BN
    assert [type(m) for m in d.code_branch.body] == [nn.Linear, nn.BatchNorm1d, nn.LeakyReLU]
    conv1x1, last = d.head
    assert conv1x1.conv.in_channels == 8 + 3 and conv1x1.conv.kernel_size == (1, 1)
    assert last.conv.kernel_size == (4, 4) and last.conv.padding == (0, 0) and last.conv.out_channels == 1
    # the block after the fusion at 8 takes the image features plus the encoded condition
    assert d.blocks[2].conv.in_channels == 8 + 8
    d2 = ConditionalDiscriminator(**TWO_STREAM)
    assert [b.conv.stride for b in d2.condition_encoder] == [(2, 2)] * 3
    assert d2.mid[0].conv.in_channels == 8 + 8  # both streams concatenated


@torch.no_grad()
def test_input_softmax_makes_logit_shifts_irrelevant():
    torch.manual_seed(0)
    d = ConditionalDiscriminator(**STAGE1).eval()
    x, c, code = stage1_inputs()
    torch.testing.assert_close(d(x + 3.0, c, code), d(x, c, code), rtol=1e-5, atol=1e-5)
    one_hot = torch.nn.functional.one_hot(torch.randint(0, 7, (2, 32, 32)), 7).permute(0, 3, 1, 2).float()
    assert torch.isfinite(d(one_hot, c, code)).all()
    plain = ConditionalDiscriminator(**dict(STAGE1, input_softmax=False)).eval()
    plain.load_state_dict(d.state_dict())
    assert not torch.allclose(plain(x + 3.0, c, code), plain(x, c, code))


@torch.no_grad()
def test_every_input_matters():
    torch.manual_seed(0)
    d = ConditionalDiscriminator(**TWO_STREAM).eval()
    x, c, code = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32), torch.randn(2, 10)
    base = d(x, c, code)
    assert not torch.allclose(base, d(x + 1, c, code))
    assert not torch.allclose(base, d(x, c + 1, code))
    assert not torch.allclose(base, d(x, c, code + 1))


def test_projection_head():
    d = ConditionalDiscriminator(**dict(STAGE1, head="projection"))
    assert isinstance(d.head, ProjectionHead) and d.head.code_dim == 3
    out = d(*stage1_inputs())
    assert out.shape == (2,)
    out.sum().backward()
    assert d.head.embed.weight.grad is not None


def test_no_code_no_condition():
    d = ConditionalDiscriminator(**dict(STAGE1, code_dim=0, condition_channels=0))
    assert d(torch.randn(2, 7, 32, 32)).shape == (2,)
    with pytest.raises(ValueError, match=r"head: expected 'concat' when code_dim=0"):
        ConditionalDiscriminator(**dict(STAGE1, code_dim=0, head="projection"))


def test_spectral_norm_everywhere():
    d = ConditionalDiscriminator(**dict(STAGE1, spectral_norm=True))
    weighted = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert weighted and all(hasattr(m, "parametrizations") for m in weighted)
    assert d(*stage1_inputs()).shape == (2,)


@settings(deadline=None, max_examples=5)
@given(batch=st.integers(2, 4), levels=st.integers(3, 4))
def test_image_size_follows_channels(batch, levels):
    size = 4 * 2**levels
    d = ConditionalDiscriminator(**dict(STAGE1, channels=(4,) * levels))
    assert d.image_size == size
    x = torch.randn(batch, 7, size, size)
    assert d(x, torch.rand(batch, 4, 8, 8), torch.randn(batch, 10)).shape == (batch,)


def test_torch_compile_smoke():
    torch.manual_seed(0)
    d = ConditionalDiscriminator(**STAGE1).eval()
    compiled = torch.compile(d, backend="aot_eager")
    args = stage1_inputs()
    torch.testing.assert_close(compiled(*args), d(*args), rtol=1e-4, atol=1e-5)


@torch.no_grad()
def test_bf16_autocast_and_channels_last():
    torch.manual_seed(0)
    d = ConditionalDiscriminator(**TWO_STREAM).eval()
    x, c, code = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32), torch.randn(2, 10)
    ref = d(x, c, code)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = d(x, c, code)
    assert low.shape == (2,) and torch.isfinite(low.float()).all()
    d_cl = d.to(memory_format=torch.channels_last)
    out = d_cl(x.to(memory_format=torch.channels_last), c.to(memory_format=torch.channels_last), code)
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"channels": ()}, "channels: expected at least one channel count"),
        ({"fuse_at": 32}, r"fuse_at: expected one of the resolutions \[16, 8, 4\], got 32"),
        ({"condition_size": 16}, r"condition_size: expected 8 \(the 'conv3x3' encoder"),
        ({"mid_at": 2}, r"mid_at: expected one of the resolutions \[16, 8, 4\], got 2"),
        ({"head": "mlp"}, r"head: expected one of \['concat', 'projection'\], got 'mlp'"),
        ({"head_channels": 0}, "head_channels: expected a positive int, got 0"),
        ({"code_dim": -2}, "code_dim: expected a non-negative int, got -2"),
    ],
)
def test_config_errors(change, match):
    with pytest.raises(ValueError, match=match):
        ConditionalDiscriminator(**dict(STAGE1, **change))


def test_forward_errors():
    d = ConditionalDiscriminator(**STAGE1)
    x, c, code = stage1_inputs()
    with pytest.raises(ValueError, match=r"x: expected shape \(B, 7, 32, 32\), got \(2, 3, 32, 32\)"):
        d(torch.randn(2, 3, 32, 32), c, code)
    with pytest.raises(ValueError, match=r"x: expected shape \(B, 7, 32, 32\), got \(2, 7, 64, 64\)"):
        d(torch.randn(2, 7, 64, 64), c, code)
    with pytest.raises(ValueError, match=r"condition: expected a tensor of shape \(B, 4, 8, 8\), got None"):
        d(x, None, code)
    with pytest.raises(
        ValueError, match="batch size mismatch: expected equal first dimensions, got x=2, condition=2, code=1"
    ):
        d(x, c, code[:1])
