"""The release's file readers alone: optional variables, the two metadata files apart, image readers."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import scipy.io
import torch
from fashion_gan.data.cache import open_cache, prepare_cache
from fashion_gan.data.official import OfficialFashionGAN
from fashion_gan.data.release import (
    G2_PATH,
    HN2_PATH,
    IND_PATH,
    LANGUAGE_PATH,
    DatasetFormatError,
    G2Reader,
    load_features,
    load_mat,
    load_metadata,
    read_language,
    read_split,
)


@pytest.fixture
def stripped(tmp_path, tiny_release):
    """A copy of the tiny release's metadata without ``nameList`` and ``test_set_pair_ind``."""
    (tmp_path / "benchmark").mkdir()
    for rel, drop in ((LANGUAGE_PATH, "nameList"), (IND_PATH, "test_set_pair_ind")):
        data = {k: v for k, v in scipy.io.loadmat(tiny_release / rel).items() if not k.startswith("__")}
        del data[drop]
        scipy.io.savemat(tmp_path / rel, data)
    return tmp_path


def test_the_names_stay_importable_from_the_dataset_module():
    from fashion_gan.data import official, release

    for name in ("G2_PATH", "IND_PATH", "LANGUAGE_PATH", "HN2_PATH", "SR1_8_PATH", "DatasetFormatError"):
        assert getattr(official, name) is getattr(release, name)
    for name in ("G2Reader", "OfficialMetadata", "load_mat", "load_metadata"):
        assert getattr(official, name) is getattr(release, name)


def test_load_mat_reads_optional_variables_when_present(tiny_release):
    got = load_mat(tiny_release / IND_PATH, ["train_ind"], optional=["test_ind", "nope"])
    assert sorted(got) == ["test_ind", "train_ind"]
    assert sorted(load_mat(tiny_release / IND_PATH, ["train_ind"], optional=["train_ind"])) == ["train_ind"]
    with pytest.raises(TypeError, match="optional: expected a sequence of variable names, got str"):
        load_mat(tiny_release / IND_PATH, ["train_ind"], optional="test_ind")


def test_the_two_metadata_files_read_apart_match_load_metadata(tiny_release):
    meta = load_metadata(tiny_release)
    lang = read_language(tiny_release / LANGUAGE_PATH)
    split = read_split(tiny_release / IND_PATH, lang.num_images)
    assert lang.num_images == meta.num_images == 33
    assert lang.sentences == meta.sentences and lang.names == meta.names
    for key in ("word_ids", "lengths", "category", "color", "sleeve", "gender"):
        assert np.array_equal(getattr(lang, key), getattr(meta, key)), key
    for key in ("train", "test", "test_pairs"):
        assert np.array_equal(getattr(split, key), getattr(meta, key)), key


def test_names_and_pairs_are_optional_on_request(stripped):
    lang = read_language(stripped / LANGUAGE_PATH, require_names=False)
    assert lang.names is None and lang.num_images == 33 and lang.word_ids.shape == (33, 20)
    split = read_split(stripped / IND_PATH, 33, require_pairs=False)
    assert split.test_pairs is None and split.train.size + split.test.size == 33
    with pytest.raises(DatasetFormatError, match=r"language_original.mat: missing variable 'nameList'"):
        read_language(stripped / LANGUAGE_PATH)
    with pytest.raises(DatasetFormatError, match=r"ind.mat: missing variable 'test_set_pair_ind'"):
        read_split(stripped / IND_PATH, 33)
    with pytest.raises(DatasetFormatError, match=r"'train_ind': expected values in \[1, 20\], got \[1, "):
        read_split(stripped / IND_PATH, 20, require_pairs=False)  # a release of fewer rows


def test_features_are_read_when_present(tmp_path, tiny_release):
    assert load_features(tiny_release, 33) == {}
    (tmp_path / "test_phase_inputs").mkdir()
    scipy.io.savemat(tmp_path / HN2_PATH, {"hn2": np.arange(3300.0).reshape(33, 100)})
    features = load_features(tmp_path, 33)
    assert list(features) == ["hn2"] and features["hn2"].dtype == np.float32
    with pytest.raises(DatasetFormatError, match=r"'hn2': expected shape \(10, 100\), got \(33, 100\)"):
        load_features(tmp_path, 10)


class _ListReader:
    """A minimal image reader: every picture grey, every label its row modulo 7."""

    def __init__(self, num_images: int, image_size: int) -> None:
        self.num_images, self.image_size = num_images, image_size

    def read(self, rows):
        rows = np.asarray(rows)
        images = np.full((rows.size, 3, self.image_size, self.image_size), 128, np.uint8)
        labels = np.broadcast_to((rows % 7).astype(np.uint8)[:, None, None], (rows.size, 8, 8)).copy()
        return images, labels


def test_the_dataset_takes_any_image_reader(tmp_path, tiny_release):
    g2 = G2Reader(tiny_release / G2_PATH, num_images=33)
    cache = open_cache(prepare_cache(tiny_release, tmp_path / "cache"), num_images=33)
    a = OfficialFashionGAN(tiny_release, split="test", reader=g2).get_batch(range(9))
    b = OfficialFashionGAN(tiny_release, split="test", reader=cache).get_batch(range(9))
    assert all(a[k] == b[k] if k == "sentence" else torch.equal(a[k], b[k]) for k in a)
    ds = OfficialFashionGAN(tiny_release, split="train", reader=_ListReader(33, 8))
    assert ds.image_size == 8 and ds.reader.num_images == 33
    batch = ds.get_batch([0, 1])
    assert batch["labels"][:, 0, 0].tolist() == (ds.rows[[0, 1]] % 7).tolist()
    with pytest.raises(
        ValueError, match=r"reader: expected an image reader .* of 33 rows .*got _ListReader of 5"
    ):
        OfficialFashionGAN(tiny_release, reader=_ListReader(5, 8))
    with pytest.raises(ValueError, match="cache, reader: expected at most one source of images, got both"):
        OfficialFashionGAN(tiny_release, cache=tmp_path / "cache", reader=g2)


def test_the_cache_needs_no_g2_file(tmp_path, tiny_release):
    root = tmp_path / "release"
    shutil.copytree(tiny_release, root)
    prepare_cache(root, tmp_path / "cache")
    (root / G2_PATH).unlink()
    ds = OfficialFashionGAN(root, split="test", cache=tmp_path / "cache")
    assert ds.image_size == 32 and len(ds) == 9 and ds[0]["image"].shape == (3, 32, 32)
    with pytest.raises(DatasetFormatError, match="G2.h5: file not found"):
        OfficialFashionGAN(root, split="test")
