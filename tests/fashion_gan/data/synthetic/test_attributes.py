"""Attributes of synthetic samples: variety like the release's, and errors."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from fashion_gan.data.synthetic import make_sentence, render_mannequins, sample_attributes


def test_attribute_variety(many):
    attrs, _ = many
    assert set(attrs["category"]) == set(range(19))
    assert set(attrs["sleeve"]) == set(range(4))
    assert set(attrs["gender"]) == {0, 1}
    colors = Counter(attrs["color"].tolist())
    assert set(range(13)) | {16} <= set(colors)  # "blonde"/"silver"/"olive" are rare, as in the release
    assert 0.1 < colors[16] / 3000 < 0.3
    assert 0.1 < attrs["gender"].mean() < 0.4
    for key in ("long_hair", "hat", "sunglasses"):
        assert 0.05 < attrs[key].mean() < 0.8, key
    men = attrs["gender"] == 1
    assert not np.isin(attrs["category"][men], [15, 16, 17, 18]).any()  # no dresses/jumpsuits/kimonos/rompers
    for key in ("skin_tone", "body_width", "body_height"):
        assert attrs[key].min() < 0.05 and attrs[key].max() > 0.95


def test_attribute_function_errors():
    with pytest.raises(ValueError, match="seed: expected an int >= 0, got -1"):
        sample_attributes(-1, "train", [0])
    with pytest.raises(TypeError, match="seed: expected an int >= 0, got float 0.0"):
        sample_attributes(0.0, "train", [0])
    attrs = sample_attributes(0, "train", [0, 1])
    with pytest.raises(IndexError, match=r"j: expected an int in \[0, 1\], got 2"):
        make_sentence(attrs, 2)
    with pytest.raises(TypeError, match=r"j: expected an int in \[0, 1\], got bool True"):
        make_sentence(attrs, True)
    with pytest.raises(
        ValueError, match=r"attrs: expected the dict of sample_attributes, missing \['color'\]"
    ):
        render_mannequins({k: v for k, v in attrs.items() if k != "color"}, 16)
    with pytest.raises(ValueError, match=r"attrs\['gender'\]: expected 2 values \(one per sample\), got 1"):
        render_mannequins(dict(attrs, gender=attrs["gender"][:1]), 16)
    with pytest.raises(TypeError, match="attrs: expected the dict of sample_attributes, got list"):
        make_sentence([1], 0)
