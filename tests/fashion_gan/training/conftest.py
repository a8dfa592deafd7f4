"""Fixtures of the training tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch


@pytest.fixture
def new_run(trained_run, tmp_path):
    """``new_run(name)``: an empty run folder with the shared run's text encoder (not trained again)."""

    def make(name: str) -> Path:
        out = tmp_path / name
        out.mkdir()
        for file in ("text_encoder.safetensors", "text_encoder.json"):
            shutil.copy2(trained_run / file, out / file)
        return out

    return make


@pytest.fixture
def deterministic():
    """``torch.use_deterministic_algorithms(True)`` for one test (then as it was)."""
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(previous)
