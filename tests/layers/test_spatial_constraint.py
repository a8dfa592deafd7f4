import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.layers.label_maps import FASHIONGAN_7_TO_4, merge_labels, one_hot_labels
from condgan.layers.spatial_constraint import SPATIAL_CONSTRAINT_MODES, SpatialConstraint, spatial_constraint


def _labels(seed: int, shape: tuple[int, ...], high: int = 7) -> torch.Tensor:
    return torch.randint(0, high, shape, generator=torch.Generator().manual_seed(seed))


def _blobs(size: int = 32) -> torch.Tensor:
    """A person-like label map: background, a body column, a head with hair on top."""
    labels = torch.zeros(1, size, size, dtype=torch.long)
    labels[:, size // 4 :, size // 3 : 2 * size // 3] = 3
    labels[:, size // 8 : size // 4, 3 * size // 8 : 5 * size // 8] = 2
    labels[:, : size // 8, 3 * size // 8 : 5 * size // 8] = 1
    labels[:, 3 * size // 4 :, size // 3 : 2 * size // 3] = 5
    return labels


# ---------------------------------------------------------------- shapes and values


@pytest.mark.parametrize("mode", SPATIAL_CONSTRAINT_MODES)
@pytest.mark.parametrize(("size", "expected"), [(8, (8, 8)), ((4, 2), (4, 2))])
def test_shapes(mode, size, expected):
    out = spatial_constraint(_labels(0, (2, 32, 16)), size=size, mode=mode)
    assert out.shape == (2, 4, *expected)
    assert out.dtype == torch.float32


def test_area_uneven_windows_match_adaptive_pooling():
    probs = torch.rand(2, 7, 10, 9).softmax(1)
    merged = torch.nn.functional.adaptive_avg_pool2d(
        torch.stack([probs[:, 1], probs[:, 2], probs[:, 3:].sum(1), probs[:, 0]], dim=1), (4, 4)
    )
    torch.testing.assert_close(spatial_constraint(probs, size=4), merged)


def test_area_values_are_class_fractions():
    labels = torch.zeros(1, 4, 4, dtype=torch.long)
    labels[0, 0, 0] = 1  # one hair pixel in the top-left 2x2 cell
    labels[0, 2:, 2:] = 4  # lower clothes fill the bottom-right cell
    out = spatial_constraint(labels, size=2)
    assert out[0, :, 0, 0].tolist() == [0.25, 0.0, 0.0, 0.75]  # [hair, face, rest, background]
    assert out[0, :, 1, 1].tolist() == [0.0, 0.0, 1.0, 0.0]


def test_table_none_keeps_classes():
    labels = _labels(1, (2, 16, 16))
    out = spatial_constraint(labels, table=None, num_classes=7, size=4)
    torch.testing.assert_close(out, torch.nn.functional.avg_pool2d(one_hot_labels(labels, 7), 4))


@pytest.mark.parametrize("mode", SPATIAL_CONSTRAINT_MODES)
def test_labels_and_one_hot_give_the_same_masks(mode):
    labels = _blobs(32)
    from_labels = spatial_constraint(labels, size=8, mode=mode)
    from_one_hot = spatial_constraint(one_hot_labels(labels, 7), size=8, mode=mode)
    from_merged = spatial_constraint(
        merge_labels(labels, FASHIONGAN_7_TO_4), table=None, num_classes=4, size=8, mode=mode
    )
    torch.testing.assert_close(from_labels, from_one_hot)
    torch.testing.assert_close(from_labels, from_merged)


def test_nearest_gives_hard_masks():
    out = spatial_constraint(_labels(2, (2, 16, 16)), size=4, mode="nearest")
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(out.sum(1), torch.ones(2, 4, 4))


def test_bicubic_keeps_constant_regions_and_sums_to_one():
    out = spatial_constraint(torch.full((1, 32, 32), 6), size=8, mode="bicubic")
    torch.testing.assert_close(out[:, 2], torch.ones(1, 8, 8))
    out = spatial_constraint(_blobs(64), size=8, mode="bicubic")
    torch.testing.assert_close(out.sum(1), torch.ones(1, 8, 8))


def _cubic(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    return (1.5 * a**3 - 2.5 * a**2 + 1) * (a <= 1) + (-0.5 * a**3 + 2.5 * a**2 - 4 * a + 2) * (
        (a > 1) & (a <= 2)
    )


def _matlab_imresize_matrix(in_len: int, out_len: int) -> np.ndarray:
    """MATLAB imresize's bicubic, antialiased downsampling as a (out, in) matrix (its contributions())."""
    scale = out_len / in_len
    width = 4.0 / scale
    u = np.arange(1, out_len + 1) / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = int(np.ceil(width)) + 2
    index = left[:, None] + np.arange(taps)[None, :]
    weights = scale * _cubic(scale * (u[:, None] - index))
    weights /= weights.sum(1, keepdims=True)
    mirror = np.concatenate([np.arange(1, in_len + 1), np.arange(in_len, 0, -1)])
    index = mirror[np.mod(index - 1, mirror.size).astype(int)] - 1
    matrix = np.zeros((out_len, in_len))
    for row in range(out_len):
        np.add.at(matrix[row], index[row], weights[row])
    return matrix


def test_bicubic_matches_matlab_imresize_away_from_the_border():
    # sr1_8.mat was made with MATLAB imresize(single(mask), [8, 8]); compare the cells whose kernel support
    # does not reach the border (MATLAB mirrors there, torch renormalises).
    labels = _blobs(128)
    ours = spatial_constraint(labels, size=8, mode="bicubic").double().numpy()[0]
    masks = one_hot_labels(merge_labels(labels, FASHIONGAN_7_TO_4), 4).double().numpy()[0]
    matrix = _matlab_imresize_matrix(128, 8)
    matlab = np.einsum("ih,chw,jw->cij", matrix, masks, matrix)
    np.testing.assert_allclose(ours[:, 2:6, 2:6], matlab[:, 2:6, 2:6], atol=1e-5)
    assert np.abs(ours - matlab).max() < 0.1  # the border cells differ, but only a little


def test_ignore_index_leaves_cells_short_of_one():
    labels = torch.zeros(1, 4, 4, dtype=torch.long)
    labels[0, :2, :2] = 255
    out = spatial_constraint(labels, size=2, ignore_index=255)
    assert out[0, :, 0, 0].sum() == 0
    assert out[0, :, 1, 1].sum() == 1


def test_module_matches_function():
    layer = SpatialConstraint(size=(4, 4), mode="bicubic")
    assert layer.out_channels == 4
    labels = _labels(3, (2, 32, 32))
    torch.testing.assert_close(layer(labels), spatial_constraint(labels, size=4, mode="bicubic"))
    assert SpatialConstraint(table=None, num_classes=7).out_channels == 7
    assert SpatialConstraint(table=None).out_channels is None
    assert "mode='bicubic'" in repr(layer)


# ---------------------------------------------------------------- gradients, dtypes, layouts


@pytest.mark.parametrize("mode", SPATIAL_CONSTRAINT_MODES)
@pytest.mark.parametrize("size", [3, (2, 4)])  # (2, 4) from 6 x 6: adaptive pooling with uneven windows
def test_gradcheck_probabilities(mode, size):
    probs = torch.rand(1, 7, 6, 6, dtype=torch.float64).softmax(1).requires_grad_()
    # fast_mode: adaptive pooling's CPU backward is slow enough to make the full Jacobian cost seconds.
    assert torch.autograd.gradcheck(
        lambda p: spatial_constraint(p, size=size, mode=mode), (probs,), fast_mode=True
    )


@pytest.mark.parametrize("mode", SPATIAL_CONSTRAINT_MODES)
def test_bf16_probabilities(mode):
    probs = torch.rand(2, 7, 16, 16).softmax(1)
    reference = spatial_constraint(probs, size=4, mode=mode)
    low = spatial_constraint(probs.bfloat16(), size=4, mode=mode)
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), reference, atol=2e-2, rtol=2e-2)


@pytest.mark.parametrize("mode", SPATIAL_CONSTRAINT_MODES)
def test_channels_last_probabilities(mode):
    probs = torch.rand(2, 7, 16, 16).softmax(1)
    reference = spatial_constraint(probs, size=4, mode=mode)
    out = spatial_constraint(probs.to(memory_format=torch.channels_last), size=4, mode=mode)
    torch.testing.assert_close(out, reference)


# ---------------------------------------------------------------- properties


@settings(deadline=None, max_examples=25)
@given(
    seed=st.integers(0, 2**31 - 1),
    height=st.integers(1, 24),
    width=st.integers(1, 24),
    size=st.integers(1, 8),
    num_classes=st.integers(1, 7),
)
def test_area_fractions_sum_to_one(seed, height, width, size, num_classes):
    labels = _labels(seed, (2, height, width), num_classes)
    out = spatial_constraint(labels, size=size, table=None, num_classes=num_classes, mode="area")
    torch.testing.assert_close(out.sum(1), torch.ones(2, size, size))
    assert out.min() >= 0 and out.max() <= 1


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 2**31 - 1), factor=st.integers(1, 4), size=st.integers(1, 6))
def test_bicubic_downsampled_masks_sum_to_one(seed, factor, size):
    labels = _labels(seed, (1, size * factor, size * factor))
    out = spatial_constraint(labels, size=size, mode="bicubic")
    torch.testing.assert_close(out.sum(1), torch.ones(1, size, size))


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("segmentation", "kwargs", "error", "match"),
    [
        (
            torch.rand(2, 8, 8),
            {},
            ValueError,
            r"segmentation: expected shape \(B, K, H, W\), got \(2, 8, 8\)",
        ),
        (
            torch.zeros(2, 1, 8, 8, dtype=torch.long),
            {},
            ValueError,
            r"segmentation: expected shape \(B, H, W\) for integer labels",
        ),
        (torch.zeros(2, 8, 8, dtype=torch.bool), {}, TypeError, r"segmentation: expected an integer tensor"),
        (
            torch.full((1, 8, 8), 7),
            {},
            ValueError,
            r"segmentation: expected labels in \[0, 6\], got a label 7",
        ),
        (torch.rand(2, 5, 8, 8), {}, ValueError, r"segmentation: expected 7 channels in dim 1, got 5"),
        (
            torch.rand(2, 5, 8, 8),
            {"table": None, "num_classes": 4},
            ValueError,
            r"expected 4 channels in dim 1",
        ),
        (
            torch.zeros(1, 8, 8, dtype=torch.long),
            {"table": None},
            ValueError,
            r"num_classes: required for integer labels when table is None",
        ),
        (
            torch.rand(1, 7, 8, 8),
            {"num_classes": 8},
            ValueError,
            r"num_classes: expected len\(table\) = 7.*got 8",
        ),
        (
            torch.rand(1, 7, 8, 8),
            {"mode": "bilinear"},
            ValueError,
            r"mode: expected one of \('area'.*got 'bilinear'",
        ),
        (torch.rand(1, 7, 8, 8), {"size": 0}, ValueError, r"size: expected a positive int, got 0"),
        (torch.rand(1, 7, 8, 8), {"size": 2.5}, TypeError, r"size: expected a positive int, got float"),
        (torch.rand(1, 7, 8, 8), {"size": (8,)}, ValueError, r"size: expected an int or a pair \(h, w\)"),
        (
            torch.rand(1, 7, 8, 8),
            {"size": (8, -1)},
            ValueError,
            r"size\[1\]: expected a positive int, got -1",
        ),
        (
            torch.rand(1, 7, 8, 8),
            {"ignore_index": 255},
            ValueError,
            r"ignore_index: applies to integer \(B, H, W\) labels only",
        ),
        ("labels", {}, TypeError, r"segmentation: expected a torch.Tensor, got str"),
    ],
)
def test_errors(segmentation, kwargs, error, match):
    with pytest.raises(error, match=match):
        spatial_constraint(segmentation, **kwargs)


def test_module_config_errors():
    with pytest.raises(ValueError, match=r"mode: expected one of"):
        SpatialConstraint(mode="cubic")
    with pytest.raises(ValueError, match=r"num_classes: expected len\(table\) = 7"):
        SpatialConstraint(num_classes=4)
    with pytest.raises(ValueError, match=r"size: expected a positive int, got 0"):
        SpatialConstraint(size=0)
