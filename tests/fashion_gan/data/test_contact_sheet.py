"""Contact sheets: the tiles hold the pictures and segmentations they claim to."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fashion_gan.data.contact_sheet import (
    LABEL_COLORS,
    colorize_labels,
    draw_contact_sheet,
    save_contact_sheet,
)
from fashion_gan.data.official import OfficialFashionGAN
from fashion_gan.data.synthetic import SyntheticMannequins
from PIL import Image


def test_colorize_labels():
    labels = torch.tensor([[0, 1], [6, 3]], dtype=torch.uint8)
    rgb = colorize_labels(labels.numpy())
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    assert np.array_equal(rgb[1, 0], LABEL_COLORS[6])
    assert len({tuple(c) for c in LABEL_COLORS}) == 7
    with pytest.raises(TypeError, match="labels: expected an integer label map, got dtype float32"):
        colorize_labels(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match=r"labels: expected ids in \[0, 6\], got \[0, 7\]"):
        colorize_labels(np.array([[0, 7]]))
    with pytest.raises(ValueError, match=r"labels: expected ids in \[0, 6\], got \[-1, 0\]"):
        colorize_labels(torch.tensor([[0, -1]]))
    with pytest.raises(TypeError, match="labels: expected an integer label map, got dtype float32"):
        colorize_labels(torch.zeros(2, 2))
    with pytest.raises(ValueError, match=r"labels: expected a label map \(..., H, W\), got shape \(3,\)"):
        colorize_labels(np.zeros(3, np.int64))


def test_colorize_labels_keeps_the_kind_and_the_layout():
    labels = torch.randint(0, 7, (2, 5, 4))
    rgb = colorize_labels(labels)  # a tensor gives a tensor
    assert isinstance(rgb, torch.Tensor) and rgb.dtype == torch.uint8 and rgb.shape == (2, 5, 4, 3)
    assert np.array_equal(rgb.numpy(), colorize_labels(labels.numpy()))
    first = colorize_labels(labels, channels_first=True)
    assert first.shape == (2, 3, 5, 4) and torch.equal(first, rgb.permute(0, 3, 1, 2))
    arr = colorize_labels(labels.numpy().astype(np.uint8), channels_first=True)
    assert isinstance(arr, np.ndarray) and np.array_equal(arr, first.numpy())
    assert np.array_equal(first[1, :, 2, 3].numpy(), LABEL_COLORS[int(labels[1, 2, 3])])


def test_tiles_hold_the_picture_and_the_segmentation():
    ds = SyntheticMannequins(image_size=32, num_train=8)
    batch = ds.get_batch([0, 1, 2])
    sheet = np.asarray(draw_contact_sheet(batch, columns=2, scale=2, legend=False))
    gap, size = 4, 64
    picture = sheet[gap : gap + size, gap : gap + size]
    assert np.array_equal(picture[::2, ::2], batch["image"][0].permute(1, 2, 0).numpy())
    seg = sheet[gap : gap + size, 2 * gap + size : 2 * gap + 2 * size]
    assert np.array_equal(seg[::2, ::2], colorize_labels(batch["labels"][0].numpy()))
    # the third sample starts the second row
    tile_h = size + 4 * 12 + gap
    third = sheet[2 * gap + tile_h : 2 * gap + tile_h + size, gap : gap + size]
    assert np.array_equal(third[1::2, 1::2], batch["image"][2].permute(1, 2, 0).numpy())
    # captions are drawn under the tiles
    assert (sheet[gap + size : gap + size + 12, gap : gap + 100] < 128).any()


def test_official_batches_draw_too(tiny_release):
    batch = OfficialFashionGAN(tiny_release, split="test").get_batch([0, 1])
    sheet = draw_contact_sheet(batch, columns=1, scale=1)
    assert sheet.size[0] == 2 * 32 + 4 + 2 * 4


def test_save_contact_sheet(tmp_path):
    ds = SyntheticMannequins(image_size=32, num_train=8)
    out = save_contact_sheet(ds, tmp_path / "sub" / "sheet.png", indices=[3, 4], columns=2)
    with Image.open(out) as img:
        assert img.mode == "RGB" and img.format == "PNG"
    with pytest.raises(TypeError, match="dataset: expected a dataset with get_batch, got list"):
        save_contact_sheet([1], tmp_path / "x.png")
    with pytest.raises(ValueError, match="num: expected a positive int, got 0"):
        save_contact_sheet(ds, tmp_path / "x.png", num=0)
    with pytest.raises(ValueError, match="columns: expected a positive int, got 0"):
        draw_contact_sheet(ds.get_batch([0]), columns=0)
    with pytest.raises(TypeError, match="scale: expected a positive int, got float 1.5"):
        draw_contact_sheet(ds.get_batch([0]), scale=1.5)
