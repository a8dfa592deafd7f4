"""Export of synthetic data to the official layout, checked on the raw files (not through the loader)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.io
from fashion_gan.data.contract import CATEGORY_NAMES
from fashion_gan.data.export import export_official_layout
from fashion_gan.data.release import G2_PATH, IND_PATH, LANGUAGE_PATH
from fashion_gan.data.synthetic import SyntheticMannequins


def test_ind_mat(tiny_release, tiny_datasets):
    train, test = tiny_datasets
    ind = scipy.io.loadmat(tiny_release / IND_PATH)
    tr, te, pairs = ind["train_ind"], ind["test_ind"], ind["test_set_pair_ind"]
    assert tr.dtype == te.dtype == pairs.dtype == np.int32
    assert tr.shape == (len(train), 1) and te.shape == (len(test), 1) and pairs.shape == (len(test), 1)
    n = len(train) + len(test)
    assert np.array_equal(np.sort(np.concatenate([tr, te])[:, 0]), np.arange(1, n + 1))  # 1-based, all rows
    assert np.all(np.diff(tr[:, 0]) > 0) and np.all(np.diff(te[:, 0]) > 0)
    assert not np.array_equal(te[:, 0], np.arange(len(train) + 1, n + 1))  # interleaved, not train-then-test
    assert np.array_equal(pairs[:, 0], te[test.redress_pairs.numpy(), 0])  # global 1-based partner rows


def test_language_mat(tiny_release, tiny_datasets):
    train, test = tiny_datasets
    lang = scipy.io.loadmat(tiny_release / LANGUAGE_PATH)
    ind = scipy.io.loadmat(tiny_release / IND_PATH)
    n = len(train) + len(test)
    for key in ("engJ", "codeJ", "cate_new", "color_", "sleeve_", "gender_", "nameList"):
        assert lang[key].shape == (n, 1), key
    for key in ("cate_new", "color_", "sleeve_", "gender_"):
        assert lang[key].dtype == np.uint8
    rows = ind["test_ind"][:, 0] - 1
    want = test.get_batch(np.arange(len(test)))
    for j, row in enumerate(rows):
        assert str(lang["engJ"][row, 0][0]) == want["sentence"][j]
        code = lang["codeJ"][row, 0]
        assert code.dtype == np.uint8 and code.shape == (int(want["length"][j]), 1)  # a column, as MATLAB's
        assert code[:, 0].tolist() == want["word_ids"][j, : want["length"][j]].tolist()
        assert lang["cate_new"][row, 0] == want["category"][j] + 1  # 1-based
        assert lang["color_"][row, 0] == want["color"][j] + 1
        assert lang["sleeve_"][row, 0] == want["sleeve"][j] + 1
        assert lang["gender_"][row, 0] == want["gender"][j]  # 0-based, as the release
        category = CATEGORY_NAMES[int(want["category"][j])].title()
        assert str(lang["nameList"][row, 0][0]) == f"img/Synthetic_{category}/img_{row + 1:08d}.jpg"


def test_g2_is_stored_transposed_and_mean_subtracted(tiny_release, tiny_datasets):
    train, _ = tiny_datasets
    ind = scipy.io.loadmat(tiny_release / IND_PATH)
    rows = ind["train_ind"][:, 0] - 1
    want = train.get_batch(np.arange(len(train)))
    with h5py.File(tiny_release / G2_PATH, "r") as f:
        assert set(f) == {"ih", "ih_mean", "b_"}
        ih, mean, b = f["ih"], f["ih_mean"][()], f["b_"]
        assert ih.dtype == mean.dtype == b.dtype == np.float32
        assert ih.shape == (33, 3, 32, 32) and mean.shape == (3, 32, 32) and b.shape == (33, 1, 32, 32)
        for j in (0, 7, len(train) - 1):
            stored = ih[int(rows[j])] + mean  # (3, W, H)
            upright = want["image"][j].numpy().astype(np.float32) / 255
            assert np.abs(stored - upright.transpose(0, 2, 1)).max() < 1e-6
            assert np.array_equal(b[int(rows[j]), 0], want["labels"][j].numpy().T.astype(np.float32))
        images = want["image"].numpy().astype(np.float64) / 255
        assert np.abs(mean.transpose(0, 2, 1) - images.mean(0)).max() < 1e-5  # the training mean (24 < 1000)


def test_train_rows_first_without_interleave(tmp_path):
    kw = dict(image_size=16, num_train=5, num_test=3)
    export_official_layout(
        SyntheticMannequins(split="train", **kw),
        SyntheticMannequins(split="test", **kw),
        tmp_path,
        interleave=False,
    )
    ind = scipy.io.loadmat(tmp_path / IND_PATH)
    assert ind["train_ind"][:, 0].tolist() == [1, 2, 3, 4, 5] and ind["test_ind"][:, 0].tolist() == [6, 7, 8]
    assert sorted(p.name for p in (tmp_path / "supervision_signals").iterdir()) == ["G2.h5"]  # no temp files
    assert sorted(p.name for p in (tmp_path / "benchmark").iterdir()) == ["ind.mat", "language_original.mat"]


def test_export_errors(tmp_path):
    a = SyntheticMannequins(split="train", image_size=16, num_train=3, num_test=2)
    b = SyntheticMannequins(split="test", image_size=16, num_train=3, num_test=2)
    with pytest.raises(ValueError, match=r"dtype: expected one of \['float32', 'float64'\], got 'float16'"):
        export_official_layout(a, b, tmp_path, dtype="float16")
    with pytest.raises(ValueError, match="dataset_test: expected image_size 16 like dataset_train, got 32"):
        export_official_layout(a, SyntheticMannequins(split="test", image_size=32, num_test=2), tmp_path)
    with pytest.raises(
        TypeError, match="dataset_train: expected a dataset with get_batch, image_size and __len__"
    ):
        export_official_layout([1, 2], b, tmp_path)
    with pytest.raises(ValueError, match="mean_samples: expected a positive int, got 0"):
        export_official_layout(a, b, tmp_path, mean_samples=0)
    with pytest.raises(ValueError, match=r"batch_size: expected a positive int, got -1"):
        export_official_layout(a, b, tmp_path, batch_size=-1)
    with pytest.raises(TypeError, match="batch_size: expected a positive int, got bool True"):
        export_official_layout(a, b, tmp_path, batch_size=True)
