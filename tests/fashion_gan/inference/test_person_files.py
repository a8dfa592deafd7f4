"""A person from files (``fashion_gan.inference.person_files``): round trip, palette PNGs, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fashion_gan.data.synthetic import SyntheticMannequins
from fashion_gan.inference.person_files import read_person_files
from PIL import Image

SIZE = 32


@pytest.fixture(scope="module")
def test_set():
    return SyntheticMannequins(split="test", image_size=SIZE, num_train=16, num_test=8, seed=0)


def save_person(person: dict, folder, *, palette: bool = False):
    image, labels = folder / "person.png", folder / "labels.png"
    Image.fromarray(person["image"][0].permute(1, 2, 0).numpy()).save(image)
    ids = person["labels"][0].numpy().astype(np.uint8)
    if palette:  # indices into a colour palette, as segmentation tools often save them
        picture = Image.fromarray(ids, mode="P")
        picture.putpalette(
            [255, 255, 255, 90, 50, 20, 250, 200, 160, 220, 40, 60, 40, 80, 200, 120, 200, 90, 250, 160, 40]
        )
        picture.save(labels)
    else:
        Image.fromarray(ids, mode="L").save(labels)
    return image, labels


@pytest.mark.parametrize("palette", [False, True], ids=["greyscale", "palette"])
def test_read_person_files_round_trip(test_set, tmp_path, palette):
    person = test_set.get_batch([4])
    image, labels = save_person(person, tmp_path, palette=palette)
    read = read_person_files(image, labels, image_size=SIZE)
    assert torch.equal(read["image"], person["image"])
    assert torch.equal(read["labels"].long(), person["labels"].long())


def test_read_person_files_errors(test_set, tmp_path):
    image, labels = save_person(test_set.get_batch([4]), tmp_path)
    Image.new("RGB", (16, 16)).save(tmp_path / "small.png")
    with pytest.raises(ValueError, match=r"labels.png: expected a 16x16 label map, got 32x32"):
        read_person_files(tmp_path / "small.png", labels, image_size=16)
    Image.fromarray(np.full((32, 32), 7, dtype=np.uint8), mode="L").save(tmp_path / "seven.png")
    with pytest.raises(ValueError, match=r"seven.png: expected label ids 0..6, got a pixel value 7"):
        read_person_files(image, tmp_path / "seven.png", image_size=SIZE)
    with pytest.raises(ValueError, match=r"person.png: expected a 64x64 image for this run, got 32x32"):
        read_person_files(image, labels, image_size=64)
    with pytest.raises(FileNotFoundError, match="file not found: .*nobody.png"):
        read_person_files(tmp_path / "nobody.png", labels, image_size=SIZE)
    (tmp_path / "text.png").write_text("not a picture")
    with pytest.raises(ValueError, match=r"text.png: not a readable image"):
        read_person_files(image, tmp_path / "text.png", image_size=SIZE)
