"""Tests of condgan.train.warm_up_classifier: an AC-GAN classifier trained alone on real samples first."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from condgan.nets import AttributeClassifier
from condgan.train import NonFiniteError, make_precision, warm_up_classifier


def _two_colours(batch: int = 8, size: int = 8) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Half the samples dark, half bright: a colour a tiny classifier can learn in a few steps."""
    x = torch.cat(
        [torch.full((batch // 2, 3, size, size), -0.8), torch.full((batch // 2, 3, size, size), 0.8)]
    )
    x = x + 0.1 * torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    return x, {"color": torch.tensor([0] * (batch // 2) + [1] * (batch // 2))}


def _classifier(seed: int = 0) -> AttributeClassifier:
    torch.manual_seed(seed)
    return AttributeClassifier(heads={"color": 2}, channels=(4, 8))


def test_learns_the_real_samples_and_returns_every_loss():
    clf = _classifier()
    x, y = _two_colours()
    losses = warm_up_classifier(clf, [(x, y)] * 40, steps=40, lr=1e-2)
    assert len(losses) == 40 and all(math.isfinite(v) for v in losses)
    with torch.no_grad():
        accuracy = (clf(x)["color"].argmax(1) == y["color"]).float().mean().item()
    assert losses[-1] < 0.5 * losses[0] and accuracy == 1.0


def test_deterministic_and_draws_only_the_steps_asked():
    drawn = []

    def batches():
        x, y = _two_colours()
        for i in range(100):
            drawn.append(i)
            yield x, y

    a, b = _classifier(), _classifier()
    warm_up_classifier(a, batches(), steps=5)
    assert len(drawn) == 5
    warm_up_classifier(b, [_two_colours()] * 5, steps=5)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize("training", [True, False])
def test_leaves_the_mode_as_it_was(training):
    clf = _classifier().train(training)
    warm_up_classifier(clf, [_two_colours()] * 2, steps=2)
    assert clf.training is training


class _Recorder(nn.Module):
    """A classifier that remembers its inputs (one learnable bias, so there is something to step)."""

    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(2))
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return {"color": self.bias.expand(x.shape[0], 2)}


@pytest.mark.parametrize("flip", [True, False])
def test_flip_mirrors_every_second_batch(flip):
    x = torch.arange(2 * 3 * 2 * 4, dtype=torch.float32).reshape(2, 3, 2, 4)
    y = {"color": torch.tensor([0, 1])}
    clf = _Recorder()
    warm_up_classifier(clf, [(x, y)] * 4, steps=4, flip=flip)
    for step, seen in enumerate(clf.seen):
        assert torch.equal(seen, x.flip(-1) if flip and step % 2 else x)


@settings(max_examples=10, deadline=None)
@given(lr=st.floats(1e-4, 1e-1))
def test_one_step_moves_by_the_peak_rate(lr):
    """Adam's first step moves each parameter by ``lr`` against its gradient's sign (no weight decay): the
    cosine starts at the peak rate."""
    clf = _Recorder()
    y = {"color": torch.tensor([0, 0])}  # both samples class 0: bias 0 must rise, bias 1 fall
    warm_up_classifier(clf, [(torch.zeros(2, 1, 1, 1), y)], steps=1, lr=lr, weight_decay=0.0)
    assert clf.bias.detach().tolist() == pytest.approx([lr, -lr], rel=1e-4)


def test_precision_bf16_runs_on_the_cpu():
    clf = _classifier()
    losses = warm_up_classifier(clf, [_two_colours()] * 3, steps=3, precision=make_precision("cpu", "bf16"))
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses)
    assert all(p.dtype == torch.float32 for p in clf.parameters())


def test_too_few_batches_is_an_error_naming_both_counts():
    with pytest.raises(ValueError, match=r"expected at least 5 batches \(steps\), got 2"):
        warm_up_classifier(_classifier(), [_two_colours()] * 2, steps=5)


def test_targets_must_name_the_classifier_attributes():
    x, _ = _two_colours()
    with pytest.raises(
        ValueError, match=r"expected the classifier's attributes \['color'\], got \['sleeve'\]"
    ):
        warm_up_classifier(_classifier(), [(x, {"sleeve": torch.zeros(8, dtype=torch.long)})], steps=1)


@pytest.mark.parametrize(
    ("batches", "error", "match"),
    [
        ([torch.zeros(2, 3, 8, 8)], TypeError, r"batches\[0\]: expected a pair"),
        ([("x", {"color": torch.zeros(2, dtype=torch.long)})], TypeError, r"batches\[0\] x: expected a"),
    ],
)
def test_malformed_batches_are_named(batches, error, match):
    with pytest.raises(error, match=match):
        warm_up_classifier(_classifier(), batches, steps=1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 1.5}, TypeError, "steps"),
        ({"steps": 1, "lr": 0.0}, ValueError, "lr"),
        ({"steps": 1, "lr": float("nan")}, ValueError, "lr"),
        ({"steps": 1, "weight_decay": -1.0}, ValueError, "weight_decay"),
        ({"steps": 1, "flip": "yes"}, TypeError, "flip"),
        ({"steps": 1, "precision": "bf16"}, TypeError, "precision"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        warm_up_classifier(_classifier(), [_two_colours()], **kwargs)


def test_a_module_without_trainable_parameters_is_refused():
    clf = _classifier().requires_grad_(False)
    with pytest.raises(ValueError, match="expected trainable parameters"):
        warm_up_classifier(clf, [_two_colours()], steps=1)
    with pytest.raises(TypeError, match="expected an nn.Module"):
        warm_up_classifier(lambda x: x, [_two_colours()], steps=1)


def test_a_non_finite_sample_stops_with_the_step_named():
    x, y = _two_colours()
    bad = x.clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteError, match="classifier warm-up"):
        warm_up_classifier(_classifier(), [(x, y), (bad, y)], steps=2)
