"""Tests of condgan.layers.unet: unet_channels and the U-Net halves."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from condgan.layers.unet import UNetDecoder, UNetEncoder, unet_channels


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


def test_unet_decoder_film_modulates_every_level():
    torch.manual_seed(0)
    dec = UNetDecoder(
        in_channels=4, skip_channels=(4, 2), channels=(4, 2), out_channels=2, num_dropout=0, code_dim=3
    )
    assert [f.channels for f in dec.films] == [4, 2]
    x, skips = torch.randn(2, 4, 2, 2), [torch.randn(2, 4, 4, 4), torch.randn(2, 2, 8, 8)]
    code = torch.randn(2, 3)
    dec.eval()
    plain = UNetDecoder(in_channels=4, skip_channels=(4, 2), channels=(4, 2), out_channels=2, num_dropout=0)
    plain.load_state_dict({k: v for k, v in dec.state_dict().items() if not k.startswith("films.")})
    plain.eval()
    torch.testing.assert_close(dec(x, skips, code), plain(x, skips))  # zero-initialised: no change yet
    with torch.no_grad():
        for f in dec.films:
            f.proj.weight.normal_()
    assert not torch.allclose(dec(x, skips, code), dec(x, skips, code.flip(0)))


def test_unet_decoder_code_errors():
    dec = UNetDecoder(in_channels=4, skip_channels=(4,), channels=(4,), out_channels=2, code_dim=3)
    x, skips = torch.randn(2, 4, 2, 2), [torch.randn(2, 4, 4, 4)]
    with pytest.raises(
        ValueError, match=r"code: this decoder has code_dim=3, so expected a \(B, code_dim\) code, got None"
    ):
        dec(x, skips)
    plain = UNetDecoder(in_channels=4, skip_channels=(4,), channels=(4,), out_channels=2)
    with pytest.raises(ValueError, match="code: this decoder has code_dim=0, so expected None, got Tensor"):
        plain(x, skips, torch.randn(2, 3))
    with pytest.raises(ValueError, match="code_dim: expected a non-negative int, got -1"):
        UNetDecoder(in_channels=4, skip_channels=(4,), channels=(4,), out_channels=2, code_dim=-1)


def test_unet_decoder_final_upsample_alone():
    """``final_upsample`` changes the last level only; ``None`` follows ``upsample``."""
    dec = UNetDecoder(
        in_channels=4,
        skip_channels=(4,),
        channels=(4,),
        out_channels=2,
        upsample="resize",
        final_upsample="deconv",
    )
    assert [lvl.mode for lvl in dec.levels] == ["resize"] and dec.final.mode == "deconv"
    assert dec(torch.randn(2, 4, 2, 2), [torch.randn(2, 4, 4, 4)]).shape == (2, 2, 8, 8)
    same = UNetDecoder(in_channels=4, skip_channels=(4,), channels=(4,), out_channels=2, upsample="resize")
    assert same.final.mode == "resize"
    match = r"final_upsample: expected one of \['deconv', 'resize'\], got 'bilinear'"
    with pytest.raises(ValueError, match=match):
        UNetDecoder(in_channels=4, skip_channels=(), channels=(), out_channels=2, final_upsample="bilinear")
