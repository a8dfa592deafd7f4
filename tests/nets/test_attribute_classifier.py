"""Tests of condgan.nets.attribute_classifier: the image-only classifier of AC-GAN training."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.nets import AttributeClassifier, DiscriminatorWithClassifier, PatchDiscriminator


def test_shapes_and_heads():
    c = AttributeClassifier(heads={"color": 17, "sleeve": 4}, channels=(4, 8, 8))
    out = c(torch.randn(3, 3, 16, 24))
    assert {k: tuple(v.shape) for k, v in out.items()} == {"color": (3, 17), "sleeve": (3, 4)}
    assert c.head_sizes == {"color": 17, "sleeve": 4}


@settings(deadline=None, max_examples=8)
@given(shift=st.integers(0, 3), batch=st.integers(1, 3))
def test_each_row_is_classified_alone(shift, batch):
    """Without normalisation a sample's logits do not depend on the rest of the batch (no batch statistics
    can hide a colour shift that the whole batch of fakes shares)."""
    torch.manual_seed(shift)
    c = AttributeClassifier(heads={"color": 5}, channels=(4, 8)).train()
    x = torch.randn(batch + 2, 3, 8, 8)
    together = c(x)["color"]
    alone = torch.cat([c(x[i : i + 1])["color"] for i in range(len(x))])
    torch.testing.assert_close(together, alone)


def test_learns_a_colour_from_pixels():
    """A few steps separate red from blue images: the classifier reads colour."""
    torch.manual_seed(0)
    c = AttributeClassifier(heads={"color": 2}, channels=(8, 8))
    x = torch.zeros(8, 3, 8, 8)
    x[:4, 0], x[4:, 2] = 1.0, 1.0
    y = torch.tensor([0] * 4 + [1] * 4)
    opt = torch.optim.Adam(c.parameters(), lr=1e-2)
    for _ in range(30):
        loss = torch.nn.functional.cross_entropy(c(x)["color"], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert (c(x)["color"].argmax(1) == y).all()


def test_input_softmax_makes_logits_and_their_shift_alike():
    torch.manual_seed(0)
    c = AttributeClassifier(heads={"a": 3}, channels=(4, 4), in_channels=7, input_softmax=True)
    logits = torch.randn(2, 7, 8, 8)
    torch.testing.assert_close(c(logits)["a"], c(logits + 3.0)["a"])  # softmax ignores a constant shift


def test_spectral_norm_and_norm_options():
    c = AttributeClassifier(heads={"a": 2}, channels=(4, 4), norm="batch", spectral_norm=True)
    assert c(torch.randn(2, 3, 8, 8))["a"].shape == (2, 2)
    assert any("parametrizations" in name for name, _ in c.named_parameters())


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"heads": {}}, TypeError, "heads: expected a non-empty mapping"),
        ({"heads": {"a b": 2}}, ValueError, "heads: expected attribute names that are identifiers"),
        ({"heads": {"a": 1}}, ValueError, r"heads\['a'\]: expected an int number of classes >= 2, got 1"),
        ({"heads": {"a": 2}, "channels": ()}, ValueError, "channels: expected at least one channel count"),
        ({"heads": {"a": 2}, "in_channels": 0}, ValueError, "in_channels"),
        ({"heads": {"a": 2}, "spectral_norm": 1}, TypeError, "spectral_norm"),
        ({"heads": {"a": 2}, "input_softmax": "yes"}, TypeError, "input_softmax"),
    ],
)
def test_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        AttributeClassifier(**kwargs)


def test_forward_errors():
    c = AttributeClassifier(heads={"a": 2}, channels=(4, 4))
    with pytest.raises(ValueError, match=r"x: expected shape \(B, 3, H, W\), got \(2, 1, 8, 8\)"):
        c(torch.randn(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"x: expected H and W of at least 2\*\*2 = 4"):
        c(torch.randn(2, 3, 2, 8))
    with pytest.raises(ValueError, match="x: expected a non-empty batch"):
        c(torch.randn(0, 3, 8, 8))
    with pytest.raises(TypeError, match="x: expected dtype torch.float32"):
        c(torch.randn(2, 3, 8, 8, dtype=torch.float64))


def test_discriminator_with_classifier():
    d = PatchDiscriminator(channels=(8, 16, 16), code_dim=4, code_reduced_dim=2, head_channels=8)
    c = AttributeClassifier(heads={"a": 3}, channels=(4, 4))
    both = DiscriminatorWithClassifier(d, c)
    x, cond, code = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32), torch.randn(2, 4)
    d.eval(), both.eval()
    torch.testing.assert_close(both(x, cond, code), d(x, cond, code))  # D's output unchanged
    names = {n.split(".")[0] for n, _ in both.named_parameters()}
    assert names == {"discriminator", "classifier"}  # one optimizer and one checkpoint hold both
    with pytest.raises(TypeError, match="classifier: expected an nn.Module, got int"):
        DiscriminatorWithClassifier(d, 3)
