import kornia
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.layers.label_maps import one_hot_labels
from condgan.layers.seg_encoding import (
    BORDER_TYPES,
    OFFICIAL_BLUR_KERNEL,
    OFFICIAL_PALETTE,
    ColorCodeEncoding,
    color_code_segmentation,
)


@pytest.fixture(autouse=True, scope="module")
def _one_intra_op_thread():
    # Tiny float64 convolutions are dominated by thread-pool overhead when pytest-xdist fills the cores.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _labels(seed: int, shape=(2, 16, 16), high: int = 7) -> torch.Tensor:
    return torch.randint(0, high, shape, generator=torch.Generator().manual_seed(seed))


def _official_kernel() -> torch.Tensor:
    return torch.tensor(OFFICIAL_BLUR_KERNEL, dtype=torch.float64)


# ---------------------------------------------------------------- constants


def test_palette_matches_the_official_cb_tables():
    # ih1/train.lua: cb[j][k] * 0.25 is channel j's value for Torch index k, and index k means label k % 7.
    cb = ((3, 2, 1, 1, 2, 3, 2), (2, 3, 3, 2, 1, 1, 2), (1, 1, 2, 3, 3, 2, 2))
    official = {k % 7: tuple(0.25 * cb[j][k - 1] for j in range(3)) for k in range(1, 8)}
    assert tuple(official[label] for label in range(7)) == OFFICIAL_PALETTE


def test_kornia_kernel_is_matlab_fspecial_gaussian_5_1():
    kernel = kornia.filters.get_gaussian_kernel2d((5, 5), (1.0, 1.0))[0].double()
    assert abs(kernel[2, 2].item() - 0.1621) < 5e-5
    torch.testing.assert_close(kernel, _official_kernel(), atol=5e-5, rtol=0)
    torch.testing.assert_close(kernel.sum(), torch.tensor(1.0, dtype=torch.float64))


# ---------------------------------------------------------------- values


def test_uniform_regions_encode_to_colour_minus_half():
    for label, colour in enumerate(OFFICIAL_PALETTE):
        out = color_code_segmentation(torch.full((1, 8, 8), label))
        expected = (torch.tensor(colour) - 0.5).view(1, 3, 1, 1).expand(1, 3, 8, 8)
        torch.testing.assert_close(out, expected)


def test_blur_equals_a_replicate_padded_convolution_with_the_5x5_kernel():
    labels = _labels(0)
    colours = torch.tensor(OFFICIAL_PALETTE)[labels].permute(0, 3, 1, 2)
    kernel = kornia.filters.get_gaussian_kernel2d((5, 5), (1.0, 1.0)).expand(3, 1, 5, 5)
    expected = F.conv2d(F.pad(colours, (2, 2, 2, 2), mode="replicate"), kernel, groups=3) - 0.5
    torch.testing.assert_close(color_code_segmentation(labels), expected)


def test_constant_border_reproduces_the_official_zero_padded_convolution():
    # Torch image.convolve(u, H, 'same') = full convolution, centre crop = zero padding, with the printed H.
    labels = _labels(1)
    colours = torch.tensor(OFFICIAL_PALETTE, dtype=torch.float64)[labels].permute(0, 3, 1, 2)
    official = F.conv2d(colours, _official_kernel().expand(3, 1, 5, 5), padding=2, groups=3) - 0.5
    ours = color_code_segmentation(labels, border_type="constant").double()
    # The printed H sums to 0.9997 (4 decimals); colours are at most 0.75, so the two differ by < 3e-4.
    torch.testing.assert_close(ours, official, atol=3e-4, rtol=0)


def test_replicate_border_keeps_the_background_uniform():
    background = torch.zeros(1, 12, 12, dtype=torch.long)
    torch.testing.assert_close(color_code_segmentation(background), torch.zeros(1, 3, 12, 12))
    assert color_code_segmentation(background, border_type="constant")[0, :, 0, 0].min() < -0.1


def test_kernel_size_one_disables_the_blur_and_offset_is_added():
    labels = _labels(2)
    out = color_code_segmentation(labels, kernel_size=1, offset=0.0)
    assert torch.equal(out, torch.tensor(OFFICIAL_PALETTE)[labels].permute(0, 3, 1, 2))


def test_labels_and_one_hot_agree():
    labels = _labels(3)
    torch.testing.assert_close(
        color_code_segmentation(labels), color_code_segmentation(one_hot_labels(labels, 7))
    )


def test_custom_palette():
    palette = torch.tensor([[0.0], [1.0]])
    out = color_code_segmentation(torch.tensor([[[0, 1]]]), palette=palette, kernel_size=1, offset=0.0)
    assert out.shape == (1, 1, 1, 2) and out.flatten().tolist() == [0.0, 1.0]


def test_soft_probabilities_mix_the_palette():
    probs = torch.zeros(1, 7, 4, 4)
    probs[:, 1] = 0.5  # half hair, half face
    probs[:, 2] = 0.5
    out = color_code_segmentation(probs)
    expected = 0.5 * (torch.tensor(OFFICIAL_PALETTE[1]) + torch.tensor(OFFICIAL_PALETTE[2])) - 0.5
    torch.testing.assert_close(out[0, :, 2, 2], expected)


def test_module():
    encode = ColorCodeEncoding(border_type="reflect")
    assert encode.out_channels == 3
    labels = _labels(4)
    torch.testing.assert_close(encode(labels), color_code_segmentation(labels, border_type="reflect"))
    assert "palette" not in encode.state_dict()
    probs = torch.rand(1, 7, 8, 8, dtype=torch.float64).softmax(1)
    assert encode.double()(probs).dtype == torch.float64
    assert "border_type='reflect'" in repr(encode)


# ---------------------------------------------------------------- gradients, dtypes, layouts


@pytest.mark.parametrize("border_type", BORDER_TYPES)
def test_gradcheck(border_type):
    probs = torch.rand(1, 7, 5, 5, dtype=torch.float64).softmax(1).requires_grad_()
    # fast_mode: a float64 conv2d costs milliseconds on this CPU; the full Jacobian needs hundreds of them.
    assert torch.autograd.gradcheck(
        lambda p: color_code_segmentation(p, border_type=border_type), (probs,), fast_mode=True
    )


def test_bf16_probabilities():
    probs = torch.rand(2, 7, 16, 16).softmax(1)
    reference = color_code_segmentation(probs)
    low = color_code_segmentation(probs.bfloat16())
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), reference, atol=1e-2, rtol=1e-2)


def test_channels_last_probabilities():
    probs = torch.rand(2, 7, 16, 16).softmax(1)
    out = color_code_segmentation(probs.to(memory_format=torch.channels_last))
    torch.testing.assert_close(out, color_code_segmentation(probs))


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 2**31 - 1), height=st.integers(3, 12), width=st.integers(3, 12))
def test_encoding_stays_within_the_palette_range(seed, height, width):
    # A blur is a convex combination of colours: every value lies within the palette's range (minus 0.5).
    out = color_code_segmentation(_labels(seed, (1, height, width)))
    assert out.min() >= 0.25 - 0.5 - 1e-6 and out.max() <= 0.75 - 0.5 + 1e-6


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("segmentation", "kwargs", "error", "match"),
    [
        (
            torch.full((1, 4, 4), 7),
            {},
            ValueError,
            r"segmentation: expected labels in \[0, 6\], got a label 7",
        ),
        (
            torch.rand(1, 4, 4),
            {},
            ValueError,
            r"segmentation: expected shape \(B, K, H, W\), got \(1, 4, 4\)",
        ),
        (
            torch.zeros(1, 1, 4, 4, dtype=torch.long),
            {},
            ValueError,
            r"segmentation: expected shape \(B, H, W\) for integer",
        ),
        (torch.rand(1, 4, 4, 4), {}, ValueError, r"segmentation: expected 7 channels in dim 1, got 4"),
        (torch.zeros(1, 4, 4, dtype=torch.bool), {}, TypeError, r"segmentation: expected an integer tensor"),
        (
            torch.zeros(1, 4, 4, dtype=torch.long),
            {"kernel_size": 4},
            ValueError,
            r"kernel_size: expected an odd positive int, got 4",
        ),
        (
            torch.zeros(1, 4, 4, dtype=torch.long),
            {"kernel_size": 0},
            ValueError,
            r"kernel_size: expected a positive int, got 0",
        ),
        (
            torch.zeros(1, 4, 4, dtype=torch.long),
            {"sigma": 0.0},
            ValueError,
            r"sigma: expected a positive float, got 0.0",
        ),
        (
            torch.zeros(1, 4, 4, dtype=torch.long),
            {"sigma": "1"},
            TypeError,
            r"sigma: expected a positive float, got str",
        ),
        (
            torch.zeros(1, 4, 4, dtype=torch.long),
            {"offset": None},
            TypeError,
            r"offset: expected a float, got NoneType",
        ),
        (
            torch.zeros(1, 4, 4, dtype=torch.long),
            {"border_type": "zeros"},
            ValueError,
            r"border_type: expected one of \('replicate'.*got 'zeros'",
        ),
        (
            torch.zeros(1, 4, 4, dtype=torch.long),
            {"palette": ((0.5, 0.5), (0.5,))},
            TypeError,
            r"palette: expected a \(K, C\) nested sequence",
        ),
        (
            torch.zeros(1, 4, 4, dtype=torch.long),
            {"palette": (0.5, 0.5)},
            ValueError,
            r"palette: expected shape \(K, C\) with K, C >= 1, got \(2,\)",
        ),
        (
            torch.zeros(1, 4, 4, dtype=torch.long),
            {"palette": torch.ones(7, 3, dtype=torch.long)},
            TypeError,
            r"palette: expected a floating",
        ),
        (
            torch.zeros(1, 4, 4, dtype=torch.long),
            {"palette": "rgb"},
            TypeError,
            r"palette: expected a \(K, C\) tensor or nested sequence, got str",
        ),
        (None, {}, TypeError, r"segmentation: expected a torch.Tensor, got NoneType"),
    ],
)
def test_errors(segmentation, kwargs, error, match):
    with pytest.raises(error, match=match):
        color_code_segmentation(segmentation, **kwargs)


def test_module_config_errors():
    with pytest.raises(ValueError, match=r"kernel_size: expected an odd positive int, got 6"):
        ColorCodeEncoding(kernel_size=6)
    with pytest.raises(ValueError, match=r"border_type: expected one of"):
        ColorCodeEncoding(border_type="mirror")
