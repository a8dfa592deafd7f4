import math
import re
from pathlib import Path

import einops
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.layers.compositional import MASK_KINDS, CompositionalMapping, compose_regions
from condgan.layers.label_maps import one_hot_labels


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _inputs(seed=0, batch=2, regions=4, channels=3, height=5, width=6, dtype=torch.float32):
    generator = _gen(seed)
    renderings = torch.randn(batch, regions, channels, height, width, generator=generator, dtype=dtype)
    logits = torch.randn(batch, regions, height, width, generator=generator, dtype=dtype)
    return renderings, logits


# ---------------------------------------------------------------- shapes and values


def test_shapes_and_the_two_rendering_layouts():
    renderings, logits = _inputs()
    out5 = compose_regions(renderings, logits, mask="logits")
    out4 = compose_regions(einops.rearrange(renderings, "b k c h w -> b (k c) h w"), logits, mask="logits")
    assert out5.shape == out4.shape == (2, 3, 5, 6)
    torch.testing.assert_close(out5, out4)


def test_flat_layout_is_region_major():
    # Channels 0..2 are region 0's RGB, 3..5 region 1's.
    flat = torch.arange(6.0).view(1, 6, 1, 1)
    out = compose_regions(flat, torch.tensor([0.0, 1.0]).view(1, 2, 1, 1), mask="one_hot")
    assert out.flatten().tolist() == [3.0, 4.0, 5.0]


def test_logits_mean_softmax_weighted_sum():
    renderings, logits = _inputs(1)
    weights = logits.softmax(1)
    expected = sum(weights[:, k : k + 1] * renderings[:, k] for k in range(4))
    torch.testing.assert_close(compose_regions(renderings, logits, mask="logits"), expected)
    torch.testing.assert_close(compose_regions(renderings, weights, mask="probabilities"), expected)


def test_keep_takes_the_source_where_the_kept_regions_are():
    renderings, _ = _inputs(2)
    labels = torch.randint(0, 4, (2, 5, 6), generator=_gen(3))
    source = torch.randn(2, 3, 5, 6, generator=_gen(4))
    out = compose_regions(renderings, one_hot_labels(labels, 4), mask="one_hot", keep=(1, 2), source=source)
    kept = ((labels == 1) | (labels == 2)).unsqueeze(1).expand_as(out)
    assert torch.equal(out[kept], source[kept])
    selected = torch.gather(renderings, 1, labels[:, None, None].expand(2, 1, 3, 5, 6)).squeeze(1)
    assert torch.equal(out[~kept], selected[~kept])


def test_keep_with_soft_masks():
    renderings, logits = _inputs(5)
    source = torch.randn(2, 3, 5, 6, generator=_gen(6))
    weights = logits.softmax(1)
    out = compose_regions(renderings, logits, mask="logits", keep=[0], source=source)
    expected = weights[:, :1] * source + sum(weights[:, k : k + 1] * renderings[:, k] for k in range(1, 4))
    torch.testing.assert_close(out, expected)


def test_ignored_one_hot_pixels_compose_to_zero():
    renderings, _ = _inputs(7)
    labels = torch.randint(0, 4, (2, 5, 6), generator=_gen(8))
    labels[:, 0, 0] = 255
    out = compose_regions(renderings, one_hot_labels(labels, 4, ignore_index=255), mask="one_hot")
    assert out[:, :, 0, 0].abs().sum() == 0


def test_source_without_keep_is_ignored():
    renderings, logits = _inputs(9)
    out = compose_regions(renderings, logits, mask="logits", source=torch.zeros(2, 3, 5, 6))
    torch.testing.assert_close(out, compose_regions(renderings, logits, mask="logits"))


def test_mixed_precision_masks_are_cast_to_the_renderings_dtype():
    renderings, logits = _inputs(10)
    out = compose_regions(renderings.bfloat16(), logits, mask="logits")
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(
        out.float(), compose_regions(renderings, logits, mask="logits"), atol=3e-2, rtol=3e-2
    )


@pytest.mark.parametrize("mask", MASK_KINDS)
def test_bf16_inputs(mask):
    renderings, logits = _inputs(11)
    segmentation = logits if mask == "logits" else one_hot_labels(logits.argmax(1), 4)
    reference = compose_regions(renderings, segmentation, mask=mask)
    low = compose_regions(renderings.bfloat16(), segmentation.bfloat16(), mask=mask)
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), reference, atol=3e-2, rtol=3e-2)


def test_channels_last_inputs():
    renderings, logits = _inputs(12, regions=3, channels=4)
    flat = einops.rearrange(renderings, "b k c h w -> b (k c) h w")
    source = torch.randn(2, 4, 5, 6, generator=_gen(13))
    reference = compose_regions(flat, logits, mask="logits", keep=(2,), source=source)
    channels_last = [t.contiguous(memory_format=torch.channels_last) for t in (flat, logits, source)]
    out = compose_regions(
        channels_last[0], channels_last[1], mask="logits", keep=(2,), source=channels_last[2]
    )
    torch.testing.assert_close(out, reference)


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("mask", MASK_KINDS)
def test_gradcheck(mask):
    renderings, logits = _inputs(14, batch=1, regions=3, channels=2, height=3, width=3, dtype=torch.float64)
    segmentation = logits if mask == "logits" else logits.softmax(1)
    renderings.requires_grad_()
    segmentation.requires_grad_()
    # fast_mode for logits: a tiny multi-threaded softmax costs ~10 ms on a loaded 2-core machine; the full
    # numerical Jacobian calls it a few hundred times.
    fast = mask == "logits"
    assert torch.autograd.gradcheck(
        lambda r, s: compose_regions(r, s, mask=mask), (renderings, segmentation), fast_mode=fast
    )


def test_gradcheck_with_keep_and_source():
    renderings, logits = _inputs(15, batch=1, regions=3, channels=2, height=3, width=3, dtype=torch.float64)
    source = torch.randn(1, 2, 3, 3, dtype=torch.float64, generator=_gen(16))
    inputs = tuple(t.requires_grad_() for t in (renderings, logits, source))
    assert torch.autograd.gradcheck(
        lambda r, s, x: compose_regions(r, s, mask="logits", keep=(0, 2), source=x), inputs, fast_mode=True
    )
    probs = logits.detach().softmax(1).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda r, s, x: compose_regions(r, s, keep=(0, 2), source=x), (renderings, probs, source)
    )


def test_kept_regions_get_no_gradient():
    renderings, logits = _inputs(17)
    renderings.requires_grad_()
    compose_regions(
        renderings, logits, mask="logits", keep=(1,), source=torch.zeros(2, 3, 5, 6)
    ).sum().backward()
    assert renderings.grad[:, 1].abs().sum() == 0
    assert renderings.grad[:, 0].abs().sum() > 0


# ---------------------------------------------------------------- properties

_shapes = {
    "seed": st.integers(0, 2**31 - 1),
    "batch": st.integers(1, 2),
    "regions": st.integers(1, 5),
    "channels": st.integers(1, 3),
    "height": st.integers(1, 5),
    "width": st.integers(1, 5),
}


@settings(deadline=None, max_examples=25)
@given(**_shapes)
def test_one_hot_mask_returns_the_selected_rendering_exactly(seed, batch, regions, channels, height, width):
    renderings, _ = _inputs(seed, batch, regions, channels, height, width)
    labels = torch.randint(0, regions, (batch, height, width), generator=_gen(seed + 1))
    out = compose_regions(renderings, one_hot_labels(labels, regions), mask="one_hot")
    index = labels[:, None, None].expand(batch, 1, channels, height, width)
    assert torch.equal(out, torch.gather(renderings, 1, index).squeeze(1))


@settings(deadline=None, max_examples=25)
@given(**_shapes, mask=st.sampled_from(MASK_KINDS))
def test_permuting_regions_and_masks_together_changes_nothing(
    seed, batch, regions, channels, height, width, mask
):
    renderings, logits = _inputs(seed, batch, regions, channels, height, width)
    segmentation = logits if mask == "logits" else logits.softmax(1)
    perm = torch.randperm(regions, generator=_gen(seed + 2))
    out = compose_regions(renderings, segmentation, mask=mask)
    permuted = compose_regions(renderings[:, perm], segmentation[:, perm], mask=mask)
    torch.testing.assert_close(permuted, out)


@settings(deadline=None, max_examples=25)
@given(**_shapes)
def test_no_gradient_reaches_a_rendering_where_its_mask_is_zero(
    seed, batch, regions, channels, height, width
):
    renderings, logits = _inputs(seed, batch, regions, channels, height, width)
    masks = logits.softmax(1)
    zero = torch.rand(batch, regions, height, width, generator=_gen(seed + 3)) < 0.5
    masks = masks.masked_fill(zero, 0.0)
    renderings.requires_grad_()
    upstream = torch.randn(batch, channels, height, width, generator=_gen(seed + 4))
    (compose_regions(renderings, masks) * upstream).sum().backward()
    grad = renderings.grad
    assert torch.equal(grad[zero.unsqueeze(2).expand_as(grad)], torch.zeros(int(zero.sum()) * channels))
    nonzero = ~zero.unsqueeze(2).expand_as(grad)
    torch.testing.assert_close(grad[nonzero], (masks.unsqueeze(2) * upstream.unsqueeze(1))[nonzero])


# ---------------------------------------------------------------- module


def test_module():
    layer = CompositionalMapping(num_regions=4, channels=3, mask="logits", keep=(2, 1, 2))
    assert layer.in_channels == 12 and layer.keep == (1, 2)
    renderings, logits = _inputs(18)
    source = torch.randn(2, 3, 5, 6, generator=_gen(19))
    expected = compose_regions(renderings, logits, mask="logits", keep=(1, 2), source=source)
    torch.testing.assert_close(layer(renderings, logits, source), expected)
    torch.testing.assert_close(
        layer(einops.rearrange(renderings, "b k c h w -> b (k c) h w"), logits, source), expected
    )
    assert "keep=(1, 2)" in repr(layer)


@pytest.mark.parametrize(
    ("renderings", "segmentation", "match"),
    [
        (
            torch.randn(2, 12, 4, 4),
            torch.randn(2, 5, 4, 4),
            r"segmentation: expected 4 region channels in dim 1",
        ),
        (
            torch.randn(2, 8, 4, 4),
            torch.randn(2, 4, 4, 4),
            r"renderings: expected 12 = num_regions \* channels = 4 \* 3",
        ),
        (torch.randn(2, 4, 2, 4, 4), torch.randn(2, 4, 4, 4), r"renderings: expected \(B, 4, 3, H, W\)"),
    ],
)
def test_module_errors(renderings, segmentation, match):
    with pytest.raises(ValueError, match=match):
        CompositionalMapping(num_regions=4, channels=3)(renderings, segmentation)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_regions": 0}, ValueError, r"num_regions: expected a positive int, got 0"),
        ({"num_regions": 4, "channels": 0}, ValueError, r"channels: expected a positive int, got 0"),
        ({"num_regions": 4, "keep": (4,)}, ValueError, r"keep: expected region indices in \[0, 3\], got 4"),
        (
            {"num_regions": 4, "mask": "softmax"},
            ValueError,
            r"mask: expected one of \('logits'.*got 'softmax'",
        ),
    ],
)
def test_module_config_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        CompositionalMapping(**kwargs)


# ---------------------------------------------------------------- errors


def _bad_calls():
    r5, s = _inputs(20)
    r4 = einops.rearrange(r5, "b k c h w -> b (k c) h w")
    src = torch.randn(2, 3, 5, 6)
    return [
        (
            (r5[0, 0], s),
            {},
            ValueError,
            r"renderings: expected shape \(B, K, C, H, W\) or \(B, K\*C, H, W\), got \(3, 5, 6\)",
        ),
        (
            (r5.long(), s),
            {},
            TypeError,
            r"renderings: expected a floating-point tensor, got dtype torch.int64",
        ),
        ((r5, s[0]), {}, ValueError, r"segmentation: expected shape \(B, K, H, W\), got \(4, 5, 6\)"),
        ((r5, s.argmax(1, keepdim=True)), {}, TypeError, r"segmentation: expected a floating-point tensor"),
        (
            (r5, s[:, :3]),
            {},
            ValueError,
            r"renderings: expected 3 regions in dim 1 to match segmentation's 3 channels, got renderings "
            r"\(2, 4, 3, 5, 6\) and segmentation \(2, 3, 5, 6\)",
        ),
        (
            (r4[:, :10], s),
            {},
            ValueError,
            r"renderings: expected K\*C channels with K = 4 \(segmentation's channels\), got 10 channels, "
            r"not a multiple of 4",
        ),
        (
            (r5, s[..., :4]),
            {},
            ValueError,
            r"segmentation: expected spatial size \(5, 6\) of renderings, got \(5, 4\)",
        ),
        ((r5, s[:1]), {}, ValueError, r"batch size mismatch.*renderings=2, segmentation=1"),
        ((r5, s), {"keep": (4,)}, ValueError, r"keep: expected region indices in \[0, 3\], got 4"),
        ((r5, s), {"keep": (-1,)}, ValueError, r"keep: expected region indices in \[0, 3\], got -1"),
        ((r5, s), {"keep": ("hair",)}, TypeError, r"keep: expected int region indices, got str"),
        ((r5, s), {"keep": 1}, TypeError, r"keep: expected a sequence of region indices, got int"),
        (
            (r5, s),
            {"keep": (1,)},
            ValueError,
            r"source: required when keep is non-empty \(keep=\(1,\)\), got None",
        ),
        (
            (r5, s),
            {"keep": (1,), "source": src[:, :2]},
            ValueError,
            r"source: expected shape \(2, 3, 5, 6\) \(B, C, H, W\), got \(2, 2, 5, 6\)",
        ),
        (
            (r5, s),
            {"keep": (1,), "source": src[0]},
            ValueError,
            r"source: expected shape \(B, C, H, W\), got \(3, 5, 6\)",
        ),
        (
            (r5, s),
            {"keep": (1,), "source": src.long()},
            TypeError,
            r"source: expected a floating-point tensor",
        ),
        (
            (r5, s),
            {"mask": "soft"},
            ValueError,
            r"mask: expected one of \('logits', 'probabilities', 'one_hot'\), got 'soft'",
        ),
    ]


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), _bad_calls())
def test_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        compose_regions(*args, **kwargs)


def test_check_mask():
    renderings, logits = _inputs(21)
    probs = logits.softmax(1)
    one_hot = one_hot_labels(logits.argmax(1), 4)
    compose_regions(renderings, logits, mask="logits", check_mask=True)
    compose_regions(renderings, probs, mask="probabilities", check_mask=True)
    compose_regions(renderings, one_hot, mask="one_hot", check_mask=True)
    with pytest.raises(ValueError, match=r"segmentation: expected probabilities summing to 1 over dim 1"):
        compose_regions(renderings, probs * 0.9, mask="probabilities", check_mask=True)
    with pytest.raises(ValueError, match=r"segmentation: expected probabilities in \[0, 1\], got values in"):
        compose_regions(renderings, logits, mask="probabilities", check_mask=True)
    with pytest.raises(ValueError, match=r"segmentation: expected a one-hot map of 0s and 1s"):
        compose_regions(renderings, probs, mask="one_hot", check_mask=True)
    with pytest.raises(ValueError, match=r"segmentation: expected at most one 1 per pixel"):
        compose_regions(renderings, torch.ones_like(probs), mask="one_hot", check_mask=True)
    with pytest.raises(ValueError, match=r"segmentation: expected finite logits, got NaN or inf"):
        compose_regions(
            renderings, logits.masked_fill(one_hot.bool(), float("nan")), mask="logits", check_mask=True
        )
    # Without the flag nothing is scanned.
    compose_regions(renderings, probs * 0.9, mask="probabilities")


# ---------------------------------------------------------------- docs


@pytest.mark.parametrize("page", ["guide-compositional.md", "layers.md"])
def test_docs_examples_run(page):
    # The python blocks of a page run top to bottom in one namespace, so the docs cannot drift from the code.
    text = (Path(__file__).resolve().parents[2] / "docs" / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, f"no python blocks in docs/{page}"
    namespace: dict = {}
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # small ops; avoids thread-pool overhead when pytest-xdist fills the cores
    try:
        for block in blocks:
            exec(compile(block, f"docs/{page}", "exec"), namespace)
    finally:
        torch.set_num_threads(previous)


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 10_000), sigma=st.floats(0.3, 1.5), keep=st.sampled_from([(), (1,), (0, 2)]))
def test_antialias_blends_edges_only_and_never_into_kept_regions(seed, sigma, keep):
    """Blurred one-hot masks still sum to one; pixels far from any edge are the hard composition's; a kept
    region's own pixels are the source's exactly."""
    from condgan.layers import blur_masks

    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 3, (2, 4, 4), generator=g).repeat_interleave(3, 1).repeat_interleave(3, 2)
    masks = torch.nn.functional.one_hot(labels, 3).permute(0, 3, 1, 2).float()  # (2, 3, 12, 12) blocks
    renderings = torch.rand(2, 3, 3, 12, 12, generator=g)
    source = torch.rand(2, 3, 12, 12, generator=g)
    torch.testing.assert_close(blur_masks(masks, sigma).sum(1), torch.ones(2, 12, 12))
    hard = compose_regions(renderings, masks, mask="one_hot", keep=keep, source=source)
    soft = compose_regions(renderings, masks, mask="one_hot", keep=keep, source=source, antialias=sigma)
    reach = 2 * math.ceil(2 * sigma) + 1
    far = (
        (torch.nn.functional.max_pool2d(masks, reach, 1, reach // 2).sum(1) == 1).unsqueeze(1).expand_as(hard)
    )
    torch.testing.assert_close(soft[far], hard[far])
    inside = sum((labels == k).float() for k in keep) if keep else torch.zeros(2, 12, 12)
    kept = (inside > 0).unsqueeze(1).expand_as(soft)
    assert torch.equal(soft[kept], source[kept])


def test_antialias_errors():
    r, m = torch.rand(1, 2, 3, 4, 4), torch.rand(1, 2, 4, 4)
    with pytest.raises(
        ValueError, match=r"antialias: expected a finite Gaussian sigma >= 0 \(pixels\), got -1"
    ):
        compose_regions(r, m, antialias=-1)
    with pytest.raises(ValueError, match="antialias: expected a finite Gaussian sigma"):
        CompositionalMapping(num_regions=2, antialias=float("nan"))
    assert "antialias=0.5" in repr(CompositionalMapping(num_regions=2, antialias=0.5))
