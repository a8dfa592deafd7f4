"""Tests of condgan.layers.conv_norm_act: ConvNormAct, DownBlock, UpBlock, Conv3x3Block."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils import parametrize

from condgan.layers.conv_norm_act import Conv3x3Block, ConvNormAct, DownBlock, UpBlock


def test_conv_norm_act_structure_and_bias_default():
    block = ConvNormAct(4, 8)
    assert list(dict(block.named_children())) == ["conv", "norm", "act"]
    assert block.conv.bias is None  # a norm follows: no bias
    assert block.conv.padding == (1, 1)
    plain = ConvNormAct(4, 8, norm="none", act="none")
    assert list(dict(plain.named_children())) == ["conv"]
    assert plain.conv.bias is not None
    pre = ConvNormAct(4, 8, act_first=True, dropout=0.5)
    assert list(dict(pre.named_children())) == ["pre_act", "conv", "norm", "dropout"]
    assert ConvNormAct(4, 8, bias=True).conv.bias is not None


def test_conv_norm_act_blocks_never_share_an_activation():
    blocks = [ConvNormAct(4, 4, act="lrelu"), ConvNormAct(4, 4, act="lrelu")]
    assert blocks[0].act is not blocks[1].act
    assert isinstance(ConvNormAct(4, 4, act=nn.GELU).act, nn.GELU)


def test_conv_norm_act_values_match_manual_composition():
    torch.manual_seed(0)
    block = ConvNormAct(3, 5, kernel_size=3, norm="none", act="lrelu").eval()
    x = torch.randn(2, 3, 6, 6)
    expected = torch.nn.functional.leaky_relu(block.conv(x), 0.2)
    torch.testing.assert_close(block(x), expected)


@settings(deadline=None, max_examples=8)
@given(
    cin=st.integers(1, 6),
    cout=st.integers(1, 6),
    size=st.sampled_from([4, 8, 16]),
    batch=st.integers(1, 3),
)
def test_block_shapes(cin, cout, size, batch):
    x = torch.randn(batch, cin, size, size)
    assert DownBlock(cin, cout, norm="none")(x).shape == (batch, cout, size // 2, size // 2)
    assert UpBlock(cin, cout)(x).shape == (batch, cout, size * 2, size * 2)
    assert Conv3x3Block(cin, cout)(x).shape == (batch, cout, size, size)


def test_block_configurations():
    down = DownBlock(3, 8)
    assert (down.conv.kernel_size, down.conv.stride, down.conv.padding) == ((4, 4), (2, 2), (1, 1))
    assert isinstance(down.act, nn.LeakyReLU)
    up = UpBlock(8, 4)
    assert isinstance(up.conv, nn.ConvTranspose2d) and isinstance(up.act, nn.ReLU)
    assert (up.conv.kernel_size, up.conv.stride, up.conv.padding) == ((4, 4), (2, 2), (1, 1))
    assert DownBlock(3, 8, norm="none").conv.bias is not None


def test_spectral_norm_option():
    block = ConvNormAct(4, 8, spectral_norm=True)
    assert parametrize.is_parametrized(block.conv, "weight")
    up = UpBlock(4, 8, spectral_norm=True)
    assert parametrize.is_parametrized(up.conv, "weight")
    assert up(torch.randn(2, 4, 4, 4)).shape == (2, 8, 8, 8)
    # the spectral norm of the weight (as a C_out x rest matrix) is about 1 after a few power iterations
    block.train()
    for _ in range(20):
        block(torch.randn(2, 4, 8, 8))
    sigma = torch.linalg.matrix_norm(block.conv.weight.detach().flatten(1), ord=2)
    assert abs(float(sigma) - 1.0) < 0.05


def test_conv_norm_act_input_errors():
    block = ConvNormAct(4, 8)
    with pytest.raises(ValueError, match=r"x: expected 4 channels in dim 1, got 3"):
        block(torch.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"x: expected shape \(B, C, H, W\), got \(4, 8, 8\)"):
        block(torch.randn(4, 8, 8))


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"in_channels": 0}, ValueError, "in_channels: expected a positive int, got 0"),
        ({"out_channels": 2.0}, TypeError, "out_channels: expected a positive int, got float"),
        ({"padding": -1}, ValueError, "padding: expected a non-negative int, got -1"),
        ({"dropout": 1.0}, ValueError, r"dropout: expected a probability in \[0, 1\), got 1.0"),
        ({"bias": 1}, TypeError, "bias: expected a bool or None, got int"),
        ({"norm": "group"}, ValueError, "norm: expected one of"),
    ],
)
def test_conv_norm_act_config_errors(kwargs, exc, match):
    args = {"in_channels": 4, "out_channels": 8}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        ConvNormAct(args.pop("in_channels"), args.pop("out_channels"), **args)


def test_gradcheck_float64():
    torch.manual_seed(0)
    block = ConvNormAct(2, 3, kernel_size=3, norm="batch", act="tanh").double()
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(block, (x,), eps=1e-6, atol=1e-5, fast_mode=True)
    up = UpBlock(2, 2, norm="instance", act="tanh").double()
    assert torch.autograd.gradcheck(
        up, (torch.randn(1, 2, 3, 3, dtype=torch.float64, requires_grad=True),), fast_mode=True
    )


def test_channels_last_and_bf16_autocast():
    torch.manual_seed(0)
    block = DownBlock(4, 8).eval()
    x = torch.randn(2, 4, 16, 16)
    ref = block(x)
    cl_block = DownBlock(4, 8).eval()
    cl_block.load_state_dict(block.state_dict())
    cl_block = cl_block.to(memory_format=torch.channels_last)
    out = cl_block(x.to(memory_format=torch.channels_last))
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = block(x)
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), ref, rtol=0.05, atol=0.05)


def test_up_block_resize_mode_has_no_transposed_conv_and_no_checkerboard():
    torch.manual_seed(0)
    block = UpBlock(4, 2, mode="resize", norm="none", act="none", bias=False)
    assert list(dict(block.named_children())) == ["upsample", "conv"]
    assert isinstance(block.conv, nn.Conv2d) and block.conv.kernel_size == (3, 3) and block.mode == "resize"
    # A constant input gives a constant output away from the border: nearest upsampling + a 3x3 conv
    # treats every output pixel alike, while a stride-2 deconv alternates between two kernels' parities.
    const = torch.ones(1, 4, 6, 6)
    inner = block(const)[0, :, 1:-1, 1:-1]
    torch.testing.assert_close(inner, inner[:, :1, :1].expand_as(inner))
    deconv = UpBlock(4, 2, norm="none", act="none", bias=False)
    with torch.no_grad():
        deconv.conv.weight.normal_()
    inner = deconv(const)[0, :, 1:-1, 1:-1]
    assert not torch.allclose(inner, inner[:, :1, :1].expand_as(inner))
    with pytest.raises(ValueError, match=r"mode: expected one of \['deconv', 'resize'\], got 'bilinear'"):
        UpBlock(4, 2, mode="bilinear")
    with pytest.raises(ValueError, match="upsample: expected a positive int, got 0"):
        ConvNormAct(4, 2, upsample=0)
