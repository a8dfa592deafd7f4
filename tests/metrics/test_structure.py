"""Tests for condgan.metrics.structure: constraint agreement, region IoU, per-class IoU."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.metrics import constraint_agreement, per_class_iou, region_agreement

TABLE = (3, 0, 1, 2, 2, 2, 2)


def random_labels(seed: int, batch: int = 2, size: int = 16, classes: int = 7) -> torch.Tensor:
    return torch.randint(classes, (batch, size, size), generator=torch.Generator().manual_seed(seed))


def reference_agreement(pred: torch.Tensor, target: torch.Tensor, cells: int) -> torch.Tensor:
    """Independent computation: merge by a Python loop, fractions by reshaping into cell blocks."""
    lut = torch.tensor(TABLE)

    def fractions(labels):
        merged = lut[labels]
        b, h, w = merged.shape
        blocks = merged.reshape(b, cells, h // cells, cells, w // cells)
        return torch.stack([(blocks == k).float().mean(dim=(2, 4)) for k in range(4)], dim=1)

    p, q = fractions(pred), fractions(target)
    return 1 - 0.5 * (p - q).abs().sum(1).mean(dim=(1, 2))


# ---- constraint_agreement: values -------------------------------------------------------------------------


def test_constraint_agreement_matches_an_independent_computation():
    pred, target = random_labels(0), random_labels(1)
    got = constraint_agreement(pred, target, size=4)
    torch.testing.assert_close(got, reference_agreement(pred, target, 4))
    assert got.shape == (2,) and got.dtype == torch.float32


def test_constraint_agreement_merges_classes_through_the_table():
    # upper clothes (3) and arms (6) both merge to "rest": the constraints are identical
    upper = torch.full((1, 8, 8), 3)
    arms = torch.full((1, 8, 8), 6)
    assert constraint_agreement(upper, arms).item() == 1.0
    # without a table they are different classes in every cell
    assert constraint_agreement(upper, arms, table=None, num_classes=7).item() == 0.0


def test_constraint_agreement_disjoint_and_partial():
    hair = torch.full((1, 16, 16), 1)
    background = torch.zeros((1, 16, 16), dtype=torch.long)
    assert constraint_agreement(hair, background).item() == 0.0
    half = background.clone()
    half[:, :, :8] = 1  # left half hair: in every 2x2-pixel cell of the left half all hair
    assert constraint_agreement(half, background).item() == pytest.approx(0.5)
    # at size 1 the single cell holds 50% hair vs 0%: total variation 0.5
    assert constraint_agreement(half, background, size=1).item() == pytest.approx(0.5)


def test_constraint_agreement_compares_maps_of_different_resolution():
    target = random_labels(3, size=16)
    upsampled = target.repeat_interleave(4, dim=1).repeat_interleave(4, dim=2)  # 64 px, same content
    torch.testing.assert_close(constraint_agreement(upsampled, target), torch.ones(2))
    assert constraint_agreement(upsampled, target, size=(4, 2)).shape == (2,)


def test_constraint_agreement_accepts_uint8_labels():
    labels = random_labels(4)
    torch.testing.assert_close(
        constraint_agreement(labels.to(torch.uint8), random_labels(5)),
        constraint_agreement(labels, random_labels(5)),
    )


@settings(deadline=None, max_examples=25)
@given(seed=st.integers(0, 10_000), size=st.sampled_from([1, 2, 4, 8]), classes=st.integers(1, 7))
def test_constraint_agreement_properties(seed, size, classes):
    a = random_labels(seed, classes=classes)
    b = random_labels(seed + 1, classes=classes)
    assert torch.equal(constraint_agreement(a, a, size=size), torch.ones(2))
    ab, ba = constraint_agreement(a, b, size=size), constraint_agreement(b, a, size=size)
    torch.testing.assert_close(ab, ba)
    assert bool(((ab >= 0) & (ab <= 1 + 1e-6)).all())


# ---- constraint_agreement: errors ------------------------------------------------------------------------


def test_constraint_agreement_errors():
    labels = random_labels(0)
    with pytest.raises(TypeError, match=r"pred_labels: expected an integer tensor"):
        constraint_agreement(labels.float(), labels)
    with pytest.raises(ValueError, match=r"target_labels: expected shape \(B, H, W\), got \(2, 1, 16, 16\)"):
        constraint_agreement(labels, labels[:, None])
    with pytest.raises(ValueError, match=r"batch size mismatch.*pred_labels=2, target_labels=1"):
        constraint_agreement(labels, labels[:1])
    with pytest.raises(ValueError, match=r"target_labels: expected labels in \[0, 6\], got a label 7"):
        constraint_agreement(labels, labels + 1)
    with pytest.raises(ValueError, match=r"pred_labels: expected labels in \[0, 6\], got a label -1"):
        constraint_agreement(labels - 1, labels)
    with pytest.raises(
        ValueError, match=r"num_classes: expected a positive int when table is None, got None"
    ):
        constraint_agreement(labels, labels, table=None)
    with pytest.raises(TypeError, match=r"table: expected a non-empty sequence of ints"):
        constraint_agreement(labels, labels, table=())
    with pytest.raises(ValueError, match=r"table: expected non-negative int entries, got -1"):
        constraint_agreement(labels, labels, table=(0, -1, 1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match=r"size: expected a positive int, got 0"):
        constraint_agreement(labels, labels, size=0)
    with pytest.raises(ValueError, match=r"size: expected an int or a pair \(h, w\), got \(1, 2, 3\)"):
        constraint_agreement(labels, labels, size=(1, 2, 3))


# ---- region_agreement --------------------------------------------------------------------------------------


def test_region_agreement_values():
    target = torch.zeros(3, 4, 4, dtype=torch.long)
    pred = torch.zeros_like(target)
    target[0, :2] = 1  # 8 hair pixels
    pred[0, :1] = 2  # 4 face pixels: inside the hair+face region
    target[1, :, :2] = 2
    pred[1, :, 2:] = 1  # disjoint regions
    # sample 2: no hair or face anywhere: an empty region matches an empty region
    got = region_agreement(pred, target, (1, 2))
    torch.testing.assert_close(got, torch.tensor([0.5, 0.0, 1.0]))
    # background as a single int: sample 0 has 8 of pred's 12 background pixels in the target's 8
    torch.testing.assert_close(region_agreement(pred, target, 0), torch.tensor([2 / 3, 0.0, 1.0]))


@settings(deadline=None, max_examples=25)
@given(seed=st.integers(0, 10_000), classes=st.lists(st.integers(0, 6), min_size=1, max_size=3))
def test_region_agreement_properties(seed, classes):
    a, b = random_labels(seed), random_labels(seed + 7)
    assert torch.equal(region_agreement(a, a, classes), torch.ones(2))
    ab = region_agreement(a, b, classes)
    torch.testing.assert_close(ab, region_agreement(b, a, classes))
    assert bool(((ab >= 0) & (ab <= 1)).all())


def test_region_agreement_errors():
    labels = random_labels(0)
    with pytest.raises(
        ValueError, match=r"target_labels: expected the shape of pred_labels \(2, 16, 16\), got"
    ):
        region_agreement(labels, labels[:, :8], (1,))
    with pytest.raises(ValueError, match=r"classes: expected at least one label id, got an empty sequence"):
        region_agreement(labels, labels, ())
    with pytest.raises(TypeError, match=r"classes: expected int label ids, got 1.5"):
        region_agreement(labels, labels, (1.5,))
    with pytest.raises(TypeError, match=r"classes: expected an int or a sequence of ints, got str"):
        region_agreement(labels, labels, "hair")
    with pytest.raises(TypeError, match=r"pred_labels: expected an integer tensor"):
        region_agreement(labels.float(), labels, 1)


# ---- per_class_iou -----------------------------------------------------------------------------------------


def test_per_class_iou_matches_torchmetrics():
    from torchmetrics.functional.classification import multiclass_jaccard_index

    pred, target = random_labels(10, batch=3, classes=5), random_labels(11, batch=3, classes=5)
    expected = multiclass_jaccard_index(pred, target, num_classes=5, average="none")
    torch.testing.assert_close(per_class_iou(pred, target, 5), expected)


def test_per_class_iou_absent_classes_are_nan_and_perfect_is_one():
    labels = random_labels(12, classes=3)
    iou = per_class_iou(labels, labels, 5)
    torch.testing.assert_close(iou[:3], torch.ones(3))
    assert torch.isnan(iou[3:]).all()


def test_per_class_iou_errors():
    labels = random_labels(0)
    with pytest.raises(ValueError, match=r"pred_labels: expected labels in \[0, 4\], got a label"):
        per_class_iou(labels, labels, 5)
    with pytest.raises(TypeError, match=r"num_classes: expected a positive int, got float"):
        per_class_iou(labels, labels, 7.0)
    with pytest.raises(ValueError, match=r"target_labels: expected the shape of pred_labels"):
        per_class_iou(labels, labels[:1], 7)
    with pytest.raises(ValueError, match=r"pred_labels: expected shape \(B, H, W\), got \(16, 16\)"):
        per_class_iou(labels[0], labels[0], 7)
