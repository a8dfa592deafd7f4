"""Tests of condgan.layers.blocks: factories, conv blocks, U-Net halves, init."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils import parametrize

from condgan.layers.blocks import (
    Conv3x3Block,
    ConvNormAct,
    DownBlock,
    UNetDecoder,
    UNetEncoder,
    UpBlock,
    get_activation,
    get_norm_layer,
    init_weights,
    unet_channels,
)

# ---------------------------------------------------------------- factories


def test_get_norm_layer_names_and_classes():
    assert isinstance(get_norm_layer("batch")(8), nn.BatchNorm2d)
    inst = get_norm_layer("instance")(8)
    assert isinstance(inst, nn.InstanceNorm2d) and inst.affine
    assert get_norm_layer("none") is None and get_norm_layer(None) is None
    assert get_norm_layer("BATCH") is nn.BatchNorm2d
    assert isinstance(get_norm_layer(nn.BatchNorm2d)(4), nn.BatchNorm2d)
    assert isinstance(get_norm_layer(lambda c: nn.GroupNorm(2, c))(4), nn.GroupNorm)


def test_get_norm_layer_errors():
    with pytest.raises(ValueError, match=r"norm: expected one of .*'batch'.* got 'layer'"):
        get_norm_layer("layer")
    with pytest.raises(TypeError, match="norm: expected a str, a class or None, got int"):
        get_norm_layer(3)


def test_get_activation():
    lrelu = get_activation("lrelu")
    assert isinstance(lrelu, nn.LeakyReLU) and lrelu.negative_slope == 0.2
    assert get_activation("leaky_relu").negative_slope == 0.2
    assert isinstance(get_activation("relu"), nn.ReLU)
    assert isinstance(get_activation("tanh"), nn.Tanh)
    assert isinstance(get_activation(nn.SiLU), nn.SiLU)
    assert get_activation("none") is None and get_activation(None) is None
    assert get_activation("relu") is not get_activation("relu")  # a new module each time


def test_get_activation_errors():
    with pytest.raises(ValueError, match=r"act: expected one of .* got 'swish'"):
        get_activation("swish")
    with pytest.raises(TypeError, match="act: expected a str, an nn.Module subclass or None, got float"):
        get_activation(0.2)


# ---------------------------------------------------------------- ConvNormAct and friends


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


# ---------------------------------------------------------------- U-Net


def test_unet_channels():
    assert unet_channels(128) == (64, 128, 256, 512, 512, 512, 512)
    assert unet_channels(64) == (64, 128, 256, 512, 512, 512)
    assert unet_channels(32, base_channels=4, max_channels=16) == (4, 8, 16, 16, 16)
    with pytest.raises(ValueError, match="image_size: expected a power of two >= 2, got 48"):
        unet_channels(48)


def test_unet_encoder_structure():
    enc = UNetEncoder(3, channels=(4, 8, 8, 8))
    first, mid, last = enc.levels[0], enc.levels[1], enc.levels[-1]
    assert list(dict(first.named_children())) == ["conv"]  # no activation before, no norm after
    assert list(dict(mid.named_children())) == ["pre_act", "conv", "norm"]
    assert isinstance(mid.pre_act, nn.LeakyReLU)
    assert list(dict(last.named_children())) == ["pre_act", "conv"]  # innermost: no norm
    feats = enc(torch.randn(2, 3, 16, 16))
    assert [tuple(f.shape) for f in feats] == [(2, 4, 8, 8), (2, 8, 4, 4), (2, 8, 2, 2), (2, 8, 1, 1)]


def test_unet_encoder_errors():
    enc = UNetEncoder(3, channels=(4, 8, 8))
    with pytest.raises(ValueError, match=r"x: expected H and W divisible by 2\*\*levels = 8, got \(12, 12\)"):
        enc(torch.randn(1, 3, 12, 12))
    with pytest.raises(
        ValueError, match="channels: expected at least one channel count, got an empty sequence"
    ):
        UNetEncoder(3, channels=())
    with pytest.raises(ValueError, match=r"channels\[1\]: expected a positive int, got 0"):
        UNetEncoder(3, channels=(4, 0))


def test_unet_decoder_dropout_and_shapes():
    dec = UNetDecoder(
        in_channels=8, skip_channels=(8, 8, 4), channels=(8, 8, 4), out_channels=3, num_dropout=2
    )
    drops = [any(isinstance(m, nn.Dropout) for m in level.modules()) for level in dec.levels]
    assert drops == [True, True, False]
    assert dec.final.conv.bias is not None and not hasattr(dec.final, "norm")
    skips = [torch.randn(2, 8, 4, 4), torch.randn(2, 8, 8, 8), torch.randn(2, 4, 16, 16)]
    assert dec(torch.randn(2, 8, 2, 2), skips).shape == (2, 3, 32, 32)


def test_unet_decoder_uses_skips():
    torch.manual_seed(0)
    dec = UNetDecoder(in_channels=4, skip_channels=(4,), channels=(4,), out_channels=2, num_dropout=0).eval()
    x, skip = torch.randn(1, 4, 2, 2), torch.randn(1, 4, 4, 4)
    assert not torch.allclose(dec(x, [skip]), dec(x, [skip + 1.0]))


def test_unet_decoder_errors():
    dec = UNetDecoder(in_channels=4, skip_channels=(4,), channels=(4,), out_channels=2)
    with pytest.raises(ValueError, match="skips: expected 1 skip tensors, got 0"):
        dec(torch.randn(1, 4, 2, 2), [])
    with pytest.raises(ValueError, match=r"skips\[0\]: expected shape \(1, 4, 4, 4\), got \(1, 3, 4, 4\)"):
        dec(torch.randn(1, 4, 2, 2), [torch.randn(1, 3, 4, 4)])
    with pytest.raises(TypeError, match="skips: expected a sequence of tensors, got Tensor"):
        dec(torch.randn(1, 4, 2, 2), torch.randn(1, 4, 4, 4))
    with pytest.raises(ValueError, match=r"channels: expected 2 entries \(one per skip\), got 1"):
        UNetDecoder(in_channels=4, skip_channels=(4, 4), channels=(4,), out_channels=2)


# ---------------------------------------------------------------- init


def test_init_weights_statistics():
    torch.manual_seed(0)
    net = nn.Sequential(ConvNormAct(64, 64, bias=True), nn.Linear(128, 256), nn.BatchNorm2d(4096))
    init_weights(net, std=0.02 / 16, norm_std=0.02)
    net.requires_grad_(False)
    conv_w = net[0].conv.weight  # 36,864 samples
    assert abs(float(conv_w.std()) - 0.00125) < 0.00125 * 0.03
    assert abs(float(conv_w.mean())) < 1e-4
    assert float(net[0].conv.bias.abs().sum()) == 0.0
    assert abs(float(net[1].weight.std()) - 0.00125) < 0.00125 * 0.03
    gamma = net[2].weight
    assert abs(float(gamma.mean()) - 1.0) < 0.002 and abs(float(gamma.std()) - 0.02) < 0.002
    assert float(net[2].bias.abs().sum()) == 0.0


def test_init_weights_spectral_norm_and_keep_bias():
    torch.manual_seed(0)
    block = ConvNormAct(32, 32, norm="none", spectral_norm=True)
    nn.init.constant_(block.conv.bias, 0.5)
    init_weights(block, std=0.5, zero_bias=False)
    block.requires_grad_(False)
    original = block.conv.parametrizations.weight.original
    assert abs(float(original.std()) - 0.5) < 0.03
    assert torch.all(block.conv.bias == 0.5)


def test_init_weights_errors():
    with pytest.raises(TypeError, match="module: expected an nn.Module, got Tensor"):
        init_weights(torch.zeros(2))
    with pytest.raises(ValueError, match="std: expected a non-negative float, got -0.1"):
        init_weights(nn.Linear(2, 2), std=-0.1)
