"""Tests of condgan.losses.auxiliary: the AC-GAN classification term."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.losses import AuxiliaryClassificationLoss, auxiliary_classification_loss


def test_by_hand():
    logits = {"a": torch.tensor([[math.log(3.0), 0.0, 0.0]]), "b": torch.zeros(1, 2)}
    targets = {"a": torch.tensor([0]), "b": torch.tensor([1])}
    # a: softmax (3/5, 1/5, 1/5) -> -log 3/5; b: uniform over 2 -> log 2
    expected = -math.log(0.6) + math.log(2.0)
    assert float(auxiliary_classification_loss(logits, targets)) == pytest.approx(expected, rel=1e-6)
    weighted = auxiliary_classification_loss(logits, targets, weights={"b": 0.0})
    assert float(weighted) == pytest.approx(-math.log(0.6), rel=1e-6)
    assert float(AuxiliaryClassificationLoss(weights={"b": 0.0})(logits, targets)) == pytest.approx(
        -math.log(0.6), rel=1e-6
    )


@settings(deadline=None, max_examples=10)
@given(seed=st.integers(0, 10_000), batch=st.integers(1, 5), heads=st.integers(1, 3))
def test_equals_the_sum_of_cross_entropies(seed, batch, heads):
    g = torch.Generator().manual_seed(seed)
    logits = {f"h{i}": torch.randn(batch, 2 + i, generator=g) for i in range(heads)}
    targets = {k: torch.randint(0, v.shape[1], (batch,), generator=g) for k, v in logits.items()}
    expected = sum(F.cross_entropy(logits[k], targets[k]) for k in logits)
    torch.testing.assert_close(auxiliary_classification_loss(logits, targets), expected)


def test_bf16_logits_give_a_float32_loss_and_gradients_flow():
    logits = {"a": torch.randn(3, 4, dtype=torch.bfloat16, requires_grad=True)}
    loss = auxiliary_classification_loss(logits, {"a": torch.tensor([0, 1, 3])})
    assert loss.dtype == torch.float32
    loss.backward()
    assert logits["a"].grad is not None and logits["a"].grad.abs().sum() > 0


@pytest.mark.parametrize(
    "logits, targets, kwargs, error, match",
    [
        ({}, {}, {}, TypeError, "logits: expected a non-empty mapping"),
        ({"a": torch.zeros(2, 3)}, [1], {}, TypeError, "targets: expected a mapping"),
        (
            {"a": torch.zeros(2, 3)},
            {"b": torch.zeros(2, dtype=torch.long)},
            {},
            ValueError,
            r"targets: expected the attributes of the logits \['a'\], got \['b'\]",
        ),
        (
            {"a": torch.zeros(2, 3, 1)},
            {"a": torch.zeros(2, dtype=torch.long)},
            {},
            ValueError,
            r"logits\['a'\]: expected shape \(B, classes\)",
        ),
        (
            {"a": torch.zeros(2, 3)},
            {"a": torch.zeros(2)},
            {},
            TypeError,
            r"targets\['a'\]: expected an integer tensor",
        ),
        (
            {"a": torch.zeros(2, 3)},
            {"a": torch.tensor([0, 3])},
            {},
            ValueError,
            r"targets\['a'\]: expected labels in \[0, 2\], got a label 3",
        ),
        (
            {"a": torch.zeros(2, 3)},
            {"a": torch.tensor([0, 1, 2])},
            {},
            ValueError,
            r"targets\['a'\]: expected one target per row of the logits \(2\)",
        ),
        (
            {"a": torch.zeros(2, 3), "b": torch.zeros(3, 2)},
            {"a": torch.tensor([0, 1]), "b": torch.tensor([0, 1, 1])},
            {},
            ValueError,
            r"targets\['b'\]: expected one target per row of the logits \(3, the batch of the other",
        ),
        (
            {"a": torch.zeros(0, 3)},
            {"a": torch.zeros(0, dtype=torch.long)},
            {},
            ValueError,
            r"logits\['a'\]: expected a non-empty batch",
        ),
        (
            {"a": torch.zeros(2, 3)},
            {"a": torch.tensor([0, 1])},
            {"weights": {"a": -1.0}},
            ValueError,
            r"weights\['a'\]: expected a finite float >= 0, got -1.0",
        ),
        (
            {"a": torch.zeros(2, 3)},
            {"a": torch.tensor([0, 1])},
            {"weights": {"z": 1.0}},
            ValueError,
            r"weights: expected attributes among the logits' \['a'\], got also \['z'\]",
        ),
    ],
)
def test_errors_name_the_argument(logits, targets, kwargs, error, match):
    with pytest.raises(error, match=match):
        auxiliary_classification_loss(logits, targets, **kwargs)


def test_module_errors():
    with pytest.raises(ValueError, match=r"weights\['a'\]: expected a finite float >= 0, got inf"):
        AuxiliaryClassificationLoss(weights={"a": float("inf")})
