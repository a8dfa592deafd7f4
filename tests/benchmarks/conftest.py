"""Fixtures of the benchmark tests: the scripts of ``benchmarks/`` imported as modules, tiny settings."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"

#: Toy sizes every smoke run uses: 32x32 images, width 1/16 (4-64 channels), one timed round.
TINY = ["--image-size", "32", "--width", "0.0625", "--warmup", "0", "--iters", "1"]


def load(name: str) -> ModuleType:
    """Import ``benchmarks/<name>.py`` (its folder goes on ``sys.path``, as when the script runs)."""
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    return importlib.import_module(name)


@pytest.fixture(scope="session")
def bench():
    """``bench(name)`` -> the module ``benchmarks/<name>.py``."""
    return load


@pytest.fixture(scope="session")
def tiny_args():
    return list(TINY)
