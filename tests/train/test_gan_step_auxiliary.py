"""Tests of the auxiliary classification (AC-GAN) term of condgan.train.conditional_gan_step."""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.losses import auxiliary_classification_loss
from condgan.nets import AttributeClassifier, DiscriminatorWithClassifier
from condgan.train import AuxiliaryClassification, conditional_gan_step, make_precision


def _setup(tiny_gan, seed=0):
    g, d = tiny_gan.make_models(seed)
    torch.manual_seed(seed + 1)
    both = DiscriminatorWithClassifier(
        d, AttributeClassifier(heads={"color": 3, "sleeve": 2}, channels=(4, 8))
    )
    go = torch.optim.SGD(g.parameters(), lr=0.1)
    do = torch.optim.SGD(both.parameters(), lr=0.1)
    return g, both, go, do


def _targets(batch, seed=2):
    gen = torch.Generator().manual_seed(seed)
    return {
        "color": torch.randint(0, 3, (batch,), generator=gen),
        "sleeve": torch.randint(0, 2, (batch,), generator=gen),
    }


def test_terms_are_computed_added_and_reported(tiny_gan):
    g, d, go, do = _setup(tiny_gan)
    data = tiny_gan.make_data(batch=4)
    targets = _targets(4)
    with torch.no_grad():  # the classifier's loss on the real images before its update
        expected_d_aux = auxiliary_classification_loss(d.classifier(data["x"]), targets)
    aux = AuxiliaryClassification(d.classifier, targets, d_weight=0.5, g_weight=2.0)
    out = conditional_gan_step(
        **tiny_gan.step_kwargs(g, d, go, do, data, make_precision("cpu")), auxiliary=aux
    )
    assert {"d_aux", "g_aux"} <= set(out)
    assert out["d_aux"] == pytest.approx(float(expected_d_aux), rel=1e-5)
    d_adv = out["d_real"] + out["d_mismatch"] + out["d_fake"]
    assert out["d_total"] == pytest.approx(d_adv + 0.5 * out["d_aux"], rel=1e-5)
    assert out["g_total"] == pytest.approx(out["g_adv"] + 10.0 * out["g_rec"] + 2.0 * out["g_aux"], rel=1e-5)
    assert all(p.requires_grad for p in d.parameters())  # the classifier is unfrozen again


def test_the_classifier_learns_only_from_real_images(tiny_gan):
    """Its D-step gradient is the gradient of its loss on the real batch, whatever the fakes are."""
    g, d, go, do = _setup(tiny_gan)
    data = tiny_gan.make_data(batch=4)
    targets = _targets(4)
    reference = copy.deepcopy(d.classifier)
    loss = auxiliary_classification_loss(reference(data["x"]), targets)
    loss.backward()
    expected = [p.detach() - 0.1 * p.grad for p in reference.parameters()]
    conditional_gan_step(
        **tiny_gan.step_kwargs(g, d, go, do, data, make_precision("cpu")),
        auxiliary=AuxiliaryClassification(d.classifier, targets),
    )
    for after, want in zip(d.classifier.parameters(), expected, strict=True):
        torch.testing.assert_close(after, want)


@settings(deadline=None, max_examples=4)
@given(seed=st.integers(0, 100))
def test_zero_generator_weight_changes_nothing_for_the_generator(tiny_gan, seed):
    """With g_weight=0 the generator takes exactly the step it takes without the classifier."""
    g, d, go, do = _setup(tiny_gan, seed)
    g2, d2, go2, do2 = copy.deepcopy(g), copy.deepcopy(d), None, None
    go2 = torch.optim.SGD(g2.parameters(), lr=0.1)
    do2 = torch.optim.SGD(d2.parameters(), lr=0.1)
    data = tiny_gan.make_data(seed=seed + 5, batch=4)
    conditional_gan_step(
        **tiny_gan.step_kwargs(g, d, go, do, data, make_precision("cpu")),
        auxiliary=AuxiliaryClassification(d.classifier, _targets(4), g_weight=0.0),
    )
    conditional_gan_step(**tiny_gan.step_kwargs(g2, d2, go2, do2, data, make_precision("cpu")))
    for a, b in zip(g.parameters(), g2.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_generator_is_pulled_towards_the_fake_targets(tiny_gan):
    """A frozen, already trained classifier: G steps lower its loss on the fakes for ``fake_targets``."""
    g, d, go, do = _setup(tiny_gan)
    data = tiny_gan.make_data(batch=4)
    wanted = _targets(4, seed=9)
    with torch.no_grad():
        before = float(auxiliary_classification_loss(d.classifier(g(data["z"], data["c"])), wanted))
    for _ in range(5):
        conditional_gan_step(
            **tiny_gan.step_kwargs(g, d, go, do, data, make_precision("cpu"), reconstruction=None),
            auxiliary=AuxiliaryClassification(
                d.classifier, _targets(4), fake_targets=wanted, d_weight=0.0, g_weight=5.0
            ),
        )
    with torch.no_grad():
        after = float(auxiliary_classification_loss(d.classifier(g(data["z"], data["c"])), wanted))
    assert after < before


def test_errors_are_named(tiny_gan):
    g, d, go, do = _setup(tiny_gan)
    data = tiny_gan.make_data(batch=4)
    kwargs = tiny_gan.step_kwargs(g, d, go, do, data, make_precision("cpu"))
    cases = [
        (3, TypeError, "auxiliary: expected a condgan.train.AuxiliaryClassification or None, got int"),
        (AuxiliaryClassification(3, _targets(4)), TypeError, "auxiliary.classifier: expected an nn.Module"),
        (
            AuxiliaryClassification(AttributeClassifier(heads={"color": 3}, channels=(4,)), _targets(4)),
            ValueError,
            r"auxiliary.classifier: expected d_optimizer to step all its parameters, got 4 it does not",
        ),
        (
            AuxiliaryClassification(d.classifier, {"color": torch.zeros(3, dtype=torch.long)}),
            ValueError,
            r"auxiliary.targets\['color'\]: expected shape \(4,\), one class per sample, got \(3,\)",
        ),
        (
            AuxiliaryClassification(d.classifier, _targets(4), g_weight=-1.0),
            ValueError,
            r"auxiliary.g_weight: expected a finite float >= 0, got -1.0",
        ),
        (
            AuxiliaryClassification(d.classifier, [1]),
            TypeError,
            r"auxiliary.targets: expected a mapping attribute -> \(B,\) tensor",
        ),
        (
            AuxiliaryClassification(
                d.classifier,
                {"color": torch.tensor([0, 1, 2, 3]), "sleeve": torch.zeros(4, dtype=torch.long)},
            ),
            ValueError,
            r"targets\['color'\]: expected labels in \[0, 2\], got a label 3",
        ),
    ]
    for aux, error, match in cases:
        with pytest.raises(error, match=match):
            conditional_gan_step(**kwargs, auxiliary=aux)
