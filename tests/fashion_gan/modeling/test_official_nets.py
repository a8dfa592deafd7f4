"""The official FashionGAN networks: exact layer structure at 128 (official ``net_graph_*.lua``), tiny runs.

Structure checks build the official-size networks on the ``meta`` device (no memory, no compute) and record,
with forward hooks, every leaf layer in execution order with its configuration and output resolution; the
expected traces below are transcribed from the official network definitions (zhusz/ICCV17-fashionGAN).
Parameter counts are summed by hand from the same tables.
"""

from __future__ import annotations

import doctest

import pytest
import torch
from fashion_gan.modeling import official_nets
from fashion_gan.modeling.official_nets import (
    ih1_discriminator,
    ih1_generator,
    ih1_skip_discriminator,
    ih1_skip_generator,
    one_step_discriminator,
    one_step_generator,
    render_generator_compositional,
    sr1_discriminator,
    sr1_generator,
)
from torch import nn

# ------------------------------------------------------------------ trace helpers


def trace(net: nn.Module, *args: torch.Tensor) -> list[str]:
    """Leaf layers in execution order, e.g. ``"conv4s2p1 7->64 @64"``, ``"bn"``, ``"lrelu"``."""
    events: list[str] = []

    def hook(module, inputs, output):
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            kind = "deconv" if isinstance(module, nn.ConvTranspose2d) else "conv"
            k, s, p = module.kernel_size[0], module.stride[0], module.padding[0]
            events.append(
                f"{kind}{k}s{s}p{p} {module.in_channels}->{module.out_channels} @{output.shape[-1]}"
            )
        elif isinstance(module, nn.Linear):
            events.append(f"linear {module.in_features}->{module.out_features}")
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            events.append("bn")
        elif isinstance(module, nn.LeakyReLU):
            assert module.negative_slope == 0.2
            events.append("lrelu")
        elif isinstance(module, nn.ReLU):
            events.append("relu")
        elif isinstance(module, nn.Dropout):
            assert module.p == 0.5
            events.append("drop")
        elif len(list(module.children())) == 0 and not isinstance(module, nn.Identity):
            events.append(type(module).__name__)

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    try:
        net.eval()
        net(*args)
    finally:
        for h in handles:
            h.remove()
    return events


def conv(k, s, p, cin, cout, res, transposed=False):
    return f"{'deconv' if transposed else 'conv'}{k}s{s}p{p} {cin}->{cout} @{res}"


def down(cin, cout, res, bn=True):  # conv 4x4 s2 p1 [-> BN] -> LReLU
    return [conv(4, 2, 1, cin, cout, res), *(["bn"] if bn else []), "lrelu"]


def up(cin, cout, res):  # deconv 4x4 s2 p1 -> BN -> ReLU
    return [conv(4, 2, 1, cin, cout, res, True), "bn", "relu"]


def c3(cin, cout, res, bn=True):  # conv 3x3 s1 p1 [-> BN] -> LReLU
    return [conv(3, 1, 1, cin, cout, res), *(["bn"] if bn else []), "lrelu"]


def meta(builder, **kwargs):
    with torch.device("meta"):
        return builder(**kwargs)


def meta_inputs(*shapes):
    return [torch.empty(*s, device="meta") for s in shapes]


def n_params(net):
    return sum(p.numel() for p in net.parameters())


def biases(net):
    return {
        m.bias is not None for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))
    }


# ------------------------------------------------------------------ stage 1 (sr1/net_graph_sr1.lua)


def test_sr1_generator_structure():
    g = meta(sr1_generator)
    got = trace(g, *meta_inputs((1, 80), (1, 100), (1, 4, 8, 8)))
    expected = [
        "linear 100->20", "lrelu",                                              # text branch, no BN
        conv(4, 1, 0, 100, 1024, 4, True), "bn", "relu",                         # g1
        *up(1024, 512, 8),                                                       # g_extra
        *c3(4, 64, 8), *c3(64, 128, 8),                                          # condition, BN on both
        *up(640, 256, 16),                                                       # g2 after the 512+128 concat
        *c3(256, 512, 16), *c3(512, 512, 16), *c3(512, 256, 16),                 # m1-m3
        *up(256, 128, 32), *up(128, 64, 64),                                     # g3, g4
        conv(4, 2, 1, 64, 7, 128, True),                                         # g5: logits, no BN, no act
    ]  # fmt: skip
    assert got == expected
    assert biases(g) == {False}  # official noBias()
    # parameters, layer by layer (BN: 2 per channel)
    expected_params = (
        100 * 20  # text
        + 100 * 1024 * 16 + 2 * 1024  # g1
        + 1024 * 512 * 16 + 2 * 512  # g_extra
        + 4 * 64 * 9 + 2 * 64 + 64 * 128 * 9 + 2 * 128  # condition branch
        + 640 * 256 * 16 + 2 * 256  # g2
        + 256 * 512 * 9 + 2 * 512 + 512 * 512 * 9 + 2 * 512 + 512 * 256 * 9 + 2 * 256  # m1-m3
        + 256 * 128 * 16 + 2 * 128 + 128 * 64 * 16 + 2 * 64  # g3, g4
        + 64 * 7 * 16  # g5
    )  # fmt: skip
    assert n_params(g) == expected_params == 18_114_512


def test_sr1_discriminator_structure():
    d = meta(sr1_discriminator)
    got = trace(d, *meta_inputs((1, 7, 128, 128), (1, 4, 8, 8), (1, 100)))
    expected = [
        *down(7, 64, 64, bn=False), *down(64, 128, 32), *down(128, 256, 16),     # d1-d3
        *c3(256, 512, 16), *c3(512, 512, 16), *c3(512, 256, 16),                 # mid1-mid3
        *down(256, 512, 8),                                                      # d4
        *c3(4, 64, 8, bn=False), *c3(64, 128, 8),                                # condition branch
        *down(640, 512, 4),                                                      # d_extra
        "linear 100->20", "bn", "lrelu",                                         # text branch
        conv(1, 1, 0, 532, 512, 4), "bn", "lrelu", conv(4, 1, 0, 512, 1, 1),     # head
    ]  # fmt: skip
    assert got == expected
    assert d.input_softmax  # the official D applies SpatialSoftMax to its input
    assert biases(d) == {False}
    expected_params = (
        7 * 64 * 16 + 64 * 128 * 16 + 2 * 128 + 128 * 256 * 16 + 2 * 256  # d1-d3
        + 256 * 512 * 9 + 2 * 512 + 512 * 512 * 9 + 2 * 512 + 512 * 256 * 9 + 2 * 256  # mid1-mid3
        + 256 * 512 * 16 + 2 * 512  # d4
        + 4 * 64 * 9 + 64 * 128 * 9 + 2 * 128  # condition branch
        + 640 * 512 * 16 + 2 * 512  # d_extra
        + 100 * 20 + 2 * 20  # text branch
        + 532 * 512 + 2 * 512 + 512 * 16  # head
    )  # fmt: skip
    assert n_params(d) == expected_params == 13_086_456


# ------------------------------------------------------------------ stage 2 (ih1/net_graph_ih1.lua)


def test_ih1_generator_structure():
    g = meta(ih1_generator)
    got = trace(g, *meta_inputs((1, 80), (1, 100), (1, 3, 128, 128)))
    expected = [
        "linear 100->20", "lrelu",
        conv(4, 1, 0, 100, 1024, 4, True), "bn", "relu", *up(1024, 512, 8), *up(512, 512, 16),
        *down(3, 64, 64), *down(64, 128, 32), *down(128, 256, 16),               # condition stream, BN each
        *up(768, 512, 32),                                                       # g3
        *c3(512, 512, 32), *c3(512, 512, 32), *c3(512, 512, 32), *c3(512, 256, 32), *c3(256, 128, 32),
        *up(128, 64, 64), conv(4, 2, 1, 64, 3, 128, True),                       # g4, g5 (+ tanh)
    ]  # fmt: skip
    assert got == expected
    assert biases(g) == {False}
    expected_params = (
        100 * 20
        + 100 * 1024 * 16 + 2 * 1024 + 1024 * 512 * 16 + 2 * 512 + 512 * 512 * 16 + 2 * 512
        + 3 * 64 * 16 + 2 * 64 + 64 * 128 * 16 + 2 * 128 + 128 * 256 * 16 + 2 * 256
        + 768 * 512 * 16 + 2 * 512
        + 3 * (512 * 512 * 9 + 2 * 512) + 512 * 256 * 9 + 2 * 256 + 256 * 128 * 9 + 2 * 128
        + 128 * 64 * 16 + 2 * 64 + 64 * 3 * 16
    )  # fmt: skip
    assert n_params(g) == expected_params == 29_869_776


def test_ih1_discriminator_structure():
    d = meta(ih1_discriminator)
    got = trace(d, *meta_inputs((1, 3, 128, 128), (1, 3, 128, 128), (1, 100)))
    stream = [*down(3, 64, 64, bn=False), *down(64, 128, 32), *down(128, 256, 16)]
    expected = [
        *stream, *stream,                                                        # image, condition streams
        *[e for _ in range(5) for e in c3(512, 512, 16)],                        # m1-m5
        *down(512, 512, 8), *down(512, 1024, 4),                                 # d4, d_extra
        "linear 100->20", "bn", "lrelu",
        conv(1, 1, 0, 1044, 1024, 4), "bn", "lrelu", conv(4, 1, 0, 1024, 1, 1),
    ]  # fmt: skip
    assert got == expected
    assert d.blocks[0] is not d.condition_encoder[0]  # separate weights
    assert biases(d) == {False}
    stream_params = 3 * 64 * 16 + 64 * 128 * 16 + 2 * 128 + 128 * 256 * 16 + 2 * 256
    expected_params = (
        2 * stream_params
        + 5 * (512 * 512 * 9 + 2 * 512)
        + 512 * 512 * 16 + 2 * 512 + 512 * 1024 * 16 + 2 * 1024
        + 100 * 20 + 2 * 20
        + 1044 * 1024 + 2 * 1024 + 1024 * 16
    )  # fmt: skip
    assert n_params(d) == expected_params == 26_795_512


# ------------------------------------------------------------------ ih1_skip (ih1_skip/net_graph_ih1.lua)


def test_ih1_skip_generator_structure():
    g = meta(ih1_skip_generator)
    got = trace(g, *meta_inputs((1, 80), (1, 100), (1, 3, 128, 128)))

    def enc(cin, cout, res, bn=True):  # LReLU -> conv [-> BN]
        return ["lrelu", conv(4, 2, 1, cin, cout, res), *(["bn"] if bn else [])]

    def dec(cin, cout, res, drop):  # ReLU -> deconv -> BN [-> Dropout]
        return ["relu", conv(4, 2, 1, cin, cout, res, True), "bn", *(["drop"] if drop else [])]

    expected = [
        conv(4, 2, 1, 3, 64, 64),                                                # e1: bare conv
        *enc(64, 128, 32), *enc(128, 256, 16), *enc(256, 512, 8), *enc(512, 512, 4), *enc(512, 512, 2),
        *enc(512, 512, 1, bn=False),                                             # e7 at 1x1, no BN
        "linear 100->20", "lrelu",
        *dec(612, 512, 2, True),                                                 # bottleneck [e7, z, text]
        *dec(1024, 512, 4, True), *dec(1024, 512, 8, True),                      # dropout: first three
        *dec(1024, 256, 16, False), *dec(512, 128, 32, False), *dec(256, 64, 64, False),
        "relu", conv(4, 2, 1, 128, 3, 128, True),                                # + tanh
    ]  # fmt: skip
    assert got == expected
    assert biases(g) == {True}

    def c(cin, cout):  # conv 4x4 with bias
        return 16 * cin * cout + cout

    expected_params = (
        c(3, 64) + c(64, 128) + 2 * 128 + c(128, 256) + 2 * 256 + c(256, 512) + 2 * 512
        + 2 * (c(512, 512) + 2 * 512) + c(512, 512)                              # encoder
        + 100 * 20 + 20                                                          # text branch
        + c(612, 512) + 2 * 512 + 2 * (c(1024, 512) + 2 * 512)
        + c(1024, 256) + 2 * 256 + c(512, 128) + 2 * 128 + c(256, 64) + 2 * 64 + c(128, 3)
    )  # fmt: skip
    assert n_params(g) == expected_params == 42_654_695


def test_ih1_skip_discriminator_structure():
    d = meta(ih1_skip_discriminator)
    got = trace(d, *meta_inputs((1, 3, 128, 128), (1, 3, 128, 128), (1, 100)))
    expected = [
        *down(6, 64, 64, bn=False), *down(64, 128, 32), *down(128, 256, 16),
        "linear 100->20", "bn", "lrelu",
        conv(4, 1, 1, 276, 512, 15), "bn", "lrelu", conv(4, 1, 1, 512, 1, 14),
    ]  # fmt: skip
    assert got == expected
    assert biases(d) == {True}
    expected_params = (
        16 * 6 * 64 + 64 + 16 * 64 * 128 + 128 + 2 * 128 + 16 * 128 * 256 + 256 + 2 * 256
        + 100 * 20 + 20 + 2 * 20 + 16 * 276 * 512 + 512 + 2 * 512 + 16 * 512 + 1
    )  # fmt: skip
    assert n_params(d) == expected_params == 2_935_501


def test_ih1_skip_discriminator_label_shape_at_128():
    d = meta(ih1_skip_discriminator)
    out = d.eval()(*meta_inputs((4, 3, 128, 128), (4, 3, 128, 128), (4, 100)))
    assert out.shape == (4, 1, 14, 14)  # the official label tensor (B, 1, 14, 14)


# ------------------------------------------------------------------ paper variants


def test_variants_at_official_size():
    z, code = meta_inputs((1, 80), (1, 100))
    (cond,) = meta_inputs((1, 3, 128, 128))
    render = meta(render_generator_compositional, num_regions=7).eval()
    assert render(z, code, cond).shape == (1, 7, 3, 128, 128)
    assert render.final.conv.out_channels == 21
    render_skip = meta(render_generator_compositional, num_regions=7, base="ih1_skip").eval()
    assert render_skip(z, code, cond).shape == (1, 7, 3, 128, 128)
    for channels in (7, 4):
        g = meta(one_step_generator, constraint_channels=channels).eval()
        (constraint,) = meta_inputs((1, channels, 8, 8))
        assert g(z, code, constraint).shape == (1, 3, 128, 128)
        assert g.output == "image"
        d = meta(one_step_discriminator, constraint_channels=channels).eval()
        assert not d.input_softmax and d.blocks[0].conv.in_channels == 3
        assert d(*meta_inputs((1, 3, 128, 128)), constraint, code).shape == (1,)
    # the One-Step G is the sr1 G with a 3-channel tanh output and a 7- or 4-channel constraint
    sr1 = meta(sr1_generator)
    one_step = meta(one_step_generator, constraint_channels=4)
    assert n_params(sr1) - n_params(one_step) == 64 * (7 - 3) * 16


@pytest.mark.parametrize("size", [32, 64, 256])
def test_levels_adapt_to_image_size(size):
    z, code = meta_inputs((1, 80), (1, 100))
    img, cond3 = meta_inputs((1, 3, size, size), (1, 3, size, size))
    (seg,) = meta_inputs((1, 7, size, size))
    (constraint,) = meta_inputs((1, 4, 8, 8))
    assert meta(sr1_generator, image_size=size).eval()(z, code, constraint).shape == (1, 7, size, size)
    assert meta(sr1_discriminator, image_size=size).eval()(seg, constraint, code).shape == (1,)
    assert meta(ih1_generator, image_size=size).eval()(z, code, cond3).shape == (1, 3, size, size)
    assert meta(ih1_discriminator, image_size=size).eval()(img, cond3, code).shape == (1,)
    assert meta(ih1_skip_generator, image_size=size).eval()(z, code, cond3).shape == (1, 3, size, size)
    patch = meta(ih1_skip_discriminator, image_size=size).eval()(img, cond3, code)
    assert patch.shape == (1, 1, size // 8 - 2, size // 8 - 2)


def test_sr1_levels_at_64_drop_the_highest_resolution_level():
    g = meta(sr1_generator, image_size=64)
    assert [u.conv.out_channels for u in g.ups] == [512, 256, 128]  # 64-channel level gone
    assert g.final.conv.in_channels == 128


# ------------------------------------------------------------------ tiny runs (width 0.125)

TINY = [
    (sr1_generator, {}, "g", (4, 8)),
    (sr1_discriminator, {}, "d7", (4, 8)),
    (ih1_generator, {}, "g", (3, 32)),
    (ih1_discriminator, {"image_size": 64}, "d3", (3, 64)),
    (ih1_skip_generator, {}, "g", (3, 32)),
    (ih1_skip_discriminator, {}, "d3", (3, 32)),
    (render_generator_compositional, {"num_regions": 4}, "g", (3, 32)),
    (one_step_generator, {"constraint_channels": 4}, "g", (4, 8)),
    (one_step_discriminator, {"constraint_channels": 7}, "d3", (7, 8)),
]


@pytest.mark.parametrize(("builder", "kwargs", "kind", "cond"), TINY, ids=[t[0].__name__ for t in TINY])
def test_tiny_forward_backward(builder, kwargs, kind, cond):
    torch.manual_seed(0)
    size = kwargs.get("image_size", 32)
    net = builder(width=0.125, image_size=size, **{k: v for k, v in kwargs.items() if k != "image_size"})
    condition = torch.rand(2, cond[0], cond[1], cond[1])
    code = torch.randn(2, 100)
    if kind == "g":
        out = net(torch.randn(2, 80), code, condition)
        assert out.shape[0] == 2 and out.shape[-2:] == (size, size)
    else:
        x = torch.randn(2, 7 if kind == "d7" else 3, size, size)
        out = net(x, condition, code)
    assert torch.isfinite(out).all()
    out.float().square().mean().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_width_scales_channels_but_not_codes():
    g = sr1_generator(width=0.125, image_size=32)
    assert g.stem.conv.out_channels == 128 and g.code_branch.out_dim == 20
    assert official_nets.scale_channels(20, 0.01) == 1


def test_official_initialisation():
    torch.manual_seed(0)
    g = sr1_generator(width=0.125, image_size=32).requires_grad_(False)
    w = torch.cat([m.weight.flatten() for m in g.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
    assert abs(float(w.std()) - 0.02 / 16) < 0.02 / 16 * 0.05
    gammas = torch.cat([m.weight for m in g.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(float(gammas.mean()) - 1.0) < 0.01 and 0.01 < float(gammas.std()) < 0.03
    skip = ih1_skip_generator(width=0.125, image_size=32).requires_grad_(False)
    w = torch.cat(
        [m.weight.flatten() for m in skip.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    )
    assert abs(float(w.std()) - 0.02) < 0.02 * 0.05
    assert all(float(m.bias.abs().max()) == 0.0 for m in skip.modules() if isinstance(m, nn.Conv2d))


def test_builder_errors():
    with pytest.raises(ValueError, match=r"image_size: expected a power of two in \[32, 256\], got 100"):
        sr1_generator(image_size=100)
    with pytest.raises(ValueError, match=r"image_size: expected a power of two in \[32, 256\], got 16"):
        ih1_discriminator(image_size=16)
    with pytest.raises(
        ValueError, match=r"width: expected a positive float \(1.0 = official channels\), got 0"
    ):
        ih1_generator(width=0)
    with pytest.raises(
        ValueError, match=r"constraint_channels: expected 7 \(One-Step GAN 8-7\) or 4 \(8-4\), got 3"
    ):
        one_step_generator(constraint_channels=3)
    with pytest.raises(ValueError, match="base: expected 'ih1' or 'ih1_skip', got 'p2p'"):
        render_generator_compositional(base="p2p")
    with pytest.raises(ValueError, match="num_regions: expected a positive int, got 0"):
        render_generator_compositional(num_regions=0)


def test_module_doctests():
    result = doctest.testmod(official_nets, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 9 and result.failed == 0
