"""keep_source_regions / KeepSourceRegions: kept classes exactly where the source has them, nowhere else."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.layers.region_keep import KeepSourceRegions, keep_source_regions

K = 7


def _inputs(seed: int, b: int = 2, h: int = 5, w: int = 6, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, K, h, w, generator=gen, dtype=dtype) * 3
    source = torch.randint(0, K, (b, h, w), generator=gen)
    return logits, source


keeps = st.sets(st.integers(0, K - 1), min_size=0, max_size=K - 1).map(lambda s: tuple(sorted(s)))


@settings(deadline=None, max_examples=40)
@given(seed=st.integers(0, 2**31 - 1), keep=keeps, mask=st.sampled_from(["logits", "probabilities"]))
def test_kept_pixels_take_the_source_label_and_no_kept_label_appears_elsewhere(seed, keep, mask):
    logits, source = _inputs(seed)
    seg = logits if mask == "logits" else logits.softmax(1)
    out = keep_source_regions(seg, source, keep=keep, mask=mask)
    assert out.shape == seg.shape and out.dtype == seg.dtype
    labels = out.argmax(1)
    kept_pixel = torch.isin(source, torch.tensor(keep, dtype=torch.long))
    assert torch.equal(labels[kept_pixel], source[kept_pixel])  # kept pixels: the source's label
    assert not torch.isin(labels[~kept_pixel], torch.tensor(keep, dtype=torch.long)).any()  # nowhere else
    # Elsewhere the best free class of the generated map wins.
    free = seg.clone()
    if keep:
        free[:, list(keep)] = -float("inf")
    assert torch.equal(labels[~kept_pixel], free.argmax(1)[~kept_pixel])
    probs = out.softmax(1) if mask == "logits" else out
    torch.testing.assert_close(probs.sum(1), torch.ones_like(probs.sum(1)))


@pytest.mark.parametrize("mask", ["logits", "probabilities"])
def test_nothing_kept_is_the_identity(mask):
    logits, source = _inputs(1)
    seg = logits if mask == "logits" else logits.softmax(1)
    assert keep_source_regions(seg, source, keep=(), mask=mask) is seg


def test_kept_pixels_are_exactly_one_hot_after_a_softmax():
    logits, source = _inputs(2)
    out = keep_source_regions(logits, source, keep=(1, 2)).softmax(1)
    kept = torch.isin(source, torch.tensor([1, 2]))
    one_hot = torch.nn.functional.one_hot(source, K).permute(0, 3, 1, 2).float()
    assert torch.equal(out.permute(0, 2, 3, 1)[kept], one_hot.permute(0, 2, 3, 1)[kept])
    assert (out[:, 1:3].permute(0, 2, 3, 1)[~kept] == 0).all()  # hair and face switched off elsewhere


def test_probabilities_all_on_kept_classes_fall_back_to_the_free_classes():
    seg = torch.zeros(1, 3, 1, 1)
    seg[0, 1] = 1.0  # all mass on class 1, which is kept; the source pixel is class 0 (not kept)
    out = keep_source_regions(seg, torch.zeros(1, 1, 1, dtype=torch.long), keep=(1,), mask="probabilities")
    assert torch.allclose(out[0, :, 0, 0], torch.tensor([0.5, 0.0, 0.5]))


@pytest.mark.parametrize("mask", ["logits", "probabilities"])
def test_gradcheck_where_nothing_is_forced(mask):
    logits, source = _inputs(3, b=1, h=3, w=3, dtype=torch.float64)
    seg = (logits if mask == "logits" else logits.softmax(1)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda s: keep_source_regions(s, source, keep=(1, 2), mask=mask), (seg,))


def test_gradient_reaches_only_pixels_that_are_not_kept():
    logits, source = _inputs(4)
    logits.requires_grad_(True)
    keep_source_regions(logits, source, keep=(1, 2)).softmax(1)[:, 0].sum().backward()
    kept = torch.isin(source, torch.tensor([1, 2])).unsqueeze(1).expand_as(logits)
    assert (logits.grad[kept] == 0).all() and logits.grad[~kept].abs().sum() > 0


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_low_and_high_precision(dtype):
    logits, source = _inputs(5, dtype=dtype)
    labels = keep_source_regions(logits, source, keep=(1, 2)).argmax(1)
    kept = torch.isin(source, torch.tensor([1, 2]))
    assert torch.equal(labels[kept], source[kept])


def test_module_form_and_repr():
    layer = KeepSourceRegions(keep=(2, 1, 2), mask="probabilities")
    assert layer.keep == (1, 2) and "keep=(1, 2)" in repr(layer)
    logits, source = _inputs(6)
    torch.testing.assert_close(
        layer(logits.softmax(1), source),
        keep_source_regions(logits.softmax(1), source, keep=(1, 2), mask="probabilities"),
    )


def test_compiles():
    logits, source = _inputs(7)
    compiled = torch.compile(keep_source_regions, backend="aot_eager", fullgraph=False)
    torch.testing.assert_close(compiled(logits, source, keep=(1, 2)), keep_source_regions(logits, source))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"segmentation": torch.zeros(2, 7, 4)}, ValueError, r"segmentation: expected shape \(B, K, H, W\)"),
        ({"segmentation": torch.zeros(2, 7, 4, 4, dtype=torch.long)}, TypeError, "floating-point"),
        ({"source_labels": torch.zeros(2, 4, 4)}, TypeError, "source_labels: expected an integer tensor"),
        (
            {"source_labels": torch.zeros(2, 5, 4, dtype=torch.long)},
            ValueError,
            r"expected shape \(B, H, W\) = \(2, 4, 4\)",
        ),
        (
            {"source_labels": torch.full((2, 4, 4), 7)},
            ValueError,
            r"source_labels: expected labels in \[0, 6\], got a label 7",
        ),
        ({"keep": (1, 9)}, ValueError, r"keep\[1\]: expected an int in \[0, 6\], got 9"),
        ({"keep": "12"}, TypeError, "keep: expected a sequence of class indices, got str"),
        ({"keep": tuple(range(7))}, ValueError, "keep: expected at most 6 of the 7 classes"),
        (
            {"mask": "one_hot"},
            ValueError,
            r"mask: expected one of \['logits', 'probabilities'\], got 'one_hot'",
        ),
    ],
)
def test_bad_inputs_name_what_was_expected(kwargs, error, message):
    args = {"segmentation": torch.zeros(2, 7, 4, 4), "source_labels": torch.zeros(2, 4, 4, dtype=torch.long)}
    args.update(kwargs)
    extra = {k: v for k, v in args.items() if k not in ("segmentation", "source_labels")}
    with pytest.raises(error, match=message):
        keep_source_regions(args["segmentation"], args["source_labels"], **extra)
