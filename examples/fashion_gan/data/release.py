"""The official FashionGAN release's files: where they are, what they hold, and their readers.

Layout under ``root``, the release's ``data_release`` folder::

    benchmark/ind.mat                               train_ind, test_ind, test_set_pair_ind (1-based)
    benchmark/language_original.mat                 engJ, codeJ (1-based), cate_new, color_, sleeve_
                                                    (1-based), gender_ (0-based), nameList
    supervision_signals/G2.h5                       /ih (N, 3, W, H) mean-subtracted, /ih_mean (3, W, H),
                                                    /b_ (N, 1, W, H) labels 0..6; the last two axes TRANSPOSED
    test_phase_inputs/encode_hn2_rnn_100_2_full.mat optional: hn2 (N, 100), the official text codes
    test_phase_inputs/sr1_8.mat                     optional: d (8, 8, 4, N), the official 8x8 constraint

Conventions handled here: the official Lua code permutes the last two axes of ``ih``, ``ih_mean`` and ``b_``
when it reads them (they are stored ``(W, H)``), so they are transposed back and images come out upright;
images are ``clip(ih + ih_mean, 0, 1)`` turned into uint8; every index and label is 1-based except
``gender_``; the redress pairs of the test split are mapped from global 1-based rows to positions within the
split.

Memory: ``G2.h5`` (15.5 GB in float32) is never loaded; [`G2Reader`][fashion_gan.data.release.G2Reader]
reads the rows a batch needs with h5py (the file is opened lazily, once per worker process, and rows are read
as sorted lists).

Every problem with the files (missing file or variable, wrong shape, truncated or corrupt file, out-of-range
values) raises [`DatasetFormatError`][fashion_gan.data.release.DatasetFormatError] naming the path, what was
expected and what was found.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from fashion_gan.data.contract import (
    CATEGORY_NAMES,
    COLOR_NAMES,
    GENDER_NAMES,
    MAX_WORDS,
    NUM_LABELS,
    SLEEVE_NAMES,
    official_vocabulary,
)

__all__ = [
    "DatasetFormatError",
    "IND_PATH",
    "LANGUAGE_PATH",
    "G2_PATH",
    "HN2_PATH",
    "SR1_8_PATH",
    "load_mat",
    "LanguageFile",
    "SplitFile",
    "OfficialMetadata",
    "read_language",
    "read_split",
    "load_metadata",
    "load_features",
    "ImageReader",
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


def load_mat(
    path: str | os.PathLike, keys: Sequence[str], *, optional: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    """Read variables ``keys`` of a MATLAB file (v5/v7 with scipy; numeric variables of v7.3 with h5py).

    Arrays keep MATLAB's index order (a v7.3 array is transposed back from HDF5's reversed order). Variables
    named in ``optional`` are read too when the file has them, and left out of the result otherwise.

    Raises:
        DatasetFormatError: the file is missing, unreadable, or lacks one of ``keys``.

    Examples:
        >>> import tempfile, scipy.io
        >>> path = tempfile.mkdtemp() + "/x.mat"
        >>> scipy.io.savemat(path, {"a": np.arange(3)})
        >>> load_mat(path, ["a"])["a"].tolist()
        [[0, 1, 2]]
    """
    for name, names in (("keys", keys), ("optional", optional)):
        if isinstance(names, str) or not all(isinstance(k, str) for k in names):
            raise TypeError(f"{name}: expected a sequence of variable names, got {type(names).__name__}")
    extra = [k for k in optional if k not in keys]
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
                for key in (*keys, *(k for k in extra if k in f)):
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
        data = scipy.io.loadmat(path, variable_names=[*keys, *extra])
    except Exception as err:  # truncated/corrupt files raise ValueError, OSError, MatReadError, ...
        raise DatasetFormatError(
            f"{path}: cannot read the MATLAB file ({type(err).__name__}: {err})"
        ) from err
    for key in keys:
        if key not in data:
            found = [k for k in data if not k.startswith("__")]
            raise DatasetFormatError(f"{path}: missing variable {key!r}; found {found}")
        out[key] = data[key]
    out.update({key: data[key] for key in extra if key in data})
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
# Metadata: language_original.mat and ind.mat
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageFile:
    """Parsed ``language_original.mat``: one entry per global row, classes 0-based.

    Attributes:
        sentences: ``engJ`` (N strings).
        word_ids: int16 ``(N, MAX_WORDS)`` official 1-based ids, 0-padded (``codeJ``).
        lengths: int64 ``(N,)``.
        category, color, sleeve: int64 ``(N,)``, 0-based (``cate_new - 1`` etc.).
        gender: int64 ``(N,)`` (``gender_``, already 0-based).
        names: ``nameList`` (N strings), or ``None`` when the file has none and it was not required.
    """

    sentences: list[str]
    word_ids: np.ndarray
    lengths: np.ndarray
    category: np.ndarray
    color: np.ndarray
    sleeve: np.ndarray
    gender: np.ndarray
    names: list[str] | None

    @property
    def num_images(self) -> int:
        return len(self.sentences)


@dataclass(frozen=True)
class SplitFile:
    """Parsed ``ind.mat``: 0-based global rows.

    Attributes:
        train, test: int64 global 0-based rows of each split (``train_ind - 1``, ``test_ind - 1``).
        test_pairs: int64 ``(len(test),)``: position within the test split of the sentence that redresses
            test person ``i`` (``test_set_pair_ind`` mapped into the split), or ``None`` when the file has
            none and it was not required.
    """

    train: np.ndarray
    test: np.ndarray
    test_pairs: np.ndarray | None


@dataclass(frozen=True)
class OfficialMetadata(LanguageFile):
    """Parsed ``language_original.mat`` and ``ind.mat``: 0-based classes, 0-based global rows.

    Attributes:
        sentences, word_ids, lengths, category, color, sleeve, gender, names: as in
            [`LanguageFile`][fashion_gan.data.release.LanguageFile] (``names`` always there).
        train, test: int64 global 0-based rows of each split (``train_ind - 1``, ``test_ind - 1``).
        test_pairs: int64 ``(len(test),)``: position within the test split of the sentence that redresses
            test person ``i`` (``test_set_pair_ind`` mapped into the split).
    """

    train: np.ndarray
    test: np.ndarray
    test_pairs: np.ndarray


def _word_ids(path: Path, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``codeJ`` cells -> int16 ``(N, MAX_WORDS)`` 0-padded ids and int64 ``(N,)`` lengths, checked."""
    vocab_size = len(official_vocabulary())
    word_ids = np.zeros((code.shape[0], MAX_WORDS), np.int16)
    lengths = np.zeros(code.shape[0], np.int64)
    for i, cell in enumerate(code):
        ids = np.asarray(cell).reshape(-1)
        if ids.size == 0 or ids.size > MAX_WORDS or ids.dtype.kind not in "iuf":
            raise DatasetFormatError(
                f"{path}: codeJ row {i + 1}: expected 1..{MAX_WORDS} word ids, "
                f"got {ids.size} of dtype {ids.dtype}"
            )
        if ids.min() < 1 or ids.max() > vocab_size:
            raise DatasetFormatError(
                f"{path}: codeJ row {i + 1}: expected 1-based word ids in [1, {vocab_size}], "
                f"got {ids.tolist()}"
            )
        word_ids[i, : ids.size] = ids
        lengths[i] = ids.size
    return word_ids, lengths


def read_language(path: str | os.PathLike, *, require_names: bool = True) -> LanguageFile:
    """Read and check the official ``language_original.mat`` at ``path``.

    Args:
        path: the file.
        require_names: whether ``nameList`` must be there (without it, ``names`` is ``None``).

    Raises:
        DatasetFormatError: the file is missing or unreadable, or a variable is missing or has the wrong
            shape or range.
    """
    path = Path(path)
    keys = ["engJ", "codeJ", "cate_new", "color_", "sleeve_", "gender_"]
    lang = load_mat(path, [*keys, "nameList"] if require_names else keys, optional=["nameList"])
    eng = _column(path, "engJ", lang["engJ"])
    n = eng.shape[0]
    if n == 0:
        raise DatasetFormatError(f"{path}: variable 'engJ': expected at least one sentence, got none")
    code = _column(path, "codeJ", lang["codeJ"], n)
    names = _column(path, "nameList", lang["nameList"], n) if "nameList" in lang else None
    try:
        sentences = [_cell_text(x) for x in eng]
        name_list = None if names is None else [_cell_text(x) for x in names]
    except TypeError as err:
        raise DatasetFormatError(
            f"{path}: variables 'engJ'/'nameList': expected cells of text ({err})"
        ) from err
    word_ids, lengths = _word_ids(path, code)

    def classes(key: str, low: int, high: int) -> np.ndarray:
        return _integers(path, key, _column(path, key, lang[key], n), low, high)

    return LanguageFile(
        sentences=sentences,
        word_ids=word_ids,
        lengths=lengths,
        category=classes("cate_new", 1, len(CATEGORY_NAMES)) - 1,
        color=classes("color_", 1, len(COLOR_NAMES)) - 1,
        sleeve=classes("sleeve_", 1, len(SLEEVE_NAMES)) - 1,
        gender=classes("gender_", 0, len(GENDER_NAMES) - 1),
        names=name_list,
    )


def read_split(path: str | os.PathLike, num_images: int, *, require_pairs: bool = True) -> SplitFile:
    """Read and check the official ``ind.mat`` at ``path`` for a release of ``num_images`` rows.

    Args:
        path: the file.
        num_images: ``N``, the rows of ``language_original.mat`` (the indices must lie in ``[1, N]``).
        require_pairs: whether ``test_set_pair_ind`` must be there (without it, ``test_pairs`` is ``None``).

    Raises:
        DatasetFormatError: the file is missing or unreadable, a variable is missing or out of range, the
            splits share or repeat rows, or the pairs are not a permutation of the test rows.
    """
    path, n = Path(path), num_images
    keys = ["train_ind", "test_ind"]
    ind = load_mat(
        path, [*keys, "test_set_pair_ind"] if require_pairs else keys, optional=["test_set_pair_ind"]
    )
    train = _integers(path, "train_ind", _column(path, "train_ind", ind["train_ind"]), 1, n) - 1
    test = _integers(path, "test_ind", _column(path, "test_ind", ind["test_ind"]), 1, n) - 1
    pairs = None
    if "test_set_pair_ind" in ind:
        pairs = _column(path, "test_set_pair_ind", ind["test_set_pair_ind"], test.shape[0])
        pairs = _integers(path, "test_set_pair_ind", pairs, 1, n) - 1
    if np.intersect1d(train, test).size:
        raise DatasetFormatError(f"{path}: expected disjoint train_ind and test_ind, got shared rows")
    if np.unique(train).size != train.size or np.unique(test).size != test.size:
        raise DatasetFormatError(f"{path}: expected train_ind and test_ind without repeated rows")
    if pairs is None:
        return SplitFile(train=train, test=test, test_pairs=None)
    order = np.argsort(test, kind="stable")
    pos = np.minimum(np.searchsorted(test[order], pairs), test.size - 1)
    if not np.array_equal(test[order][pos], pairs) or np.unique(pairs).size != pairs.size:
        raise DatasetFormatError(
            f"{path}: variable 'test_set_pair_ind': expected a permutation of test_ind, got other rows"
        )
    return SplitFile(train=train, test=test, test_pairs=order[pos].astype(np.int64))


def load_metadata(root: str | os.PathLike) -> OfficialMetadata:
    """Read and check ``benchmark/language_original.mat`` and ``benchmark/ind.mat`` under ``root``.

    Raises:
        DatasetFormatError: a file is missing or unreadable, or a variable has the wrong shape or range.
    """
    root = Path(root)
    lang = read_language(root / LANGUAGE_PATH)
    split = read_split(root / IND_PATH, lang.num_images)
    language = {f.name: getattr(lang, f.name) for f in fields(LanguageFile)}
    return OfficialMetadata(**language, train=split.train, test=split.test, test_pairs=split.test_pairs)


# ------------------------------------------------------------------------------------------------------------
# G2.h5 and the images protocol
# ------------------------------------------------------------------------------------------------------------


class ImageReader(Protocol):
    """Where a dataset of the release reads its pictures: ``G2Reader`` or the uint8 cache.

    ``read(rows)`` returns upright uint8 images ``(k, 3, S, S)`` and labels ``(k, S, S)`` of global 0-based
    ``rows`` (any order, repeats allowed).
    """

    num_images: int
    image_size: int

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


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
# Optional test-phase inputs
# ------------------------------------------------------------------------------------------------------------


def load_features(root: str | os.PathLike, num_images: int) -> dict[str, np.ndarray]:
    """The optional official test-phase inputs under ``root`` that exist, for all ``num_images`` rows.

    ``"hn2"`` float32 ``(N, 100)`` from ``test_phase_inputs/encode_hn2_rnn_100_2_full.mat`` (the official
    text codes) and ``"sr1_8"`` float32 ``(N, 4, 8, 8)`` from ``test_phase_inputs/sr1_8.mat`` (the official
    8x8 constraint; channels hair, face, rest, background).

    Raises:
        DatasetFormatError: a file exists but is unreadable or of the wrong shape.
    """
    root, n = Path(root), num_images
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
