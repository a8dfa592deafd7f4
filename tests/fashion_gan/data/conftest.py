"""Shared fixtures of the FashionGAN data tests: the real metadata files and a tiny synthetic release."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fashion_gan.data.export import export_official_layout
from fashion_gan.data.release import load_metadata
from fashion_gan.data.synthetic import SyntheticMannequins

REAL_DIR = Path(os.environ.get("FASHIONGAN_METADATA_DIR", "/work/shared/data/fashiongan"))
REAL_FILES = ("language_original.mat", "ind.mat", "ih_mean.mat")
HAVE_REAL = all((REAL_DIR / f).is_file() for f in REAL_FILES)
SKIP_REASON = f"the official metadata files {REAL_FILES} are not in {REAL_DIR} (set FASHIONGAN_METADATA_DIR)"

#: Size of the tiny synthetic release exported once per session.
TINY = dict(image_size=32, num_train=24, num_test=9, seed=5)


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """The folder holding the real metadata files (the test is skipped when they are absent)."""
    if not HAVE_REAL:
        pytest.skip(SKIP_REASON)
    return REAL_DIR


@pytest.fixture(scope="session")
def real_root(tmp_path_factory, real_dir) -> Path:
    """An official-layout folder whose benchmark/ files are symlinks to the real metadata (no G2.h5)."""
    root = tmp_path_factory.mktemp("real_release")
    (root / "benchmark").mkdir()
    for name in ("ind.mat", "language_original.mat"):
        os.symlink(real_dir / name, root / "benchmark" / name)
    return root


@pytest.fixture(scope="session")
def real_metadata(real_root):
    return load_metadata(real_root)


@pytest.fixture(scope="session")
def tiny_datasets():
    return SyntheticMannequins(split="train", **TINY), SyntheticMannequins(split="test", **TINY)


@pytest.fixture(scope="session")
def tiny_release(tmp_path_factory, tiny_datasets) -> Path:
    """The tiny synthetic train/test pair exported in the official layout (read-only for tests)."""
    root = tmp_path_factory.mktemp("tiny_release")
    export_official_layout(*tiny_datasets, root, batch_size=8)
    return root
