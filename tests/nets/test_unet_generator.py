"""Tests of condgan.nets.unet_generator."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from condgan.nets import UNetGenerator

CFG = dict(image_size=16, base_channels=4, max_channels=8, noise_dim=3, code_dim=5, code_reduced_dim=2)


def inputs(batch=2, size=16):
    return torch.randn(batch, 3), torch.randn(batch, 5), torch.randn(batch, 3, size, size)


def test_shapes_and_levels():
    g = UNetGenerator(**CFG)
    assert len(g.encoder.levels) == 4  # log2(16)
    assert g.encoder.channels == (4, 8, 8, 8)
    y = g(*inputs())
    assert y.shape == (2, 3, 16, 16) and y.abs().max().item() <= 1.0
    g32 = UNetGenerator(**dict(CFG, image_size=32))
    assert len(g32.encoder.levels) == 5
    assert g32(*inputs(size=32)).shape == (2, 3, 32, 32)


def test_regions_output():
    g = UNetGenerator(**dict(CFG, num_regions=4))
    assert g(*inputs()).shape == (2, 4, 3, 16, 16)


def test_bottleneck_takes_code_and_noise():
    g = UNetGenerator(**CFG)
    assert g.bottleneck.conv.in_channels == 8 + 3 + 2  # e_n + z + reduced code
    assert [type(m) for m in g.code_branch.body] == [nn.Linear, nn.LeakyReLU]
    assert isinstance(g.bottleneck.pre_act, nn.ReLU) and isinstance(g.bottleneck.dropout, nn.Dropout)


def test_dropout_on_first_three_decoder_levels():
    g = UNetGenerator(**dict(CFG, image_size=32))
    levels = [g.bottleneck, *g.decoder.levels, g.decoder.final]
    assert [any(isinstance(m, nn.Dropout) for m in lv.modules()) for lv in levels] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_inputs_matter_and_eval_is_deterministic():
    torch.manual_seed(0)
    g = UNetGenerator(**CFG).eval()
    z, code, cond = inputs()
    base = g(z, code, cond)
    torch.testing.assert_close(g(z, code, cond), base)
    assert not torch.allclose(base, g(z + 1, code, cond))
    assert not torch.allclose(base, g(z, code + 1, cond))
    assert not torch.allclose(base, g(z, code, cond + 1))
    g.train()
    assert not torch.allclose(g(z, code, cond), g(z, code, cond))  # dropout active in training


def test_pix2pix_variant_without_noise_and_code():
    g = UNetGenerator(**dict(CFG, noise_dim=0, code_dim=0))
    assert g(None, None, torch.randn(2, 3, 16, 16)).shape == (2, 3, 16, 16)


def test_backward():
    g = UNetGenerator(**CFG)
    g(*inputs()).mean().backward()
    assert all(p.grad is not None for p in g.parameters())


def test_errors():
    with pytest.raises(ValueError, match="image_size: expected a power of two >= 4, got 24"):
        UNetGenerator(**dict(CFG, image_size=24))
    with pytest.raises(ValueError, match="num_regions: expected a positive int, got 0"):
        UNetGenerator(**dict(CFG, num_regions=0))
    g = UNetGenerator(**CFG)
    z, code, cond = inputs()
    with pytest.raises(ValueError, match=r"condition: expected shape \(B, 3, 16, 16\), got \(2, 3, 32, 32\)"):
        g(z, code, torch.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match="batch size mismatch"):
        g(z[:1], code, cond)
    with pytest.raises(ValueError, match=r"code: expected shape \(B, 5\), got \(2, 4\)"):
        g(z, torch.randn(2, 4), cond)


def test_code_film_modulates_the_bottleneck_and_every_decoder_level():
    torch.manual_seed(0)
    g = UNetGenerator(**CFG, code_film=True)
    assert g.bottleneck_film.code_dim == 2 and g.bottleneck_film.channels == 8  # reduced code -> e_{n-1}
    assert [f.channels for f in g.decoder.films] == list(g.decoder.channels)
    base = UNetGenerator(**CFG)
    base.load_state_dict({k: v for k, v in g.state_dict().items() if "film" not in k})
    g.eval(), base.eval()
    z, code, cond = inputs()
    torch.testing.assert_close(g(z, code, cond), base(z, code, cond))  # zero-initialised FiLM: same net
    g.train()
    g(z, code, cond).square().mean().backward()
    assert all(p.grad is not None for p in g.parameters())
    assert g.decoder.films[0].proj.weight.grad.abs().sum() > 0


def test_code_film_needs_a_code_and_is_checked():
    g = UNetGenerator(**dict(CFG, code_dim=0), code_film=True)
    assert not g.code_film and g.bottleneck_film is None and g.decoder.films is None
    with pytest.raises(TypeError, match="code_film: expected a bool, got str"):
        UNetGenerator(**CFG, code_film="yes")


def test_resize_upsampling_in_every_decoder_level():
    g = UNetGenerator(**CFG, upsample="resize")
    ups = [g.bottleneck, *g.decoder.levels, g.decoder.final]
    assert all(b.mode == "resize" and isinstance(b.conv, nn.Conv2d) for b in ups)
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in g.modules())
    y = g(*inputs())
    assert y.shape == (2, 3, 16, 16) and y.abs().max() <= 1.0
    with pytest.raises(ValueError, match="mode: expected one of"):
        UNetGenerator(**CFG, upsample="pixelshuffle")
