"""Who the demo redresses: the gallery of test people, and uploads read as ``generate --image --labels``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fashion_gan.serve.errors import RequestError
from fashion_gan.serve.people import Gallery, read_uploaded_person

from .conftest import png


def test_gallery_of_the_first_test_people(tiny_cfg):
    cfg = tiny_cfg()
    gallery = Gallery(cfg, size=3)
    assert len(gallery) == cfg.data.num_test and len(gallery.thumbnails) == 3 and gallery.error is None
    first = gallery.person(0)
    assert first["image"].shape == (1, 3, 32, 32) and first["labels"].shape == (1, 32, 32)
    assert gallery.person(cfg.data.num_test - 1)["image"].dtype == torch.uint8  # beyond the thumbnails too
    assert gallery.thumbnail(2, "labels")[:4] == b"\x89PNG"
    with pytest.raises(RequestError, match=r"person: expected a test person in \[0, 15\], got 16") as info:
        gallery.person(16)
    assert info.value.status == 404


def test_gallery_larger_than_the_split_shows_the_whole_split(tiny_cfg):
    gallery = Gallery(tiny_cfg(data={"num_test": 2}), size=12)
    assert len(gallery.thumbnails) == 2 and len(gallery.sentences) == 2


def test_gallery_of_data_that_is_not_here_is_empty_and_says_why(tiny_cfg, tmp_path):
    cfg = tiny_cfg(data={"source": "official", "root": str(tmp_path / "nowhere"), "image_size": 128})
    gallery = Gallery(cfg, size=4)
    assert len(gallery) == 0 and gallery.thumbnails == [] and "cannot be shown" in gallery.error
    with pytest.raises(RequestError, match="this demo has no test people .*upload a picture instead"):
        gallery.person(0)
    with pytest.raises(RequestError, match=r"expected a gallery person in none \(the gallery is empty\)"):
        gallery.thumbnail(0, "image")


def test_upload_round_trip_greyscale_and_palette(tiny_cfg):
    person = Gallery(tiny_cfg(), size=1).person(0)
    image = png(person["image"][0].permute(1, 2, 0).numpy())
    ids = person["labels"][0].numpy()
    for labels in (png(ids), _palette_png(ids)):
        read = read_uploaded_person(image, labels, image_size=32)
        assert torch.equal(read["image"], person["image"]) and torch.equal(read["labels"], person["labels"])


def _palette_png(ids: np.ndarray) -> bytes:
    import io

    from PIL import Image

    picture = Image.fromarray(ids.astype(np.uint8), mode="P")
    picture.putpalette([(37 * k) % 256 for k in range(21)])
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_errors_name_the_uploaded_file():
    image, labels = png(np.zeros((32, 32, 3), np.uint8)), png(np.zeros((32, 32), np.uint8))
    cases = [
        (
            png(np.zeros((8, 8, 3), np.uint8)),
            labels,
            "image a.png: expected a 32x32 image for this run, got 8x8",
        ),
        (
            image,
            png(np.full((32, 32), 9, np.uint8)),
            "label map b.png: expected label ids 0..6, got a pixel value 9",
        ),
        (image, b"GIF89a garbage", "label map b.png: not a readable image (expected a PNG file)"),
        (b"", labels, "image a.png: the file is empty"),
    ]
    for image_bytes, labels_bytes, message in cases:
        with pytest.raises(RequestError) as info:
            read_uploaded_person(
                image_bytes, labels_bytes, image_size=32, image_name="a.png", labels_name="b.png"
            )
        assert str(info.value) == message and info.value.status == 400
        assert "/tmp" not in str(info.value)  # the server's temporary paths are not shown


def test_a_huge_upload_is_refused_before_it_is_decoded(monkeypatch):
    import fashion_gan.serve.people as people

    huge = png(np.zeros((5000, 5000), np.uint8))
    decoded = []
    monkeypatch.setattr(people, "read_person_files", lambda *a, **k: decoded.append(1))
    with pytest.raises(RequestError, match="got 5000x5000"):
        read_uploaded_person(png(np.zeros((32, 32, 3), np.uint8)), huge, image_size=32)
    assert decoded == []
