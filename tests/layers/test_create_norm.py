"""Tests of condgan.layers.create_norm: the norm factory."""

from __future__ import annotations

import pytest
from torch import nn

from condgan.layers.create_norm import get_norm_layer


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
