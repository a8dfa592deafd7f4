"""The official FashionGAN data release ("Be Your Own Prada", DeepFashion Fashion Synthesis benchmark).

Layout under ``root`` (reference section 1.2)::

    benchmark/ind.mat                               train_ind, test_ind, test_set_pair_ind (1-based)
    benchmark/language_original.mat                 engJ, codeJ (1-based), cate_new, color_, sleeve_
                                                    (1-based), gender_ (0-based), nameList
    supervision_signals/G2.h5                       /ih (N, 3, W, H) mean-subtracted, /ih_mean (3, W, H),
                                                    /b_ (N, 1, W, H) labels 0..6; the last two axes TRANSPOSED
    test_phase_inputs/encode_hn2_rnn_100_2_full.mat optional: hn2 (N, 100), the official text codes
    test_phase_inputs/sr1_8.mat                     optional: d (8, 8, 4, N), the official 8x8 constraint

Conventions handled here (reference section 7): the last two axes of ``ih``, ``ih_mean`` and ``b_`` are stored
transposed (``(W, H)``) and are transposed back, so images come out upright; images are ``clip(ih + ih_mean,
0, 1)`` turned into uint8; every index and label is 1-based except ``gender_``; the redress pairs of the test
split are mapped from global 1-based rows to positions within the split.

Memory: ``G2.h5`` (15.5 GB in float32) is never loaded; items and batches are read with h5py (the file is
opened lazily, once per worker process, and batches are read as sorted row lists).
:func:`fashion_gan.data.cache.prepare_cache` converts it once into compact uint8 arrays that
``OfficialFashionGAN(root, cache=...)`` reads.

Every problem with the files (missing file or variable, wrong shape, truncated or corrupt file, out-of-range
values) raises :class:`DatasetFormatError` naming the path, what was expected and what was found.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fashion_gan.data.contract import (
    CATEGORY_NAMES,
    COLOR_NAMES,
    MAX_WORDS,
    NUM_LABELS,
    SLEEVE_NAMES,
    UNKNOWN_ATTRIBUTE,
    check_indices,
    official_vocabulary,
    uncollate,
)

__all__ = [
    "DatasetFormatError",
    "OfficialMetadata",
    "OfficialFashionGAN",
    "IND_PATH",
    "LANGUAGE_PATH",
    "G2_PATH",
    "HN2_PATH",
    "SR1_8_PATH",
    "load_mat",
    "load_metadata",
    "G2Reader",
]

IND_PATH = "benchmark/ind.mat"
LANGUAGE_PATH = "benchmark/language_original.mat"
G2_PATH = "supervision_signals/G2.h5"
HN2_PATH = "test_phase_inputs/encode_hn2_rnn_100_2_full.mat"
SR1_8_PATH = "test_phase_inputs/sr1_8.mat"


class DatasetFormatError(ValueError):
    """A data file is missing, truncated, corrupt, or does not hold what the official release holds."""


# ------------------------------------------------------------------------------------------------------------
# .mat files
# ------------------------------------------------------------------------------------------------------------


def _mat_version(path: Path) -> tuple[int, int]:
    import scipy.io.matlab as matlab

    try:
        with open(path, "rb") as f:
            return matlab.matfile_version(f)
    except Exception as err:  # scipy raises several types for a bad header
        raise DatasetFormatError(f"{path}: not a readable MATLAB .mat file ({err})") from err


def load_mat(path: str | os.PathLike, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """Read variables ``keys`` of a MATLAB file (v5/v7 with scipy; numeric variables of v7.3 with h5py).

    Arrays keep MATLAB's index order (a v7.3 array is transposed back from HDF5's reversed order).

    Raises:
        DatasetFormatError: the file is missing, unreadable, or lacks one of ``keys``.

    Examples:
        >>> import tempfile, scipy.io
        >>> path = tempfile.mkdtemp() + "/x.mat"
        >>> scipy.io.savemat(path, {"a": np.arange(3)})
        >>> load_mat(path, ["a"])["a"].tolist()
        [[0, 1, 2]]
    """
    if isinstance(keys, str) or not all(isinstance(k, str) for k in keys):
        raise TypeError(f"keys: expected a sequence of variable names, got {type(keys).__name__}")
    path = Path(path)
    if not path.is_file():
        raise DatasetFormatError(
            f"{path}: file not found; expected a MATLAB file with variables {list(keys)}"
        )
    major, _ = _mat_version(path)
    out: dict[str, np.ndarray] = {}
    if major == 2:  # v7.3 = HDF5
        import h5py

        try:
            with h5py.File(path, "r") as f:
                for key in keys:
                    if key not in f:
                        raise DatasetFormatError(
                            f"{path}: missing variable {key!r}; found {sorted(f.keys())}"
                        )
                    if not isinstance(f[key], h5py.Dataset) or f[key].dtype.kind not in "iufb":
                        raise DatasetFormatError(
                            f"{path}: variable {key!r} is not a numeric array (v7.3 cell arrays are not "
                            "supported; re-save the file with MATLAB's -v7 flag)"
                        )
                    out[key] = np.asarray(f[key][()]).T
        except OSError as err:
            raise DatasetFormatError(f"{path}: cannot read the MATLAB v7.3 (HDF5) file ({err})") from err
        return out
    import scipy.io

    try:
        data = scipy.io.loadmat(path, variable_names=list(keys))
    except Exception as err:  # truncated/corrupt files raise ValueError, OSError, MatReadError, ...
        raise DatasetFormatError(
            f"{path}: cannot read the MATLAB file ({type(err).__name__}: {err})"
        ) from err
    for key in keys:
        if key not in data:
            found = [k for k in data if not k.startswith("__")]
            raise DatasetFormatError(f"{path}: missing variable {key!r}; found {found}")
        out[key] = data[key]
    return out


def _column(path: Path, name: str, value: np.ndarray, n: int | None = None) -> np.ndarray:
    """A (N, 1) or (1, N) or (N,) MATLAB vector as a flat array."""
    arr = np.asarray(value)
    if arr.ndim > 2 or (arr.ndim == 2 and min(arr.shape) != 1):
        raise DatasetFormatError(
            f"{path}: variable {name!r}: expected a vector (N, 1), got shape {arr.shape}"
        )
    arr = arr.reshape(-1)
    if n is not None and arr.shape[0] != n:
        raise DatasetFormatError(f"{path}: variable {name!r}: expected {n} rows, got {arr.shape[0]}")
    return arr


def _integers(path: Path, name: str, arr: np.ndarray, low: int, high: int) -> np.ndarray:
    if arr.dtype.kind not in "iuf" or (arr.dtype.kind == "f" and not np.all(np.isfinite(arr))):
        raise DatasetFormatError(f"{path}: variable {name!r}: expected integers, got dtype {arr.dtype}")
    out = arr.astype(np.int64)
    if arr.dtype.kind == "f" and not np.array_equal(out, arr):
        raise DatasetFormatError(f"{path}: variable {name!r}: expected integer values, got fractions")
    if out.size and (out.min() < low or out.max() > high):
        raise DatasetFormatError(
            f"{path}: variable {name!r}: expected values in [{low}, {high}], got [{out.min()}, {out.max()}]"
        )
    return out


def _cell_text(x: Any) -> str:
    arr = np.asarray(x)
    if arr.size == 0:
        return ""
    if arr.dtype.kind == "U":
        return "".join(str(s) for s in arr.reshape(-1)) if arr.ndim == 1 else str(arr.reshape(-1)[0])
    if arr.dtype == object:
        return _cell_text(arr.reshape(-1)[0])
    raise TypeError(f"expected text, got dtype {arr.dtype}")


# ------------------------------------------------------------------------------------------------------------
# Metadata
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficialMetadata:
    """Parsed ``language_original.mat`` and ``ind.mat``: 0-based classes, 0-based global rows.

    Attributes:
        sentences: ``engJ`` (N strings).
        word_ids: int16 ``(N, MAX_WORDS)`` official 1-based ids, 0-padded (``codeJ``).
        lengths: int64 ``(N,)``.
        category, color, sleeve: int64 ``(N,)``, 0-based (``cate_new - 1`` etc.).
        gender: int64 ``(N,)`` (``gender_``, already 0-based).
        names: ``nameList`` (N strings).
        train, test: int64 global 0-based rows of each split (``train_ind - 1``, ``test_ind - 1``).
        test_pairs: int64 ``(len(test),)``: position within the test split of the sentence that redresses
            test person ``i`` (``test_set_pair_ind`` mapped into the split).
    """

    sentences: list[str]
    word_ids: np.ndarray
    lengths: np.ndarray
    category: np.ndarray
    color: np.ndarray
    sleeve: np.ndarray
    gender: np.ndarray
    names: list[str]
    train: np.ndarray
    test: np.ndarray
    test_pairs: np.ndarray

    @property
    def num_images(self) -> int:
        return len(self.sentences)


def load_metadata(root: str | os.PathLike) -> OfficialMetadata:
    """Read and check ``benchmark/language_original.mat`` and ``benchmark/ind.mat`` under ``root``.

    Raises:
        DatasetFormatError: a file is missing or unreadable, or a variable has the wrong shape or range.
    """
    root = Path(root)
    lang_path = root / LANGUAGE_PATH
    keys = ["engJ", "codeJ", "cate_new", "color_", "sleeve_", "gender_", "nameList"]
    lang = load_mat(lang_path, keys)
    eng = _column(lang_path, "engJ", lang["engJ"])
    n = eng.shape[0]
    if n == 0:
        raise DatasetFormatError(f"{lang_path}: variable 'engJ': expected at least one sentence, got none")
    code = _column(lang_path, "codeJ", lang["codeJ"], n)
    names = _column(lang_path, "nameList", lang["nameList"], n)
    try:
        sentences = [_cell_text(x) for x in eng]
        name_list = [_cell_text(x) for x in names]
    except TypeError as err:
        raise DatasetFormatError(
            f"{lang_path}: variables 'engJ'/'nameList': expected cells of text ({err})"
        ) from err
    vocab_size = len(official_vocabulary())
    word_ids = np.zeros((n, MAX_WORDS), np.int16)
    lengths = np.zeros(n, np.int64)
    for i, cell in enumerate(code):
        ids = np.asarray(cell).reshape(-1)
        if ids.size == 0 or ids.size > MAX_WORDS or ids.dtype.kind not in "iuf":
            raise DatasetFormatError(
                f"{lang_path}: codeJ row {i + 1}: expected 1..{MAX_WORDS} word ids, "
                f"got {ids.size} of dtype {ids.dtype}"
            )
        if ids.min() < 1 or ids.max() > vocab_size:
            raise DatasetFormatError(
                f"{lang_path}: codeJ row {i + 1}: expected 1-based word ids in [1, {vocab_size}], "
                f"got {ids.tolist()}"
            )
        word_ids[i, : ids.size] = ids
        lengths[i] = ids.size
    category = (
        _integers(lang_path, "cate_new", _column(lang_path, "cate_new", lang["cate_new"], n), 1, 19) - 1
    )
    color = _integers(lang_path, "color_", _column(lang_path, "color_", lang["color_"], n), 1, 17) - 1
    sleeve = _integers(lang_path, "sleeve_", _column(lang_path, "sleeve_", lang["sleeve_"], n), 1, 4) - 1
    gender = _integers(lang_path, "gender_", _column(lang_path, "gender_", lang["gender_"], n), 0, 1)
    assert len(CATEGORY_NAMES) == 19 and len(COLOR_NAMES) == 17 and len(SLEEVE_NAMES) == 4

    ind_path = root / IND_PATH
    ind = load_mat(ind_path, ["train_ind", "test_ind", "test_set_pair_ind"])
    train = _integers(ind_path, "train_ind", _column(ind_path, "train_ind", ind["train_ind"]), 1, n) - 1
    test = _integers(ind_path, "test_ind", _column(ind_path, "test_ind", ind["test_ind"]), 1, n) - 1
    pairs = _column(ind_path, "test_set_pair_ind", ind["test_set_pair_ind"], test.shape[0])
    pairs = _integers(ind_path, "test_set_pair_ind", pairs, 1, n) - 1
    if np.intersect1d(train, test).size:
        raise DatasetFormatError(f"{ind_path}: expected disjoint train_ind and test_ind, got shared rows")
    if np.unique(train).size != train.size or np.unique(test).size != test.size:
        raise DatasetFormatError(f"{ind_path}: expected train_ind and test_ind without repeated rows")
    order = np.argsort(test, kind="stable")
    pos = np.searchsorted(test[order], pairs)
    pos = np.minimum(pos, test.size - 1)
    if not np.array_equal(test[order][pos], pairs) or np.unique(pairs).size != pairs.size:
        raise DatasetFormatError(
            f"{ind_path}: variable 'test_set_pair_ind': expected a permutation of test_ind, got other rows"
        )
    return OfficialMetadata(
        sentences=sentences,
        word_ids=word_ids,
        lengths=lengths,
        category=category,
        color=color,
        sleeve=sleeve,
        gender=gender,
        names=name_list,
        train=train,
        test=test,
        test_pairs=order[pos].astype(np.int64),
    )


# ------------------------------------------------------------------------------------------------------------
# G2.h5
# ------------------------------------------------------------------------------------------------------------


class G2Reader:
    """Reads upright uint8 images and labels from the official ``G2.h5`` (h5py, opened lazily per process).

    Args:
        path: the ``G2.h5`` file.
        num_images: expected number of rows ``N`` (from ``language_original.mat``); ``None`` skips the check.

    Attributes:
        image_size: ``S`` (the release: 128).
        num_images: ``N``.
        mean: float32 ``(3, S, S)`` upright ``ih_mean``.
    """

    def __init__(self, path: str | os.PathLike, num_images: int | None = None) -> None:
        self.path = Path(path)
        self._file = None
        self._pid = None
        f = self._open()
        for key in ("ih", "ih_mean", "b_"):
            if key not in f:
                raise DatasetFormatError(
                    f"{self.path}: missing dataset /{key}; expected /ih, /ih_mean and /b_"
                )
        ih, mean, b = f["ih"], f["ih_mean"], f["b_"]
        if ih.ndim != 4 or ih.shape[1] != 3 or ih.shape[2] != ih.shape[3]:
            raise DatasetFormatError(f"{self.path}: /ih: expected shape (N, 3, S, S), got {ih.shape}")
        n, s = ih.shape[0], ih.shape[2]
        if num_images is not None and n != num_images:
            raise DatasetFormatError(
                f"{self.path}: /ih: expected {num_images} images (the rows of language_original.mat), got {n}"
            )
        if ih.dtype.kind != "f":
            raise DatasetFormatError(
                f"{self.path}: /ih: expected floating-point mean-subtracted images, got {ih.dtype}"
            )
        if b.shape != (n, 1, s, s):
            raise DatasetFormatError(f"{self.path}: /b_: expected shape {(n, 1, s, s)}, got {b.shape}")
        if mean.size != 3 * s * s:
            raise DatasetFormatError(
                f"{self.path}: /ih_mean: expected 3*{s}*{s} values, got shape {mean.shape}"
            )
        self.num_images, self.image_size = n, s
        try:
            stored = np.asarray(mean[()], dtype=np.float32).reshape(3, s, s)
        except OSError as err:
            raise DatasetFormatError(
                f"{self.path}: /ih_mean: cannot read ({err}); the file may be truncated"
            ) from err
        # Stored (3, W, H): transpose the last two axes to get the upright (3, H, W) mean.
        self.mean = np.ascontiguousarray(stored.transpose(0, 2, 1))

    def _open(self):
        import h5py

        if self._file is None or self._pid != os.getpid():
            if not self.path.is_file():
                raise DatasetFormatError(
                    f"{self.path}: file not found; expected the official G2.h5 (/ih, /ih_mean, /b_)"
                )
            try:
                self._file = h5py.File(self.path, "r")
            except OSError as err:
                raise DatasetFormatError(
                    f"{self.path}: cannot open as HDF5 ({err}); "
                    "expected the official G2.h5 (/ih, /ih_mean, /b_)"
                ) from err
            self._pid = os.getpid()
        return self._file

    def close(self) -> None:
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_file"], state["_pid"] = None, None  # reopened lazily in the worker process
        return state

    def read(self, rows: np.ndarray | Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Images uint8 ``(k, 3, S, S)`` and labels uint8 ``(k, S, S)`` of global 0-based ``rows``.

        Reads the sorted unique rows in one h5py call per dataset; memory is bounded by the batch.
        """
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if rows.size == 0:
            s = self.image_size
            return np.zeros((0, 3, s, s), np.uint8), np.zeros((0, s, s), np.uint8)
        if rows.min() < 0 or rows.max() >= self.num_images:
            raise IndexError(
                f"rows: expected rows in [0, {self.num_images - 1}], got {rows.min()}..{rows.max()}"
            )
        unique, inverse = np.unique(rows, return_inverse=True)
        f = self._open()
        try:
            if unique.size == unique[-1] - unique[0] + 1:  # a contiguous run: one hyperslab
                sl = slice(int(unique[0]), int(unique[-1]) + 1)
                ih, b = f["ih"][sl], f["b_"][sl]
            else:
                ih, b = f["ih"][unique.tolist()], f["b_"][unique.tolist()]
        except OSError as err:
            raise DatasetFormatError(
                f"{self.path}: cannot read rows {unique[0]}..{unique[-1]} of /ih or /b_ ({err}); "
                "the file may be truncated or corrupt"
            ) from err
        images = self.to_uint8(ih)
        labels = self.labels_to_uint8(b, unique)
        return images[inverse], labels[inverse]

    def to_uint8(self, ih: np.ndarray) -> np.ndarray:
        """Stored mean-subtracted ``(k, 3, W, H)`` -> upright uint8 ``(k, 3, H, W)``.

        ``round(255 * clip(ih + ih_mean, 0, 1))`` with the last two axes transposed back.
        """
        x = np.asarray(ih, dtype=np.float32).transpose(0, 1, 3, 2) + self.mean
        np.clip(x, 0.0, 1.0, out=x)
        x *= np.float32(255.0)
        x += np.float32(0.5)
        return np.floor(x, out=x).astype(np.uint8)

    def labels_to_uint8(self, b: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Stored ``(k, 1, W, H)`` labels -> upright uint8 ``(k, H, W)``, checking they are integers 0..6."""
        lab = np.asarray(b)[:, 0].transpose(0, 2, 1)
        out = np.rint(lab).astype(np.int64) if lab.dtype.kind == "f" else lab.astype(np.int64)
        bad = (out < 0) | (out >= NUM_LABELS)
        if lab.dtype.kind == "f":
            bad |= ~np.isfinite(lab) | (np.abs(lab - out) > 1e-3)
        if bad.any():
            k = int(np.flatnonzero(bad.reshape(bad.shape[0], -1).any(1))[0])
            row = k if rows is None else int(rows[k])
            raise DatasetFormatError(
                f"{self.path}: /b_ row {row}: expected integer labels 0..{NUM_LABELS - 1}, "
                f"got {lab[k][bad[k]][0]}"
            )
        return out.astype(np.uint8)


# ------------------------------------------------------------------------------------------------------------
# Dataset
# ------------------------------------------------------------------------------------------------------------


def _optional_features(root: Path, n: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    hn2_path = root / HN2_PATH
    if hn2_path.is_file():
        hn2 = np.asarray(load_mat(hn2_path, ["hn2"])["hn2"])
        if hn2.shape != (n, 100):
            raise DatasetFormatError(
                f"{hn2_path}: variable 'hn2': expected shape ({n}, 100), got {hn2.shape}"
            )
        out["hn2"] = hn2.astype(np.float32)
    sr_path = root / SR1_8_PATH
    if sr_path.is_file():
        d = np.asarray(load_mat(sr_path, ["d"])["d"])
        if d.shape != (8, 8, 4, n):
            raise DatasetFormatError(
                f"{sr_path}: variable 'd': expected MATLAB shape (8, 8, 4, {n}), got {d.shape}"
            )
        # MATLAB (H, W, C, N) -> (N, C, H, W), as the official permute(4, 3, 1, 2).
        out["sr1_8"] = np.ascontiguousarray(d.transpose(3, 2, 0, 1), dtype=np.float32)
    return out


class OfficialFashionGAN(torch.utils.data.Dataset):
    """The official release under ``root``, following the sample contract of :mod:`fashion_gan.data.contract`.

    Args:
        root: the ``data_release`` folder (``benchmark/``, ``supervision_signals/``, optional
            ``test_phase_inputs/``).
        split: ``"train"`` (70,000 images in the release) or ``"test"`` (8,979).
        cache: a folder written by :func:`fashion_gan.data.cache.prepare_cache`; when given, images and labels
            come from its uint8 memory maps and ``G2.h5`` is not needed.

    Items carry ``"hn2"`` float32 ``(100,)`` when ``test_phase_inputs/encode_hn2_rnn_100_2_full.mat`` exists
    and ``"sr1_8"`` float32 ``(4, 8, 8)`` (channels hair, face, rest, background) when ``sr1_8.mat`` exists.
    The wearer attributes other than gender are unknown in the release: ``-1.0``.

    Attributes:
        split, image_size, metadata (:class:`OfficialMetadata`), rows (global 0-based rows of the split).
        redress_pairs: int64 ``(N,)`` (test split): ``test_set_pair_ind`` as positions within the split.

    Examples:
        >>> ds = OfficialFashionGAN("data_release", split="test")  # doctest: +SKIP
        >>> ds[0]["image"].shape, len(ds)  # doctest: +SKIP
        (torch.Size([3, 128, 128]), 8979)
    """

    def __init__(
        self, root: str | os.PathLike, *, split: str = "train", cache: str | os.PathLike | None = None
    ):
        if split not in ("train", "test"):
            raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root: expected a path, got {type(root).__name__}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetFormatError(
                f"{self.root}: folder not found; expected the official data_release folder"
            )
        self.split = split
        self.metadata = load_metadata(self.root)
        n = self.metadata.num_images
        self.rows = self.metadata.train if split == "train" else self.metadata.test
        features = _optional_features(self.root, n)
        self._features = {k: v[self.rows] for k, v in features.items()}
        self._reader: G2Reader | None = None
        self._cache = None
        if cache is not None:
            from fashion_gan.data.cache import open_cache  # cache.py builds on this module

            self._cache = open_cache(cache, num_images=n)
            self.image_size = self._cache.image_size
        else:
            self._reader = G2Reader(self.root / G2_PATH, num_images=n)
            self.image_size = self._reader.image_size
        self.cache = None if cache is None else Path(cache)

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    def __repr__(self) -> str:
        source = f"cache={str(self.cache)!r}" if self.cache is not None else "G2.h5 streaming"
        return f"OfficialFashionGAN({str(self.root)!r}, split={self.split!r}, {source}, {len(self)} images)"

    @property
    def redress_pairs(self) -> torch.Tensor:
        """``test_set_pair_ind`` as positions within the test split (a derangement in the release)."""
        if self.split != "test":
            raise ValueError(
                "redress_pairs: expected the test split (the release pairs only test images), got train"
            )
        return torch.from_numpy(self.metadata.test_pairs.copy())

    def read_images(self, indices: Any) -> tuple[np.ndarray, np.ndarray]:
        """uint8 images ``(k, 3, S, S)`` and labels ``(k, S, S)`` of split positions ``indices``."""
        rows = self.rows[check_indices("indices", indices, len(self))]
        if self._cache is not None:
            return self._cache.read(rows)
        return self._reader.read(rows)

    def get_batch(self, indices: Any) -> dict[str, Any]:
        """Read and collate split positions ``indices`` (any order, repeats allowed) in one pass."""
        idx = check_indices("indices", indices, len(self))
        rows = self.rows[idx]
        images, labels = self._cache.read(rows) if self._cache is not None else self._reader.read(rows)
        meta = self.metadata
        gender = meta.gender[rows]
        wearer = np.full((idx.size, 7), UNKNOWN_ATTRIBUTE, np.float32)
        wearer[:, 0] = gender
        batch = {
            "image": torch.from_numpy(images),
            "labels": torch.from_numpy(labels),
            "word_ids": torch.from_numpy(meta.word_ids[rows].astype(np.int64)),
            "length": torch.from_numpy(meta.lengths[rows]),
            "sentence": [meta.sentences[r] for r in rows],
            "category": torch.from_numpy(meta.category[rows]),
            "color": torch.from_numpy(meta.color[rows]),
            "sleeve": torch.from_numpy(meta.sleeve[rows]),
            "gender": torch.from_numpy(gender),
            "wearer": torch.from_numpy(wearer),
            "index": torch.from_numpy(idx.copy()),
        }
        for key, values in self._features.items():
            batch[key] = torch.from_numpy(values[idx])
        return batch

    def __getitem__(self, index: int) -> dict[str, Any]:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index: expected an int, got {type(index).__name__}")
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index: expected an int in [{-n}, {n - 1}], got {index}")
        return uncollate(self.get_batch([int(index) % n]))[0]

    def __getitems__(self, indices: list[int]) -> list[dict[str, Any]]:
        """Batched fetch used by ``torch.utils.data.DataLoader``: one sorted read per batch."""
        return uncollate(self.get_batch(indices))
