"""Write a synthetic train/test pair in the official on-disk layout, so the real loader runs on known truth.

[`export_official_layout`][fashion_gan.data.export.export_official_layout] produces exactly what the official
release holds:

- ``benchmark/ind.mat``: ``train_ind``, ``test_ind``, ``test_set_pair_ind`` (int32, 1-based, (N, 1));
- ``benchmark/language_original.mat``: ``engJ``, ``codeJ`` (cells of 1-based uint8/uint16 columns),
  ``cate_new``, ``color_``, ``sleeve_`` (1-based), ``gender_`` (0-based), ``nameList``, ``img_root``;
- ``supervision_signals/G2.h5``: ``/ih`` ``(N, 3, W, H)`` mean-subtracted images with the LAST TWO AXES
  TRANSPOSED, ``/ih_mean`` ``(3, W, H)`` transposed likewise, ``/b_`` ``(N, 1, W, H)`` transposed labels,
  all float32.

Train and test rows are interleaved (a seeded choice of test rows, each list sorted), as in the release, so
the loader's mapping between global rows and split positions is exercised.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from condgan._checks import check_choice, check_positive_int
from fashion_gan.data.contract import CATEGORY_NAMES
from fashion_gan.data.release import G2_PATH, IND_PATH, LANGUAGE_PATH

__all__ = ["export_official_layout"]

_DTYPES = {"float32": np.float32, "float64": np.float64}


def _check_dataset(name: str, ds: Any) -> None:
    for attr in ("get_batch", "image_size", "__len__"):
        if not hasattr(ds, attr):
            raise TypeError(
                f"{name}: expected a dataset with get_batch, image_size and __len__, got {type(ds).__name__}"
            )


def _cells(values: list) -> np.ndarray:
    """A MATLAB cell column ``(N, 1)`` of ``values`` (what ``scipy.io.savemat`` writes as a cell array)."""
    out = np.empty((len(values), 1), dtype=object)
    for i, v in enumerate(values):
        out[i, 0] = v
    return out


def export_official_layout(
    dataset_train: Any,
    dataset_test: Any,
    root: str | os.PathLike,
    *,
    dtype: str = "float32",
    mean_samples: int = 1000,
    batch_size: int = 256,
    seed: int = 0,
    interleave: bool = True,
    progress: bool = False,
) -> dict[str, Path]:
    """Write ``dataset_train`` + ``dataset_test`` under ``root`` in the official layout.

    Args:
        dataset_train: a dataset with ``get_batch`` (e.g. ``SyntheticMannequins(split="train")``).
        dataset_test: the test split; its ``redress_pairs`` become ``test_set_pair_ind``.
        root: the output ``data_release`` folder (created).
        dtype: ``"float32"`` (as the release) or ``"float64"`` for ``/ih``, ``/ih_mean`` and ``/b_``.
        mean_samples: ``ih_mean`` is the mean of the first ``mean_samples`` training images (any mean
            round-trips; the release's is the dataset mean).
        batch_size: samples drawn and written at a time (memory stays bounded by one batch).
        seed: which global rows hold test images.
        interleave: mix train and test rows (``False``: train rows first).
        progress: show a tqdm progress bar.

    Returns:
        ``{"ind": ..., "language": ..., "g2": ...}`` paths written.

    Examples:
        >>> import tempfile
        >>> from fashion_gan.data.synthetic import SyntheticMannequins
        >>> from fashion_gan.data.official import OfficialFashionGAN
        >>> kw = dict(image_size=32, num_train=6, num_test=3)
        >>> root = tempfile.mkdtemp()
        >>> paths = export_official_layout(SyntheticMannequins(split="train", **kw),
        ...                                SyntheticMannequins(split="test", **kw), root)
        >>> sorted(paths)
        ['g2', 'ind', 'language']
        >>> real = OfficialFashionGAN(root, split="test")
        >>> real[1]["sentence"] == SyntheticMannequins(split="test", **kw)[1]["sentence"]
        True
    """
    _check_dataset("dataset_train", dataset_train)
    _check_dataset("dataset_test", dataset_test)
    check_choice("dtype", dtype, tuple(_DTYPES))
    check_positive_int("mean_samples", mean_samples)
    check_positive_int("batch_size", batch_size)
    s = dataset_train.image_size
    if dataset_test.image_size != s:
        raise ValueError(
            f"dataset_test: expected image_size {s} like dataset_train, got {dataset_test.image_size}"
        )
    n_test = len(dataset_test)
    pairs = np.asarray(dataset_test.redress_pairs, dtype=np.int64)
    if pairs.shape != (n_test,) or not np.array_equal(np.sort(pairs), np.arange(n_test)):
        raise ValueError(
            f"dataset_test.redress_pairs: expected a permutation of range({n_test}), got {pairs.shape}"
        )
    test_rows = _test_rows(len(dataset_train), n_test, seed, interleave)
    root = Path(root)
    for rel in (IND_PATH, LANGUAGE_PATH, G2_PATH):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    mean = _mean_image(dataset_train, min(mean_samples, len(dataset_train)), batch_size)
    text = _write_g2(
        root / G2_PATH, (dataset_train, dataset_test), test_rows, mean, _DTYPES[dtype], batch_size, progress
    )
    n = len(text.sentences)
    train_rows = np.setdiff1d(np.arange(n), test_rows)
    ind = {
        "train_ind": (train_rows + 1).astype(np.int32).reshape(-1, 1),
        "test_ind": (test_rows + 1).astype(np.int32).reshape(-1, 1),
        "test_set_pair_ind": (test_rows[pairs] + 1).astype(np.int32).reshape(-1, 1),
    }
    _save_mat(root / LANGUAGE_PATH, text.language_variables())
    _save_mat(root / IND_PATH, ind)
    return {"ind": root / IND_PATH, "language": root / LANGUAGE_PATH, "g2": root / G2_PATH}


def _test_rows(n_train: int, n_test: int, seed: int, interleave: bool) -> np.ndarray:
    """The sorted global rows that hold test people: a seeded choice, or the last ``n_test`` rows."""
    n = n_train + n_test
    if interleave:
        return np.sort(np.random.default_rng([seed, 0xE0]).choice(n, size=n_test, replace=False))
    return np.arange(n_train, n)


def _mean_image(dataset: Any, m: int, batch_size: int) -> np.ndarray:
    """Upright float32 ``(3, S, S)`` mean in ``[0, 1]`` of the first ``m`` pictures of ``dataset``."""
    s = dataset.image_size
    total = np.zeros((3, s, s), np.float64)
    for start in range(0, m, batch_size):
        total += dataset.get_batch(np.arange(start, min(start + batch_size, m)))["image"].numpy().sum(0)
    return (total / (255.0 * m)).astype(np.float32)


class _Text:
    """Per global row: the sentence, the word ids and the attributes, in ``language_original.mat``'s terms."""

    def __init__(self, n: int) -> None:
        self.sentences: list[str] = [""] * n
        self.codes: list[np.ndarray] = [np.zeros((0, 1), np.uint8)] * n
        self.cate, self.color, self.sleeve, self.gender = (np.zeros((n, 1), np.uint8) for _ in range(4))

    def fill(self, rows: np.ndarray, batch: dict[str, Any]) -> None:
        """Store the collated ``batch`` as the global ``rows`` (1-based classes, 0-based gender)."""
        ids, lengths = batch["word_ids"].numpy(), batch["length"].numpy()
        for j, row in enumerate(rows):
            self.sentences[row] = batch["sentence"][j]
            word_ids = ids[j, : lengths[j]].reshape(-1, 1)
            self.codes[row] = word_ids.astype(np.uint8 if word_ids.max() <= 255 else np.uint16)
        self.cate[rows, 0] = batch["category"].numpy() + 1
        self.color[rows, 0] = batch["color"].numpy() + 1
        self.sleeve[rows, 0] = batch["sleeve"].numpy() + 1
        self.gender[rows, 0] = batch["gender"].numpy()

    def language_variables(self) -> dict[str, np.ndarray]:
        """The variables of ``language_original.mat``."""
        names = [
            f"img/Synthetic_{CATEGORY_NAMES[int(c) - 1].title()}/img_{row + 1:08d}.jpg"
            for row, c in enumerate(self.cate[:, 0])
        ]
        return {
            "engJ": _cells(self.sentences),
            "codeJ": _cells(self.codes),
            "cate_new": self.cate,
            "color_": self.color,
            "sleeve_": self.sleeve,
            "gender_": self.gender,
            "nameList": _cells(names),
            "img_root": np.array(["synthetic://fashion_gan.data.synthetic/"]),
        }


def _write_g2(
    path: Path,
    datasets: tuple[Any, Any],
    test_rows: np.ndarray,
    mean: np.ndarray,
    np_dtype: type,
    batch_size: int,
    progress: bool,
) -> _Text:
    """Write ``G2.h5`` (atomically) from the train and test datasets; return the rows' text and attributes.

    Global rows are written in contiguous blocks (one HDF5 hyperslab each); each block gathers its train and
    test people from the two datasets.
    """
    import h5py

    n, s = len(datasets[0]) + len(datasets[1]), datasets[0].image_size
    is_test = np.zeros(n, bool)
    is_test[test_rows] = True
    position = np.where(is_test, np.cumsum(is_test) - 1, np.cumsum(~is_test) - 1)  # index within its split
    text = _Text(n)
    starts = range(0, n, batch_size)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="export", unit="batch")
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    try:
        with h5py.File(tmp, "w") as f:
            ih = f.create_dataset("ih", shape=(n, 3, s, s), dtype=np_dtype)
            b_ = f.create_dataset("b_", shape=(n, 1, s, s), dtype=np_dtype)
            # Stored transposed, as the release: (3, W, H).
            f.create_dataset("ih_mean", data=mean.transpose(0, 2, 1).astype(np_dtype))
            for start in starts:
                rows = np.arange(start, min(start + batch_size, n))
                images = np.empty((rows.size, 3, s, s), np.uint8)
                labels = np.empty((rows.size, s, s), np.uint8)
                for ds, mask in zip(datasets, (~is_test[rows], is_test[rows]), strict=True):
                    if mask.any():
                        batch = ds.get_batch(position[rows[mask]])
                        images[mask], labels[mask] = batch["image"].numpy(), batch["labels"].numpy()
                        text.fill(rows[mask], batch)
                block = slice(int(rows[0]), int(rows[-1]) + 1)
                ih[block] = (
                    (images.astype(np.float32) / np.float32(255.0) - mean)
                    .transpose(0, 1, 3, 2)
                    .astype(np_dtype)
                )
                b_[block] = labels[:, None].transpose(0, 1, 3, 2).astype(np_dtype)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return text


def _save_mat(path: Path, data: dict[str, np.ndarray]) -> None:
    """``scipy.io.savemat`` to a temporary name, then renamed into place."""
    import scipy.io

    tmp = path.with_name(path.stem + f".tmp-{os.getpid()}.mat")
    try:
        scipy.io.savemat(tmp, data, do_compression=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
