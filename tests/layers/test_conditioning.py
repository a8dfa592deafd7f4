import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from condgan.layers.conditioning import DesignCode, TileConcat, assemble_design_code, concat_code, tile_code

# ---------------------------------------------------------------- tile / concat


def test_tile_code_values_and_forms():
    code = torch.randn(2, 5)
    out = tile_code(code, (3, 4))
    assert out.shape == (2, 5, 3, 4)
    assert torch.equal(out, code[:, :, None, None].expand(2, 5, 3, 4))
    assert torch.equal(tile_code(code.view(2, 5, 1, 1), 3), tile_code(code, (3, 3)))


def test_concat_code_values():
    features, code = torch.randn(2, 6, 4, 5), torch.randn(2, 3)
    out = concat_code(features, code)
    assert out.shape == (2, 9, 4, 5)
    assert torch.equal(out[:, :6], features)
    assert torch.equal(out[:, 6:], code[:, :, None, None].expand(2, 3, 4, 5))


def test_concat_code_casts_code_to_feature_dtype():
    out = concat_code(torch.randn(2, 4, 3, 3, dtype=torch.bfloat16), torch.randn(2, 2))
    assert out.dtype == torch.bfloat16


def test_concat_code_channels_last():
    features, code = torch.randn(2, 8, 4, 4), torch.randn(2, 3)
    reference = concat_code(features, code)
    torch.testing.assert_close(concat_code(features.to(memory_format=torch.channels_last), code), reference)


def test_tile_concat_module():
    features, code = torch.randn(2, 6, 4, 4), torch.randn(2, 3, 1, 1)
    assert torch.equal(TileConcat()(features, code), concat_code(features, code))


def test_concat_code_gradcheck():
    features = torch.randn(2, 3, 2, 3, dtype=torch.float64, requires_grad=True)
    code = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(concat_code, (features, code))
    # Each code entry is tiled over H * W positions, so its gradient is the sum over them.
    concat_code(features, code).sum().backward()
    torch.testing.assert_close(code.grad, torch.full_like(code, 6.0))


@pytest.mark.parametrize(
    ("features", "code", "error", "match"),
    [
        (
            torch.randn(2, 4, 4),
            torch.randn(2, 3),
            ValueError,
            r"features: expected shape \(B, C, H, W\), got \(2, 4, 4\)",
        ),
        (
            torch.zeros(2, 4, 4, 4, dtype=torch.long),
            torch.randn(2, 3),
            TypeError,
            r"features: expected a floating",
        ),
        (
            torch.randn(2, 4, 4, 4),
            torch.randn(2, 3, 2),
            ValueError,
            r"code: expected shape \(B, D\) or \(B, D, 1, 1\)",
        ),
        (
            torch.randn(2, 4, 4, 4),
            torch.randn(2, 3, 2, 2),
            ValueError,
            r"code: expected shape .* got \(2, 3, 2, 2\)",
        ),
        (
            torch.randn(2, 4, 4, 4),
            torch.ones(2, 3, dtype=torch.long),
            TypeError,
            r"code: expected a floating",
        ),
        (torch.randn(2, 4, 4, 4), torch.randn(3, 3), ValueError, r"batch size mismatch.*features=2, code=3"),
    ],
)
def test_concat_code_errors(features, code, error, match):
    with pytest.raises(error, match=match):
        concat_code(features, code)


def test_tile_code_code_errors():
    with pytest.raises(ValueError, match=r"code: expected shape \(B, D\) or \(B, D, 1, 1\), got \(3,\)"):
        tile_code(torch.randn(3), 4)
    with pytest.raises(TypeError, match=r"code: expected a floating-point tensor, got dtype torch.int64"):
        tile_code(torch.ones(2, 3, dtype=torch.long), 4)
    with pytest.raises(TypeError, match=r"code: expected a torch.Tensor, got list"):
        tile_code([[1.0]], 4)


def test_tile_code_size_errors():
    with pytest.raises(ValueError, match=r"size: expected a positive int, got 0"):
        tile_code(torch.randn(2, 3), 0)
    with pytest.raises(ValueError, match=r"size: expected an int or a pair \(h, w\)"):
        tile_code(torch.randn(2, 3), (1, 2, 3))


# ---------------------------------------------------------------- assemble_design_code


def test_assemble_design_code_order():
    parts = {"text": torch.randn(2, 4), "gender": torch.ones(2, 1), "skin": torch.zeros(2, 3)}
    out = assemble_design_code(parts, ["gender", "skin", "text"])
    assert out.shape == (2, 8)
    assert torch.equal(out, torch.cat([parts["gender"], parts["skin"], parts["text"]], dim=1))


def test_assemble_design_code_gradcheck():
    a = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: assemble_design_code({"a": a, "b": b}, ["b", "a"]), (a, b))


@pytest.mark.parametrize(
    ("parts", "order", "error", "match"),
    [
        ({"text": torch.randn(2, 4)}, ["text", "gender"], ValueError, r"parts: .*missing \['gender'\]"),
        (
            {"text": torch.randn(2, 4), "hat": torch.randn(2, 1)},
            ["text"],
            ValueError,
            r"parts: expected the parts \['text'\], got \['text', 'hat'\] \(unexpected \['hat'\]\)",
        ),
        (
            {"gender": torch.ones(2)},
            ["gender"],
            ValueError,
            r"parts\['gender'\]: expected shape \(B, dim\), got \(2,\)",
        ),
        (
            {"gender": torch.ones(2, 1, dtype=torch.long)},
            ["gender"],
            TypeError,
            r"parts\['gender'\]: expected a float",
        ),
        (
            {"a": torch.ones(2, 1), "b": torch.ones(3, 1)},
            ["a", "b"],
            ValueError,
            r"batch size mismatch: expected equal first dimensions, got a=2, b=3",
        ),
        ([torch.ones(2, 1)], ["a"], TypeError, r"parts: expected a mapping name -> tensor, got list"),
        ({"a": torch.ones(2, 1)}, "a", TypeError, r"order: expected a sequence of part names, got str"),
        ({}, [], ValueError, r"order: expected at least one part name"),
        ({"a": torch.ones(2, 1)}, ["a", "a"], ValueError, r"order: expected distinct part names"),
    ],
)
def test_assemble_design_code_errors(parts, order, error, match):
    with pytest.raises(error, match=match):
        assemble_design_code(parts, order)


# ---------------------------------------------------------------- DesignCode


def test_design_code_layout():
    design = DesignCode(parts={"text": 100, "gender": 1, "skin": 3}, reduce={"text": 20})
    assert design.out_dim == 24
    assert design.slices == {"text": slice(0, 20), "gender": slice(20, 21), "skin": slice(21, 24)}
    text, gender, skin = torch.randn(2, 100), torch.ones(2, 1), torch.rand(2, 3)
    out = design(skin=skin, text=text, gender=gender)
    assert out.shape == (2, 24)
    assert torch.equal(out[:, design.slices["gender"]], gender)
    assert torch.equal(out[:, design.slices["skin"]], skin)
    linear = design.reducers["text"][0]
    expected = nn.functional.leaky_relu(text @ linear.weight.T + linear.bias, 0.2)
    torch.testing.assert_close(out[:, design.slices["text"]], expected)


def test_design_code_reduction_equals_the_official_1x1_conv():
    # Official G: text (B, 100, 1, 1) -> SpatialConvolution(100, 20, 1, 1) -> LeakyReLU(0.2).
    design = DesignCode(parts={"text": 100}, reduce={"text": 20})
    conv = nn.Conv2d(100, 20, 1)
    with torch.no_grad():
        conv.weight.copy_(design.reducers["text"][0].weight.view(20, 100, 1, 1))
        conv.bias.copy_(design.reducers["text"][0].bias)
    text = torch.randn(3, 100)
    official = nn.functional.leaky_relu(conv(text.view(3, 100, 1, 1)), 0.2).flatten(1)
    torch.testing.assert_close(design(text=text), official)


def test_design_code_options():
    design = DesignCode(parts={"text": 8}, reduce={"text": 4}, negative_slope=0.0, bias=False)
    assert design.reducers["text"][0].bias is None
    assert (design(text=torch.randn(16, 8)) >= 0).all()
    assert "out_dim=4" in repr(design)


def test_design_code_gradcheck():
    design = DesignCode(parts={"text": 5, "gender": 1}, reduce={"text": 3}).double()
    text = torch.randn(2, 5, dtype=torch.float64, requires_grad=True)
    gender = torch.randn(2, 1, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t, g: design(text=t, gender=g), (text, gender))


@pytest.mark.parametrize(
    ("inputs", "error", "match"),
    [
        (
            {"text": torch.randn(2, 6)},
            ValueError,
            r"DesignCode.forward: expected the parts \['text', 'gender'\].*missing \['gender'\]",
        ),
        (
            {"text": torch.randn(2, 6), "gender": torch.ones(2, 1), "hat": torch.ones(2, 1)},
            ValueError,
            r"unexpected \['hat'\]",
        ),
        (
            {"text": torch.randn(2, 5), "gender": torch.ones(2, 1)},
            ValueError,
            r"text: expected shape \(B, 6\), got \(2, 5\)",
        ),
        (
            {"text": torch.randn(2, 6), "gender": torch.ones(2)},
            ValueError,
            r"gender: expected shape \(B, 1\), got \(2,\)",
        ),
        (
            {"text": torch.randn(2, 6), "gender": torch.ones(2, 1, dtype=torch.long)},
            TypeError,
            r"gender: expected a float",
        ),
        (
            {"text": torch.randn(2, 6), "gender": torch.ones(3, 1)},
            ValueError,
            r"batch size mismatch.*text=2, gender=3",
        ),
    ],
)
def test_design_code_forward_errors(inputs, error, match):
    design = DesignCode(parts={"text": 6, "gender": 1}, reduce={"text": 2})
    with pytest.raises(error, match=match):
        design(**inputs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"parts": {}}, ValueError, r"parts: expected at least one part"),
        ({"parts": [("text", 4)]}, TypeError, r"parts: expected a mapping name -> dim, got list"),
        ({"parts": {"text": 0}}, ValueError, r"parts\['text'\]: expected a positive int, got 0"),
        (
            {"parts": {"text": 4}, "reduce": {"hat": 2}},
            ValueError,
            r"reduce: expected names among the parts \['text'\], got unknown \['hat'\]",
        ),
        (
            {"parts": {"text": 4}, "reduce": {"text": -1}},
            ValueError,
            r"reduce\['text'\]: expected a positive int, got -1",
        ),
        (
            {"parts": {"text": 4}, "negative_slope": "0.2"},
            TypeError,
            r"negative_slope: expected a float, got str",
        ),
    ],
)
def test_design_code_config_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        DesignCode(**kwargs)


@settings(deadline=None, max_examples=20)
@given(
    dims=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    seed=st.integers(0, 2**31 - 1),
)
def test_design_code_without_reduction_is_plain_concatenation(dims, seed):
    names = [f"p{i}" for i in range(len(dims))]
    generator = torch.Generator().manual_seed(seed)
    parts = {name: torch.randn(2, dim, generator=generator) for name, dim in zip(names, dims, strict=True)}
    design = DesignCode(parts=dict(zip(names, dims, strict=True)))
    assert design.out_dim == sum(dims)
    assert torch.equal(design(**parts), assemble_design_code(parts, names))
