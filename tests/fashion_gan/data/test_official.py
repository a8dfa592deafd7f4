"""The official release loader: real metadata, orientation, the synthetic round trip, and every bad input."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
import torch
from fashion_gan.data.contract import MAX_WORDS, official_vocabulary, validate_batch, validate_sample
from fashion_gan.data.export import export_official_layout
from fashion_gan.data.official import OfficialFashionGAN
from fashion_gan.data.release import (
    G2_PATH,
    HN2_PATH,
    IND_PATH,
    LANGUAGE_PATH,
    SR1_8_PATH,
    DatasetFormatError,
    load_mat,
    load_metadata,
)
from fashion_gan.data.synthetic import SyntheticMannequins
from torch.utils.data import DataLoader

# ---------------------------------------------------------------------------------------------------------
# the real metadata files
# ---------------------------------------------------------------------------------------------------------


def test_real_counts_and_splits(real_metadata):
    m = real_metadata
    assert m.num_images == 78979
    assert len(m.train) == 70000 and len(m.test) == 8979
    assert np.intersect1d(m.train, m.test).size == 0
    assert np.array_equal(np.sort(np.concatenate([m.train, m.test])), np.arange(78979))
    assert np.all(np.diff(m.train) > 0) and np.all(np.diff(m.test) > 0)
    assert np.bincount(m.gender[m.test]).tolist() == [8402, 577]  # 8,402 women and 577 men in the test split


def test_real_redress_pairs_are_a_derangement(real_metadata):
    pairs = real_metadata.test_pairs
    assert np.array_equal(np.sort(pairs), np.arange(8979))
    assert not np.any(pairs == np.arange(8979))


def test_real_label_ranges(real_metadata):
    m = real_metadata
    assert np.bincount(m.category, minlength=19).tolist()[15] == 23209  # dresses; 0-based = cate_new - 1
    assert np.bincount(m.category).size == 19 and m.category.min() == 0
    assert np.bincount(m.color).tolist()[2] == 12663 and np.bincount(m.color).size == 17  # white
    assert np.bincount(m.sleeve).tolist() == [32185, 18605, 27560, 629]
    assert np.bincount(m.gender).tolist() == [74075, 4904]  # gender_ is 0-based already
    assert m.lengths.min() == 4 and m.lengths.max() == 17 and abs(m.lengths.mean() - 8.07) < 0.01
    assert m.word_ids.max() == 539 and np.unique(m.word_ids[m.word_ids > 0]).size == 539
    assert m.names[0] == "img/Sheer_Pleated-Front_Blouse/img_00000001.jpg"


def test_real_sentences_encode_to_the_official_ids(real_metadata):
    vocab, m = official_vocabulary(), real_metadata
    rows = np.arange(0, m.num_images, 7)
    for r in rows:
        assert vocab.encode(m.sentences[r]) == m.word_ids[r, : m.lengths[r]].tolist(), r


def _upright_person(mean: np.ndarray) -> bool:
    """(3, H, W) mean image: bright corners, darker centre, and the head (top) narrower than the body."""
    gray = mean.mean(0)
    dark = gray < 0.85
    s = gray.shape[0]
    head, body = dark[s // 16 : s // 8].sum(1).mean(), dark[s // 3 : 2 * s // 3].sum(1).mean()
    return bool(gray[:4, :4].mean() > 0.9 and gray[s // 2, s // 2] < 0.65 and 0 < head < 0.8 * body)


def test_real_ih_mean_is_an_upright_person(real_dir):
    mean = scipy.io.loadmat(real_dir / "ih_mean.mat")["ih_mean"]  # (H, W, C), upright
    assert mean.shape == (128, 128, 3) and mean.dtype == np.float32
    upright = mean.transpose(2, 0, 1)
    assert abs(upright[:, :4, :4].mean() - 0.94) < 0.01 and abs(upright[:, 60:68, 60:68].mean() - 0.55) < 0.02
    assert _upright_person(upright)
    assert not _upright_person(upright.transpose(0, 2, 1))  # the check tells the two orientations apart


@pytest.fixture(scope="module")
def real_with_planted_g2(tmp_path_factory, real_dir, real_metadata):
    """Real metadata + a sparse full-size G2.h5: ih = 0 (so images are ih_mean) except planted rows."""
    root = tmp_path_factory.mktemp("real_planted")
    (root / "benchmark").mkdir()
    for name in ("ind.mat", "language_original.mat"):
        os.symlink(real_dir / name, root / "benchmark" / name)
    mean = scipy.io.loadmat(real_dir / "ih_mean.mat")["ih_mean"].transpose(2, 0, 1)  # (3, H, W)
    n, s = real_metadata.num_images, 128
    (root / "supervision_signals").mkdir()
    planted = {}
    with h5py.File(root / G2_PATH, "w") as f:
        ih = f.create_dataset("ih", shape=(n, 3, s, s), dtype=np.float32, chunks=(1, 3, s, s))
        b_ = f.create_dataset("b_", shape=(n, 1, s, s), dtype=np.float32, chunks=(1, 1, s, s))
        f["ih_mean"] = mean.transpose(0, 2, 1)  # stored (3, W, H) as the release
        for k, row in enumerate(real_metadata.test[[0, 5, 8978]]):
            image = np.zeros((3, s, s), np.uint8)
            image[0, : 10 + k, :40] = 255  # a red bar across the TOP-left, upright
            image[2, 100:, 120:] = 200 + k
            labels = np.zeros((s, s), np.uint8)
            labels[: 10 + k, :40] = 1
            labels[100:, 120:] = 6
            ih[int(row)] = (image / np.float32(255) - mean).transpose(0, 2, 1)
            b_[int(row), 0] = labels.T
            planted[int(row)] = (image, labels)
    return root, mean, planted


def test_real_index_files_with_planted_images(real_with_planted_g2, real_metadata):
    root, mean, planted = real_with_planted_g2
    assert (root / G2_PATH).stat().st_size < 50e6  # sparse: unwritten chunks take no space
    ds = OfficialFashionGAN(root, split="test")
    assert len(ds) == 8979 and ds.image_size == 128
    for pos in (0, 5, 8978):
        item = ds[pos]
        image, labels = planted[int(real_metadata.test[pos])]
        assert torch.equal(item["image"], torch.from_numpy(image))
        assert torch.equal(item["labels"], torch.from_numpy(labels))
        assert item["sentence"] == real_metadata.sentences[real_metadata.test[pos]]
        validate_sample(item, image_size=128)
    # a row never written holds ih = 0: the picture is the mean image itself, upright
    plain = ds[1]["image"].numpy().astype(np.float32) / 255
    assert np.abs(plain - mean).max() <= 0.5 / 255 + 1e-6
    assert _upright_person(plain)
    assert ds[1]["wearer"].tolist() == [float(ds[1]["gender"])] + [-1.0] * 6
    train = OfficialFashionGAN(root, split="train")
    assert len(train) == 70000 and train[0]["index"] == 0
    with pytest.raises(ValueError, match="redress_pairs: expected the test split"):
        _ = train.redress_pairs
    assert torch.equal(ds.redress_pairs, torch.from_numpy(real_metadata.test_pairs))


# ---------------------------------------------------------------------------------------------------------
# the synthetic round trip: the loader reproduces the truth
# ---------------------------------------------------------------------------------------------------------


def _check_round_trip(root, train_ds, test_ds, **kwargs):
    for ds, split in ((train_ds, "train"), (test_ds, "test")):
        off = OfficialFashionGAN(root, split=split, **kwargs)
        assert len(off) == len(ds) and off.image_size == ds.image_size
        idx = np.arange(len(ds))
        got, want = off.get_batch(idx), ds.get_batch(idx)
        validate_batch(got, image_size=ds.image_size)
        for key in want:
            if key == "sentence":
                assert got[key] == want[key]
            elif key == "wearer":
                assert torch.equal(got[key][:, 0], want[key][:, 0])
                assert (got[key][:, 1:] == -1).all()  # the release knows only gender
            else:
                assert torch.equal(got[key], want[key]), (split, key)
    assert torch.equal(OfficialFashionGAN(root, split="test", **kwargs).redress_pairs, test_ds.redress_pairs)


def test_round_trip_is_exact(tiny_release, tiny_datasets):
    _check_round_trip(tiny_release, *tiny_datasets)


@pytest.mark.parametrize(("dtype", "interleave"), [("float64", True), ("float32", False)])
def test_round_trip_variants(tmp_path, dtype, interleave):
    kw = dict(image_size=16, num_train=7, num_test=4, seed=11)
    train, test = SyntheticMannequins(split="train", **kw), SyntheticMannequins(split="test", **kw)
    export_official_layout(train, test, tmp_path, dtype=dtype, interleave=interleave, batch_size=3)
    with h5py.File(tmp_path / G2_PATH) as f:
        assert f["ih"].dtype == np.dtype(dtype)
    _check_round_trip(tmp_path, train, test)


def test_any_order_and_repeats(tiny_release):
    ds = OfficialFashionGAN(tiny_release, split="train")
    batch = ds.get_batch([5, 2, 5, 0])
    for j, i in enumerate([5, 2, 5, 0]):
        item = ds[i]
        assert torch.equal(batch["image"][j], item["image"]) and batch["sentence"][j] == item["sentence"]
    assert ds[-1]["index"] == len(ds) - 1


def test_dataloader_workers_stream_the_file(tiny_release):
    ds = OfficialFashionGAN(tiny_release, split="train")
    ds[0]  # the parent opens the file first: workers must not reuse its handle
    assert len(pickle.dumps(ds)) < 500_000
    batches = list(DataLoader(ds, batch_size=8, num_workers=2))
    want = ds.get_batch(np.arange(8, 16))
    assert torch.equal(batches[1]["image"], want["image"])
    assert torch.equal(batches[1]["labels"], want["labels"])


def test_optional_text_codes_and_constraint(tmp_path, tiny_release, tiny_datasets):
    root = tmp_path / "release"
    shutil.copytree(tiny_release, root)
    n = sum(len(d) for d in tiny_datasets)
    (root / "test_phase_inputs").mkdir()
    hn2 = np.arange(n * 100, dtype=np.float64).reshape(n, 100) / (n * 100)
    scipy.io.savemat(root / HN2_PATH, {"hn2": hn2})
    d = np.zeros((8, 8, 4, n), np.float32)
    d[0, 7, :, :] = np.arange(n)[None] + np.arange(4)[:, None] / 10  # MATLAB row 0, column 7: top-right
    scipy.io.savemat(root / SR1_8_PATH, {"d": d})
    ds = OfficialFashionGAN(root, split="test")
    rows = ds.rows
    item = ds[2]
    assert item["hn2"].dtype == torch.float32 and item["hn2"].shape == (100,)
    assert torch.allclose(item["hn2"], torch.from_numpy(hn2[rows[2]]).float())
    assert item["sr1_8"].shape == (4, 8, 8)
    assert item["sr1_8"][3, 0, 7] == pytest.approx(rows[2] + 0.3) and item["sr1_8"][:, 7, 0].abs().sum() == 0
    validate_sample(item)
    batch = ds.get_batch([0, 2])
    assert batch["hn2"].shape == (2, 100) and batch["sr1_8"].shape == (2, 4, 8, 8)


# ---------------------------------------------------------------------------------------------------------
# an orientation check that does not go through the exporter
# ---------------------------------------------------------------------------------------------------------


def test_hand_written_transposed_file_loads_upright(tmp_path, tiny_release):
    root = tmp_path / "release"
    shutil.copytree(tiny_release, root)
    with h5py.File(root / G2_PATH, "r") as f:
        n, s = f["ih"].shape[0], f["ih"].shape[2]
    image = np.zeros((n, 3, s, s), np.float32)
    image[:, 1, :3, :] = 1.0  # green band along the TOP edge
    image[:, 0, :, -2:] = 1.0  # red band along the RIGHT edge
    labels = np.zeros((n, s, s), np.float32)
    labels[:, :3, :] = 1
    labels[:, :, -2:] = 4
    mean = np.full((3, s, s), 0.5, np.float32)
    mean[2, :5, :] = 0.25  # the mean is asymmetric too
    with h5py.File(root / G2_PATH, "w") as f:
        f["ih"] = (image - mean).transpose(0, 1, 3, 2)
        f["ih_mean"] = mean.transpose(0, 2, 1)
        f["b_"] = labels[:, None].transpose(0, 1, 3, 2)
    item = OfficialFashionGAN(root, split="test")[0]
    assert (item["image"][1, :3] == 255).all() and (item["image"][1, 3:, :-2] == 0).all()
    assert (item["image"][0, :, -2:] == 255).all() and (item["image"][0, :, :-2] == 0).all()
    assert (item["image"][2, :5] == 0).all()
    assert (item["labels"][:3, :-2] == 1).all() and (item["labels"][:, -2:] == 4).all()
    assert (item["labels"][3:, :-2] == 0).all()


# ---------------------------------------------------------------------------------------------------------
# bad input: every failure names the path and what was expected
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def broken(tmp_path, tiny_release):
    root = tmp_path / "release"
    shutil.copytree(tiny_release, root)
    return root


def _rewrite_mat(path: Path, **changes):
    data = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    scipy.io.savemat(path, data)


def _rewrite_g2(path: Path, **changes):
    with h5py.File(path, "r") as f:
        data = {k: f[k][()] for k in f}
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    with h5py.File(path, "w") as f:
        for key, value in data.items():
            f[key] = value


@pytest.mark.parametrize("rel", [IND_PATH, LANGUAGE_PATH, G2_PATH])
def test_missing_file(broken, rel):
    (broken / rel).unlink()
    with pytest.raises(DatasetFormatError, match=rf"{rel}: file not found; expected"):
        OfficialFashionGAN(broken, split="train")


def test_missing_folder(tmp_path):
    with pytest.raises(
        DatasetFormatError, match="folder not found; expected the official data_release folder"
    ):
        OfficialFashionGAN(tmp_path / "nowhere")


@pytest.mark.parametrize("rel", [IND_PATH, LANGUAGE_PATH])
@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_or_truncated_mat(broken, rel, damage):
    path = broken / rel
    data = path.read_bytes()
    path.write_bytes(b"\x00garbage" * 50 if damage == "garbage" else data[: len(data) // 2])
    with pytest.raises(
        DatasetFormatError, match=rf"{rel}: (not a readable MATLAB|cannot read the MATLAB file)"
    ):
        OfficialFashionGAN(broken, split="train")


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_or_truncated_g2(broken, damage):
    path = broken / G2_PATH
    data = path.read_bytes()
    path.write_bytes(b"\x89HDF\r\n" + b"\x00" * 900 if damage == "garbage" else data[: int(len(data) * 0.6)])
    with pytest.raises(
        DatasetFormatError, match=rf"{G2_PATH}: cannot open as HDF5 .*expected the official G2.h5"
    ):
        OfficialFashionGAN(broken, split="train")


def test_missing_variables(broken):
    _rewrite_mat(broken / LANGUAGE_PATH, codeJ=None)
    with pytest.raises(DatasetFormatError, match=r"language_original.mat: missing variable 'codeJ'; found"):
        load_metadata(broken)


def test_missing_dataset_in_g2(broken):
    _rewrite_g2(broken / G2_PATH, b_=None)
    with pytest.raises(
        DatasetFormatError, match=r"G2.h5: missing dataset /b_; expected /ih, /ih_mean and /b_"
    ):
        OfficialFashionGAN(broken)


def test_wrong_shapes_in_g2(broken, tiny_datasets):
    n = sum(len(d) for d in tiny_datasets)
    with h5py.File(broken / G2_PATH) as f:
        ih, b = f["ih"][()], f["b_"][()]
    _rewrite_g2(broken / G2_PATH, ih=ih[:, :, :, :-1])
    with pytest.raises(
        DatasetFormatError, match=r"/ih: expected shape \(N, 3, S, S\), got \(33, 3, 32, 31\)"
    ):
        OfficialFashionGAN(broken)
    _rewrite_g2(broken / G2_PATH, ih=ih[:-1], b_=b[:-1])
    with pytest.raises(
        DatasetFormatError, match=rf"/ih: expected {n} images \(the rows of language_original.mat\)"
    ):
        OfficialFashionGAN(broken)
    _rewrite_g2(broken / G2_PATH, ih=ih, b_=b[:, :, :16])
    with pytest.raises(
        DatasetFormatError, match=r"/b_: expected shape \(33, 1, 32, 32\), got \(33, 1, 16, 32\)"
    ):
        OfficialFashionGAN(broken)
    _rewrite_g2(broken / G2_PATH, b_=b, ih_mean=np.zeros((3, 16, 16), np.float32))
    with pytest.raises(
        DatasetFormatError, match=r"/ih_mean: expected 3\*32\*32 values, got shape \(3, 16, 16\)"
    ):
        OfficialFashionGAN(broken)
    _rewrite_g2(broken / G2_PATH, ih=ih.astype(np.uint8), ih_mean=np.zeros((3, 32, 32), np.float32))
    with pytest.raises(
        DatasetFormatError, match=r"/ih: expected floating-point mean-subtracted images, got uint8"
    ):
        OfficialFashionGAN(broken)


@pytest.mark.parametrize(("value", "shown"), [(7.0, "7.0"), (2.5, "2.5"), (-1.0, "-1.0")])
def test_bad_labels_are_reported_when_read(broken, value, shown):
    with h5py.File(broken / G2_PATH, "r+") as f:
        f["b_"][3, 0, 4, 5] = value
    ds = OfficialFashionGAN(broken, split="train")
    global_rows = list(ds.rows)
    row = 3
    pos = global_rows.index(row) if row in global_rows else None
    if pos is None:
        ds = OfficialFashionGAN(broken, split="test")
        pos = list(ds.rows).index(row)
    with pytest.raises(DatasetFormatError, match=rf"/b_ row 3: expected integer labels 0..6, got {shown}"):
        ds[pos]


def test_truncated_g2_after_its_header(broken):
    path = broken / G2_PATH
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - 20000)
    with pytest.raises(DatasetFormatError, match=r"G2.h5: cannot open as HDF5 \(.*truncated file"):
        OfficialFashionGAN(broken)


def test_corrupt_data_region_is_reported_on_read(broken):
    """Damaged (compressed) image chunks open fine and fail when read, with the path and rows named."""
    path = broken / G2_PATH
    with h5py.File(path, "r") as f:
        data = {k: f[k][()] for k in f}
    with h5py.File(path, "w") as f:  # metadata first, the big compressed /ih last in the file
        f["ih_mean"], f["b_"] = data["ih_mean"], data["b_"]
        f.create_dataset("ih", data=data["ih"], chunks=(1,) + data["ih"].shape[1:], compression="gzip")
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(size - size // 4)
        f.write(b"\xff" * 2000)
    ds = OfficialFashionGAN(broken, split="train")
    with pytest.raises(DatasetFormatError, match=r"G2.h5: cannot read rows .* may be truncated or corrupt"):
        ds.get_batch(np.arange(len(ds)))


@pytest.mark.parametrize(
    ("rel", "changes", "match"),
    [
        (
            LANGUAGE_PATH,
            dict(cate_new=np.zeros((33, 1), np.uint8)),
            r"'cate_new': expected values in \[1, 19\]",
        ),
        (
            LANGUAGE_PATH,
            dict(gender_=np.full((33, 1), 2, np.uint8)),
            r"'gender_': expected values in \[0, 1\]",
        ),
        (LANGUAGE_PATH, dict(color_=np.ones((30, 1), np.uint8)), r"'color_': expected 33 rows, got 30"),
        (LANGUAGE_PATH, dict(sleeve_=np.ones((33, 2), np.uint8)), r"'sleeve_': expected a vector \(N, 1\)"),
        (IND_PATH, dict(test_set_pair_ind=np.ones((9, 1), np.int32)), r"expected a permutation of test_ind"),
        (
            IND_PATH,
            dict(train_ind=np.arange(1, 25, dtype=np.int32)[:, None] * 0 + 1),
            r"without repeated rows",
        ),
        (IND_PATH, dict(test_ind=np.array([[34]], np.int32)), r"'test_ind': expected values in \[1, 33\]"),
    ],
)
def test_bad_metadata_values(broken, rel, changes, match):
    _rewrite_mat(broken / rel, **changes)
    with pytest.raises(DatasetFormatError, match=rf"{rel}: .*{match}"):
        load_metadata(broken)


def test_overlapping_splits(broken):
    ind = scipy.io.loadmat(broken / IND_PATH)
    _rewrite_mat(broken / IND_PATH, train_ind=np.concatenate([ind["train_ind"], ind["test_ind"][:1]]))
    with pytest.raises(DatasetFormatError, match="expected disjoint train_ind and test_ind"):
        load_metadata(broken)


def test_bad_word_ids(broken):
    lang = scipy.io.loadmat(broken / LANGUAGE_PATH)
    codes = lang["codeJ"].copy()
    codes[4, 0] = np.ones((MAX_WORDS + 1, 1), np.uint8)
    _rewrite_mat(broken / LANGUAGE_PATH, codeJ=codes)
    with pytest.raises(DatasetFormatError, match=r"codeJ row 5: expected 1..20 word ids, got 21"):
        load_metadata(broken)
    codes[4, 0] = np.array([[1], [540]], np.uint16)
    _rewrite_mat(broken / LANGUAGE_PATH, codeJ=codes)
    with pytest.raises(DatasetFormatError, match=r"codeJ row 5: expected 1-based word ids in \[1, 539\]"):
        load_metadata(broken)


def test_bad_optional_files(broken):
    (broken / "test_phase_inputs").mkdir()
    scipy.io.savemat(broken / HN2_PATH, {"hn2": np.zeros((33, 99))})
    with pytest.raises(DatasetFormatError, match=r"'hn2': expected shape \(33, 100\), got \(33, 99\)"):
        OfficialFashionGAN(broken)
    (broken / HN2_PATH).unlink()
    scipy.io.savemat(broken / SR1_8_PATH, {"d": np.zeros((4, 8, 8, 33))})
    with pytest.raises(DatasetFormatError, match=r"'d': expected MATLAB shape \(8, 8, 4, 33\)"):
        OfficialFashionGAN(broken)


def test_argument_errors(tiny_release):
    with pytest.raises(ValueError, match=r"split: expected one of \['train', 'test'\], got 'val'"):
        OfficialFashionGAN(tiny_release, split="val")
    with pytest.raises(TypeError, match="root: expected a path, got int"):
        OfficialFashionGAN(3)
    ds = OfficialFashionGAN(tiny_release, split="test")
    with pytest.raises(IndexError, match=r"index: expected an int in \[-9, 8\], got 9"):
        ds[9]
    with pytest.raises(IndexError, match=r"indices: expected indices in \[0, 8\], got -1"):
        ds.get_batch([0, -1])
    with pytest.raises(TypeError, match="indices: expected a sequence of ints, got dtype float64"):
        ds.get_batch([0.0])


def _write_v73(path: Path, arrays: dict[str, np.ndarray]):
    """A MATLAB v7.3 file: HDF5 with the 128-byte MATLAB header in a 512-byte user block, arrays transposed"""
    with h5py.File(path, "w", userblock_size=512) as f:
        for key, value in arrays.items():
            f[key] = np.asarray(value).T
    header = (
        b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    )
    header = header.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
    with open(path, "r+b") as f:
        f.write(header)


def test_v73_numeric_mat_files(broken):
    ind = scipy.io.loadmat(broken / IND_PATH)
    arrays = {k: ind[k] for k in ("train_ind", "test_ind", "test_set_pair_ind")}
    _write_v73(broken / IND_PATH, arrays)
    loaded = load_mat(broken / IND_PATH, ["train_ind"])
    assert np.array_equal(loaded["train_ind"], arrays["train_ind"])
    with pytest.raises(DatasetFormatError, match=r"ind.mat: missing variable 'nope'"):
        load_mat(broken / IND_PATH, ["nope"])
    ds = OfficialFashionGAN(broken, split="test")
    assert np.array_equal(ds.rows, arrays["test_ind"][:, 0] - 1)


def test_load_mat_argument_errors(tiny_release):
    with pytest.raises(TypeError, match="keys: expected a sequence of variable names, got str"):
        load_mat(tiny_release / IND_PATH, "train_ind")
    with pytest.raises(DatasetFormatError, match=r"nowhere.mat: file not found; expected a MATLAB file"):
        load_mat(tiny_release / "nowhere.mat", ["x"])
