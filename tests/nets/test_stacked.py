"""Tests of condgan.nets.stacked."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from condgan.nets import ConditionalGenerator, StackedOutput, StackedPipeline


def stages():
    shape = ConditionalGenerator(
        output="logits", out_channels=3, noise_dim=2, code_dim=4, code_reduced_dim=None, up_channels=(8, 8),
        condition_channels=2, condition_size=8, condition_encoder_channels=(4,), fuse_at=8, mid_at=None,
        mid_channels=(),
    )  # fmt: skip
    render = ConditionalGenerator(
        noise_dim=2, code_dim=4, code_reduced_dim=None, up_channels=(8, 8), condition_channels=3,
        condition_size=16, condition_encoder="strided", condition_encoder_channels=(4, 4), fuse_at=4,
        mid_at=None, mid_channels=(),
    )  # fmt: skip
    return shape, render


def inputs():
    return torch.randn(2, 2), torch.randn(2, 4), torch.rand(2, 2, 8, 8), torch.randn(2, 2)


def softmax(s):
    return torch.softmax(s, dim=1)


def test_forward_returns_both_stages():
    shape, render = stages()
    pipe = StackedPipeline(shape, render, softmax)
    out = pipe(*inputs())
    assert isinstance(out, StackedOutput)
    assert out.segmentation.shape == (2, 3, 16, 16) and out.image.shape == (2, 3, 16, 16)
    torch.testing.assert_close(out.condition, softmax(out.segmentation))


def test_detach_between_blocks_gradients_into_stage1():
    for detach, reaches in ((True, False), (False, True)):
        shape, render = stages()
        pipe = StackedPipeline(shape, render, softmax, detach_between=detach)
        pipe(*inputs()).image.square().mean().backward()
        assert (shape.stem.conv.weight.grad is not None) is reaches
        assert render.stem.conv.weight.grad is not None


def test_code_image_and_render_alone():
    torch.manual_seed(0)
    shape, render = stages()
    pipe = StackedPipeline(shape, render, softmax).eval()
    z1, code, constraint, z2 = inputs()
    with torch.no_grad():
        a = pipe(z1, code, constraint, z2)
        b = pipe(z1, code, constraint, z2, code_image=code + 1)
        torch.testing.assert_close(a.segmentation, b.segmentation)
        assert not torch.allclose(a.image, b.image)
        condition, image = pipe.render(z2, code, a.segmentation)
        torch.testing.assert_close(image, a.image)


def test_encode_module_is_registered_and_segmentation_passed():
    class Render(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(()))

        def forward(self, z, code, condition, segmentation):
            return self.scale * condition * segmentation.shape[1]

    shape, _ = stages()
    encode = nn.Softmax(dim=1)
    pipe = StackedPipeline(shape, Render(), encode, pass_segmentation=True)
    assert pipe.encode is encode and "encode" in dict(pipe.named_children())
    out = pipe(*inputs())
    torch.testing.assert_close(out.image, out.condition * 3)


def test_errors():
    shape, render = stages()
    with pytest.raises(TypeError, match="stage1: expected an nn.Module, got function"):
        StackedPipeline(softmax, render, softmax)
    with pytest.raises(TypeError, match="encode: expected a callable tensor -> tensor, got int"):
        StackedPipeline(shape, render, 3)
    pipe = StackedPipeline(shape, render, lambda s: s.tolist())
    with pytest.raises(TypeError, match=r"encode\(segmentation\): expected a torch.Tensor, got list"):
        pipe(*inputs())
