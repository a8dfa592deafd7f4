"""Tests of condgan.layers.weight_init: the DCGAN initialisation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from condgan.layers.conv_norm_act import ConvNormAct
from condgan.layers.weight_init import init_weights


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
