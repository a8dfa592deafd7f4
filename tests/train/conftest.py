"""Fixtures of the training tests: the tiny conditional GAN of ``tiny_gan.py`` (loaded by path)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import torch

TINY_GAN_PATH = Path(__file__).with_name("tiny_gan.py")


def _load_tiny_gan() -> ModuleType:
    spec = importlib.util.spec_from_file_location("condgan_tests_tiny_gan", TINY_GAN_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny_gan() -> ModuleType:
    """The ``tiny_gan`` module: TinyG, TinyD, make_models, make_data, step_kwargs, train."""
    return _load_tiny_gan()


@pytest.fixture(autouse=True)
def _few_threads():
    """Two cores are shared with other test runs: keep torch to one thread per test."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
