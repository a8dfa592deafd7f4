import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.layers.label_maps import (
    ATR_18_TO_7,
    ATR_LABELS,
    FASHIONGAN_7_TO_4,
    FASHIONGAN_LABELS,
    FASHIONGAN_MERGED,
    MergeLabels,
    OneHotLabels,
    merge_labels,
    merge_probabilities,
    one_hot_labels,
)


def _labels(seed: int, shape: tuple[int, ...], high: int) -> torch.Tensor:
    return torch.randint(0, high, shape, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- constants


def test_fashiongan_merge_table_by_name():
    merged = {FASHIONGAN_LABELS[k]: FASHIONGAN_MERGED[m] for k, m in enumerate(FASHIONGAN_7_TO_4)}
    assert merged == {
        "background": "background",
        "hair": "hair",
        "face": "face",
        "upper_clothes": "rest",
        "lower_clothes": "rest",
        "legs": "rest",
        "arms": "rest",
    }


def test_atr_table_by_name():
    assert len(ATR_LABELS) == len(ATR_18_TO_7) == 18
    assert ATR_LABELS[-1] == "background"
    to7 = {ATR_LABELS[j]: FASHIONGAN_LABELS[k] for j, k in enumerate(ATR_18_TO_7)}
    assert to7 == {
        "hat": "hair",
        "hair": "hair",
        "sunglasses": "face",
        "face": "face",
        "upper_clothes": "upper_clothes",
        "scarf": "upper_clothes",
        "skirt": "lower_clothes",
        "pants": "lower_clothes",
        "dress": "lower_clothes",
        "belt": "lower_clothes",
        "bag": "lower_clothes",
        "left_shoe": "legs",
        "right_shoe": "legs",
        "left_leg": "legs",
        "right_leg": "legs",
        "left_arm": "arms",
        "right_arm": "arms",
        "background": "background",
    }
    # The official parser swaps channels {9,10},{12,13},{14,15} (1-based) on flips: left/right pairs.
    for left, right in ((9, 10), (12, 13), (14, 15)):
        assert ATR_LABELS[left - 1].startswith("left_") and ATR_LABELS[right - 1].startswith("right_")


def test_atr_then_fashiongan_merge_chains():
    atr = torch.arange(18).view(1, 3, 6)
    merged = merge_labels(merge_labels(atr, ATR_18_TO_7), FASHIONGAN_7_TO_4)
    assert merged.flatten().tolist() == [FASHIONGAN_7_TO_4[k] for k in ATR_18_TO_7]


# ---------------------------------------------------------------- one-hot


def test_one_hot_matches_torch_one_hot():
    labels = _labels(0, (2, 5, 7), 4)
    out = one_hot_labels(labels, 4)
    assert out.shape == (2, 4, 5, 7) and out.dtype == torch.float32
    torch.testing.assert_close(out, F.one_hot(labels, 4).permute(0, 3, 1, 2).float())


def test_one_hot_ignore_index_and_dtype():
    labels = torch.tensor([[[0, 255], [2, 1]]], dtype=torch.uint8)
    out = one_hot_labels(labels, 3, ignore_index=255, dtype=torch.bfloat16)
    assert out.dtype == torch.bfloat16
    assert out[0, :, 0, 1].tolist() == [0, 0, 0]
    assert out.sum().item() == 3
    assert out[0, 2, 1, 0].item() == 1


def test_one_hot_negative_ignore_index():
    labels = torch.tensor([[[-1, 1]]])
    assert one_hot_labels(labels, 2, ignore_index=-1)[0, :, 0, 0].tolist() == [0, 0]


def test_one_hot_module():
    layer = OneHotLabels(num_classes=5, ignore_index=9)
    labels = _labels(1, (2, 4, 4), 5)
    torch.testing.assert_close(layer(labels), one_hot_labels(labels, 5))
    assert "num_classes=5" in repr(layer)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"labels": torch.zeros(2, 4, 4)},
            TypeError,
            r"labels: expected an integer tensor .* got dtype torch.float32",
        ),
        (
            {"labels": torch.zeros(2, 4, 4, dtype=torch.bool)},
            TypeError,
            r"labels: expected an integer tensor",
        ),
        (
            {"labels": torch.zeros(2, 1, 4, 4, dtype=torch.long)},
            ValueError,
            r"labels: expected shape \(B, H, W\)",
        ),
        (
            {"labels": torch.full((1, 2, 2), 7)},
            ValueError,
            r"labels: expected labels in \[0, 6\], got a label 7",
        ),
        (
            {"labels": torch.full((1, 2, 2), -3)},
            ValueError,
            r"labels: expected labels in \[0, 6\].*got a label -3",
        ),
        ({"num_classes": 0}, ValueError, r"num_classes: expected a positive int, got 0"),
        ({"num_classes": 7.0}, TypeError, r"num_classes: expected a positive int, got float"),
        ({"dtype": "float32"}, TypeError, r"dtype: expected a torch.dtype, got str"),
        ({"ignore_index": 2.5}, TypeError, r"ignore_index: expected an int or None, got float"),
        ({"labels": [[0, 1]]}, TypeError, r"labels: expected a torch.Tensor, got list"),
    ],
)
def test_one_hot_errors(kwargs, error, match):
    args = {"labels": torch.zeros(1, 2, 2, dtype=torch.long), "num_classes": 7, **kwargs}
    num_classes = args.pop("num_classes")
    with pytest.raises(error, match=match):
        one_hot_labels(args.pop("labels"), num_classes, **args)


def test_one_hot_module_config_errors():
    with pytest.raises(ValueError, match=r"num_classes: expected a positive int, got -1"):
        OneHotLabels(num_classes=-1)
    with pytest.raises(TypeError, match=r"dtype: expected a torch.dtype, got type"):
        OneHotLabels(num_classes=3, dtype=float)
    with pytest.raises(TypeError, match=r"ignore_index: expected an int or None, got str"):
        OneHotLabels(num_classes=3, ignore_index="255")


def test_one_hot_range_error_mentions_ignore_index():
    with pytest.raises(ValueError, match=r"expected labels in \[0, 2\] or ignore_index=255, got a label 3"):
        one_hot_labels(torch.tensor([[[3, 255]]]), 3, ignore_index=255)


# ---------------------------------------------------------------- merging


def test_merge_labels_values_and_dtype():
    labels = torch.tensor([[[0, 1, 2], [3, 4, 5]]], dtype=torch.uint8)
    out = merge_labels(labels, (3, 0, 1, 2, 2, 2))
    assert out.dtype == torch.uint8
    assert out.tolist() == [[[3, 0, 1], [2, 2, 2]]]


def test_merge_labels_tensor_table_and_ignore_index():
    labels = torch.tensor([[[0, 255, 6]]])
    out = merge_labels(labels, torch.tensor(FASHIONGAN_7_TO_4), ignore_index=255)
    assert out.tolist() == [[[3, 255, 2]]]


def test_merge_probabilities_values():
    probs = torch.arange(7.0).view(1, 7, 1, 1)
    out = merge_probabilities(probs, FASHIONGAN_7_TO_4)
    assert out.flatten().tolist() == [1.0, 2.0, 3 + 4 + 5 + 6, 0.0]


def test_merge_probabilities_empty_target_is_zero():
    out = merge_probabilities(torch.ones(1, 2, 2, 2), (0, 2))
    assert out.shape == (1, 3, 2, 2)
    assert out[:, 1].abs().sum() == 0


def test_merge_probabilities_gradcheck():
    probs = torch.rand(2, 5, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda p: merge_probabilities(p, (1, 0, 1, 2, 0)), (probs,))


def test_merge_probabilities_bf16_and_channels_last():
    probs = torch.rand(2, 7, 6, 6).softmax(1)
    reference = merge_probabilities(probs, FASHIONGAN_7_TO_4)
    low = merge_probabilities(probs.bfloat16(), FASHIONGAN_7_TO_4)
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), reference, atol=1e-2, rtol=1e-2)
    channels_last = merge_probabilities(probs.to(memory_format=torch.channels_last), FASHIONGAN_7_TO_4)
    torch.testing.assert_close(channels_last, reference)


def test_merge_module_accepts_both_kinds():
    merge = MergeLabels(table=FASHIONGAN_7_TO_4)
    assert merge.num_classes == 7 and merge.num_merged == 4
    labels = _labels(2, (2, 4, 4), 7)
    one_hot = one_hot_labels(labels, 7)
    torch.testing.assert_close(merge(one_hot), one_hot_labels(merge(labels), 4))


@pytest.mark.parametrize(
    ("table", "error", "match"),
    [
        ((), ValueError, r"table: expected a non-empty table"),
        ((0, -1), ValueError, r"table\[1\]: expected a non-negative class id, got -1"),
        ((0, 1.5), TypeError, r"table\[1\]: expected an int, got float"),
        ((0, True), TypeError, r"table\[1\]: expected an int, got bool"),
        ("0123", TypeError, r"table: expected a sequence of ints or a 1-D integer tensor, got str"),
        (
            torch.zeros(2, 2, dtype=torch.long),
            ValueError,
            r"table: expected a 1-D tensor \(K,\), got shape \(2, 2\)",
        ),
        (torch.zeros(3), TypeError, r"table: expected an integer tensor"),
    ],
)
def test_merge_table_errors(table, error, match):
    with pytest.raises(error, match=match):
        merge_labels(torch.zeros(1, 2, 2, dtype=torch.long), table)
    with pytest.raises(error, match=match):
        MergeLabels(table=table)


def test_merge_labels_errors():
    with pytest.raises(ValueError, match=r"labels: expected labels in \[0, 6\], got a label 7"):
        merge_labels(torch.full((1, 2, 2), 7), FASHIONGAN_7_TO_4)
    with pytest.raises(TypeError, match=r"labels: expected an integer tensor"):
        merge_labels(torch.zeros(1, 2, 2), FASHIONGAN_7_TO_4)
    with pytest.raises(ValueError, match=r"labels: expected shape \(B, H, W\), got \(2, 2\)"):
        merge_labels(torch.zeros(2, 2, dtype=torch.long), FASHIONGAN_7_TO_4)


def test_merge_probabilities_errors():
    with pytest.raises(ValueError, match=r"probs: expected 7 channels in dim 1, got 4"):
        merge_probabilities(torch.rand(1, 4, 2, 2), FASHIONGAN_7_TO_4)
    with pytest.raises(TypeError, match=r"probs: expected a floating-point tensor, got dtype torch.int64"):
        merge_probabilities(torch.zeros(1, 7, 2, 2, dtype=torch.long), FASHIONGAN_7_TO_4)
    with pytest.raises(ValueError, match=r"probs: expected shape \(B, K, H, W\), got \(7, 2, 2\)"):
        merge_probabilities(torch.rand(7, 2, 2), FASHIONGAN_7_TO_4)


# ---------------------------------------------------------------- properties


@settings(deadline=None, max_examples=25)
@given(
    seed=st.integers(0, 2**31 - 1),
    table=st.lists(st.integers(0, 4), min_size=1, max_size=8),
    batch=st.integers(1, 2),
    height=st.integers(1, 6),
    width=st.integers(1, 6),
)
def test_merge_of_one_hot_is_one_hot_of_merge(seed, table, batch, height, width):
    labels = _labels(seed, (batch, height, width), len(table))
    num_merged = max(table) + 1
    left = merge_probabilities(one_hot_labels(labels, len(table)), table)
    right = one_hot_labels(merge_labels(labels, table), num_merged)
    assert torch.equal(left, right)


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 2**31 - 1), num_classes=st.integers(1, 6))
def test_one_hot_is_a_partition(seed, num_classes):
    labels = _labels(seed, (2, 5, 4), num_classes)
    out = one_hot_labels(labels, num_classes)
    assert torch.equal(out.sum(1), torch.ones(2, 5, 4))
    assert torch.equal(out.argmax(1), labels)
