"""Tests of condgan.layers.create_act: the activation factory."""

from __future__ import annotations

import functools

import pytest
from torch import nn

from condgan.layers.create_act import get_activation
from condgan.layers.create_norm import get_norm_layer


def test_get_activation():
    lrelu = get_activation("lrelu")()
    assert isinstance(lrelu, nn.LeakyReLU) and lrelu.negative_slope == 0.2
    assert get_activation("leaky_relu")().negative_slope == 0.2
    assert isinstance(get_activation("relu")(), nn.ReLU)
    assert isinstance(get_activation("tanh")(), nn.Tanh)
    assert isinstance(get_activation("GELU")(), nn.GELU)
    assert get_activation(nn.SiLU) is nn.SiLU
    assert get_activation("none") is None and get_activation(None) is None


def test_get_activation_returns_a_factory_like_get_norm_layer():
    # Both factories return a callable building a module (a class or a partial), never a module.
    assert get_activation("relu") is nn.ReLU
    lrelu = get_activation("lrelu")
    assert isinstance(lrelu, functools.partial) and not isinstance(lrelu, nn.Module)
    assert lrelu() is not lrelu()  # a new module each call
    assert isinstance(get_norm_layer("instance"), functools.partial)


def test_get_activation_errors():
    with pytest.raises(ValueError, match=r"act: expected one of .* got 'swish'"):
        get_activation("swish")
    with pytest.raises(TypeError, match="act: expected a str, an nn.Module subclass or None, got float"):
        get_activation(0.2)
