"""Tests for condgan.metrics.attributes: per-attribute accuracy, one-shot and streaming."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.metrics import AttributeAccuracy, attribute_accuracy


def test_accuracy_from_logits_and_from_ids():
    logits = torch.tensor(
        [[3.0, 1.0, 0.0], [0.0, 0.5, 2.0], [0.0, 4.0, 1.0], [1.0, 0.0, 0.0]]
    )  # argmax 0 2 1 0
    ids = torch.tensor([1, 1, 0, 0])
    targets = {"color": torch.tensor([0, 2, 2, 0]), "gender": torch.tensor([1, 1, 1, 1]), "image": "ignored"}
    got = attribute_accuracy({"color": logits, "gender": ids}, targets)
    assert got == {"color": 0.75, "gender": 0.5}


def test_empty_batch_gives_nan():
    got = attribute_accuracy({"sleeve": torch.zeros(0, 4)}, {"sleeve": torch.zeros(0, dtype=torch.long)})
    assert math.isnan(got["sleeve"])


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 10_000), cuts=st.lists(st.integers(1, 39), max_size=4))
def test_streaming_equals_one_shot(seed, cuts):
    gen = torch.Generator().manual_seed(seed)
    logits = {
        "category": torch.randn(40, 19, generator=gen),
        "gender": torch.randint(2, (40,), generator=gen),
    }
    targets = {
        "category": torch.randint(19, (40,), generator=gen),
        "gender": torch.randint(2, (40,), generator=gen),
    }
    metric = AttributeAccuracy(names=("gender", "category"))
    bounds = [0, *sorted(set(cuts)), 40]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        metric.update({k: v[lo:hi] for k, v in logits.items()}, {k: v[lo:hi] for k, v in targets.items()})
    one_shot = attribute_accuracy(logits, targets)
    assert metric.compute() == pytest.approx(one_shot)
    correct, total = metric.counts()["category"]
    assert total == 40 and correct == round(one_shot["category"] * 40)


def test_reset_forgets():
    metric = AttributeAccuracy()
    metric.update({"gender": torch.tensor([0, 0])}, {"gender": torch.tensor([0, 1])})
    assert metric.compute() == {"gender": 0.5}
    metric.reset()
    assert metric.compute() == {}
    metric.update({"gender": torch.tensor([1])}, {"gender": torch.tensor([1])})
    assert metric.compute() == {"gender": 1.0}


def test_errors():
    targets = {"color": torch.tensor([0, 1])}
    with pytest.raises(
        TypeError, match=r"logits_or_predictions: expected a mapping from attribute name to tensor"
    ):
        attribute_accuracy(torch.zeros(2, 3), targets)
    with pytest.raises(TypeError, match=r"targets: expected a mapping"):
        attribute_accuracy({"color": torch.zeros(2, 3)}, [0, 1])
    with pytest.raises(ValueError, match=r"logits_or_predictions: expected at least one attribute"):
        attribute_accuracy({}, targets)
    with pytest.raises(
        ValueError, match=r"targets: expected a tensor for attribute 'sleeve', got keys \['color'\]"
    ):
        attribute_accuracy({"sleeve": torch.zeros(2, 4)}, targets)
    with pytest.raises(
        ValueError, match=r"logits_or_predictions\['color'\]: expected shape \(B, C\) logits or"
    ):
        attribute_accuracy({"color": torch.zeros(2, 3, 1)}, targets)
    with pytest.raises(
        TypeError, match=r"logits_or_predictions\['color'\]: expected floating-point \(B, C\) logits"
    ):
        attribute_accuracy({"color": torch.zeros(2, 3, dtype=torch.long)}, targets)
    with pytest.raises(TypeError, match=r"logits_or_predictions\['color'\]: expected an integer tensor"):
        attribute_accuracy({"color": torch.zeros(2)}, targets)
    with pytest.raises(TypeError, match=r"targets\['color'\]: expected an integer tensor"):
        attribute_accuracy({"color": torch.zeros(2, 3)}, {"color": torch.zeros(2)})
    with pytest.raises(ValueError, match=r"batch size mismatch"):
        attribute_accuracy({"color": torch.zeros(3, 3)}, targets)
    with pytest.raises(ValueError, match=r"targets\['color'\]: expected labels in \[0, 2\], got a label 5"):
        attribute_accuracy({"color": torch.zeros(2, 3)}, {"color": torch.tensor([0, 5])})
    with pytest.raises(TypeError, match=r"names: expected a sequence of attribute names"):
        AttributeAccuracy(names="color")
    metric = AttributeAccuracy(names=("color", "gender"))
    with pytest.raises(ValueError, match=r"expected the attributes \['color', 'gender'\], got \['color'\]"):
        metric.update({"color": torch.zeros(2, 3)}, targets)
