"""The uint8 cache: same data as streaming, atomic writes, reuse, and clear errors."""

from __future__ import annotations

import json
import pickle
import shutil

import numpy as np
import pytest
import torch
from fashion_gan.data import cache as cache_mod
from fashion_gan.data.cache import CACHE_FORMAT, open_cache, prepare_cache
from fashion_gan.data.official import OfficialFashionGAN
from fashion_gan.data.release import G2_PATH, DatasetFormatError, G2Reader
from torch.utils.data import DataLoader


@pytest.fixture(scope="module")
def cached(tmp_path_factory, tiny_release):
    out = tmp_path_factory.mktemp("cache") / "fashiongan"
    assert prepare_cache(tiny_release, out, batch_size=5) == out
    return out


def test_cache_matches_streaming(tiny_release, cached):
    for split in ("train", "test"):
        streamed = OfficialFashionGAN(tiny_release, split=split)
        from_cache = OfficialFashionGAN(tiny_release, split=split, cache=cached)
        assert from_cache.image_size == streamed.image_size and len(from_cache) == len(streamed)
        idx = np.random.default_rng(0).integers(0, len(streamed), 20)
        a, b = streamed.get_batch(idx), from_cache.get_batch(idx)
        for key in a:
            assert a[key] == b[key] if key == "sentence" else torch.equal(a[key], b[key]), key


def test_cache_files(cached, tiny_datasets):
    n = sum(len(d) for d in tiny_datasets)
    meta = json.loads((cached / "meta.json").read_text())
    assert meta["format"] == CACHE_FORMAT and meta["num_images"] == n and meta["image_size"] == 32
    images = np.load(cached / "images.npy", mmap_mode="r")
    labels = np.load(cached / "labels.npy", mmap_mode="r")
    assert images.dtype == np.uint8 and images.shape == (n, 3, 32, 32)
    assert labels.dtype == np.uint8 and labels.shape == (n, 32, 32) and labels.max() <= 6
    assert sorted(p.name for p in cached.iterdir()) == ["images.npy", "labels.npy", "meta.json"]


def test_cache_is_reused_then_rebuilt(tmp_path, tiny_release):
    root = tmp_path / "release"
    shutil.copytree(tiny_release, root)
    out = tmp_path / "cache"
    prepare_cache(root, out)
    inode = (out / "images.npy").stat().st_ino
    prepare_cache(root, out)
    assert (out / "images.npy").stat().st_ino == inode  # same source: nothing rewritten
    prepare_cache(root, out, overwrite=True)
    assert (out / "images.npy").stat().st_ino != inode
    inode = (out / "images.npy").stat().st_ino
    (root / G2_PATH).touch()  # the source changed: rebuild
    prepare_cache(root, out)
    assert (out / "images.npy").stat().st_ino != inode


def test_cache_works_without_g2(tmp_path, tiny_release, tiny_datasets):
    root = tmp_path / "release"
    shutil.copytree(tiny_release, root)
    out = prepare_cache(root, tmp_path / "cache")
    (root / G2_PATH).unlink()
    ds = OfficialFashionGAN(root, split="test", cache=out)
    assert torch.equal(ds[3]["image"], tiny_datasets[1][3]["image"])
    with pytest.raises(DatasetFormatError, match="G2.h5: file not found"):
        OfficialFashionGAN(root, split="test")


def test_interrupted_rebuild_keeps_the_old_cache(tmp_path, tiny_release, monkeypatch):
    out = prepare_cache(tiny_release, tmp_path / "cache")
    before = np.load(out / "images.npy").copy()
    calls, original = [], G2Reader.read

    def failing_read(self, rows):  # the second batch is interrupted
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt("stopped")
        return original(self, rows)

    monkeypatch.setattr(cache_mod.G2Reader, "read", failing_read)
    with pytest.raises(KeyboardInterrupt):
        prepare_cache(tiny_release, out, batch_size=4, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["images.npy", "labels.npy", "meta.json"]  # no temp files
    assert np.array_equal(np.load(out / "images.npy"), before)
    open_cache(out)  # still complete


def test_pickled_dataset_does_not_carry_the_arrays(tiny_release, cached):
    ds = OfficialFashionGAN(tiny_release, split="train", cache=cached)
    assert ds[0]["index"] == 0
    assert len(pickle.dumps(ds)) < 300_000
    batches = list(DataLoader(ds, batch_size=6, num_workers=2))
    assert torch.equal(batches[2]["labels"], ds.get_batch(range(12, 18))["labels"])


def test_open_cache_errors(tmp_path, cached):
    with pytest.raises(DatasetFormatError, match=r"meta.json: file not found; expected a complete cache"):
        open_cache(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(cached, broken)
    with pytest.raises(
        DatasetFormatError, match=r"meta.json: expected 7 images \(language_original.mat\), got 33"
    ):
        open_cache(broken, num_images=7)
    meta = json.loads((broken / "meta.json").read_text())
    (broken / "meta.json").write_text(json.dumps(dict(meta, version=99)))
    with pytest.raises(
        DatasetFormatError, match=r"expected format 'fashion_gan.uint8_cache' version 1, got .* 99"
    ):
        open_cache(broken)
    (broken / "meta.json").write_text("{not json")
    with pytest.raises(DatasetFormatError, match="meta.json: cannot read the cache description"):
        open_cache(broken)
    (broken / "meta.json").write_text(json.dumps(meta))
    data = (broken / "images.npy").read_bytes()
    (broken / "images.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetFormatError, match=r"images.npy: cannot memory-map .* may be truncated"):
        open_cache(broken)
    np.save(broken / "images.npy", np.zeros((33, 3, 16, 16), np.uint8))
    with pytest.raises(DatasetFormatError, match=r"images.npy: expected uint8 \(33, 3, 32, 32\), got uint8"):
        open_cache(broken)
    (broken / "labels.npy").unlink()
    with pytest.raises(DatasetFormatError, match=r"labels.npy: file not found; expected a cache"):
        open_cache(broken)


def test_prepare_cache_errors(tmp_path, tiny_release):
    with pytest.raises(ValueError, match="batch_size: expected a positive int, got 0"):
        prepare_cache(tiny_release, tmp_path / "c", batch_size=0)
    with pytest.raises(TypeError, match="batch_size: expected a positive int, got float 8.0"):
        prepare_cache(tiny_release, tmp_path / "c", batch_size=8.0)
    with pytest.raises(DatasetFormatError, match="language_original.mat: file not found"):
        prepare_cache(tmp_path, tmp_path / "c")  # no release here (the metadata is checked first)
