"""Fixtures of the web demo's tests: the demo of the shared tiny run, its test client, uploads as PNGs."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("starlette", reason="the serve extra is not installed (pip install -e '.[serve]')")

#: Test people in the gallery of the demo under test.
GALLERY = 4


@pytest.fixture(scope="session")
def demo_app(trained_run):
    """The demo of the shared tiny run (32x32; compositional, ih1_skip, onestep_87), with the CLI's grid."""
    from fashion_gan.cli.commands import DEMO_SENTENCES, redress_grid
    from fashion_gan.serve.app import create_app

    return create_app(trained_run, people=GALLERY, draw_grid=redress_grid, grid_sentences=DEMO_SENTENCES)


@pytest.fixture(scope="session")
def client(demo_app):
    """A Starlette test client of ``demo_app`` (server faults are raised in the test, not hidden)."""
    from starlette.testclient import TestClient

    with TestClient(demo_app) as test_client:
        yield test_client


def png(array: np.ndarray, mode: str | None = None) -> bytes:
    """``array`` (H, W, 3) or (H, W) uint8 as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="session")
def upload(demo_app):
    """``upload(index)``: (image PNG, label-map PNG) of test person ``index`` of the demo's run."""
    dataset = demo_app.state.demo.gallery.dataset

    def make(index: int = 1) -> tuple[bytes, bytes]:
        person = dataset.get_batch([index])
        image = person["image"][0].permute(1, 2, 0).numpy()
        return png(image), png(person["labels"][0].numpy(), "L")

    return make
