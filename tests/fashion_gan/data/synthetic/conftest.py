"""Shared fixtures of the synthetic-mannequin tests."""

from __future__ import annotations

import numpy as np
import pytest
from fashion_gan.data.synthetic import make_sentence, sample_attributes


@pytest.fixture(scope="module")
def many():
    """Attributes and sentences of 3000 samples (no drawing)."""
    attrs = sample_attributes(0, "train", np.arange(3000))
    return attrs, [make_sentence(attrs, j) for j in range(3000)]
