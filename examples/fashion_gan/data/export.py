"""Write a synthetic train/test pair in the official on-disk layout, so the real loader runs on known truth.

:func:`export_official_layout` produces exactly what the official release holds (reference sections 1.2-1.5):

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

from fashion_gan.data.contract import CATEGORY_NAMES
from fashion_gan.data.official import G2_PATH, IND_PATH, LANGUAGE_PATH

__all__ = ["export_official_layout"]

_DTYPES = {"float32": np.float32, "float64": np.float64}


def _check_dataset(name: str, ds: Any) -> None:
    for attr in ("get_batch", "image_size", "__len__"):
        if not hasattr(ds, attr):
            raise TypeError(
                f"{name}: expected a dataset with get_batch, image_size and __len__, got {type(ds).__name__}"
            )


def _cells(values: list) -> np.ndarray:
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
    import h5py
    import scipy.io

    _check_dataset("dataset_train", dataset_train)
    _check_dataset("dataset_test", dataset_test)
    if dtype not in _DTYPES:
        raise ValueError(f"dtype: expected one of {tuple(_DTYPES)}, got {dtype!r}")
    for name, value in (("mean_samples", mean_samples), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name}: expected a positive int, got {value!r}")
    s = dataset_train.image_size
    if dataset_test.image_size != s:
        raise ValueError(
            f"dataset_test: expected image_size {s} like dataset_train, got {dataset_test.image_size}"
        )
    n_train, n_test = len(dataset_train), len(dataset_test)
    n = n_train + n_test
    pairs = np.asarray(dataset_test.redress_pairs, dtype=np.int64)
    if pairs.shape != (n_test,) or not np.array_equal(np.sort(pairs), np.arange(n_test)):
        raise ValueError(
            f"dataset_test.redress_pairs: expected a permutation of range({n_test}), got {pairs.shape}"
        )

    if interleave:
        test_rows = np.sort(np.random.default_rng([seed, 0xE0]).choice(n, size=n_test, replace=False))
    else:
        test_rows = np.arange(n_train, n)
    train_rows = np.setdiff1d(np.arange(n), test_rows)

    root = Path(root)
    for rel in (IND_PATH, LANGUAGE_PATH, G2_PATH):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    np_dtype = _DTYPES[dtype]

    # Mean image (upright, float64) from the first training images.
    m = min(mean_samples, n_train)
    total = np.zeros((3, s, s), np.float64)
    for start in range(0, m, batch_size):
        total += dataset_train.get_batch(np.arange(start, min(start + batch_size, m)))["image"].numpy().sum(0)
    mean = (total / (255.0 * m)).astype(np.float32)

    # Per-row text and attributes, filled while the pictures are written.
    sentences: list[str] = [""] * n
    codes: list[np.ndarray] = [np.zeros((0, 1), np.uint8)] * n
    cate, color, sleeve, gender = (np.zeros((n, 1), np.uint8) for _ in range(4))

    g2_path = root / G2_PATH
    tmp_g2 = g2_path.with_name(g2_path.name + f".tmp-{os.getpid()}")
    # Global rows are written in contiguous blocks (one HDF5 hyperslab each); each block gathers its train and
    # test people from the two datasets.
    is_test = np.zeros(n, bool)
    is_test[test_rows] = True
    position = np.where(is_test, np.cumsum(is_test) - 1, np.cumsum(~is_test) - 1)  # index within its split
    starts = range(0, n, batch_size)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="export", unit="batch")
    try:
        with h5py.File(tmp_g2, "w") as f:
            ih = f.create_dataset("ih", shape=(n, 3, s, s), dtype=np_dtype)
            b_ = f.create_dataset("b_", shape=(n, 1, s, s), dtype=np_dtype)
            # Stored transposed, as the release: (3, W, H).
            f.create_dataset("ih_mean", data=mean.transpose(0, 2, 1).astype(np_dtype))
            for start in starts:
                rows = np.arange(start, min(start + batch_size, n))
                block_images = np.empty((rows.size, 3, s, s), np.uint8)
                block_labels = np.empty((rows.size, s, s), np.uint8)
                for ds, mask in ((dataset_train, ~is_test[rows]), (dataset_test, is_test[rows])):
                    if not mask.any():
                        continue
                    batch = ds.get_batch(position[rows[mask]])
                    block_images[mask], block_labels[mask] = batch["image"].numpy(), batch["labels"].numpy()
                    ids, lengths = batch["word_ids"].numpy(), batch["length"].numpy()
                    for j, row in enumerate(rows[mask]):
                        sentences[row] = batch["sentence"][j]
                        word_ids = ids[j, : lengths[j]].reshape(-1, 1)
                        codes[row] = word_ids.astype(np.uint8 if word_ids.max() <= 255 else np.uint16)
                    target = rows[mask]
                    cate[target, 0] = batch["category"].numpy() + 1
                    color[target, 0] = batch["color"].numpy() + 1
                    sleeve[target, 0] = batch["sleeve"].numpy() + 1
                    gender[target, 0] = batch["gender"].numpy()
                images = block_images.astype(np.float32) / np.float32(255.0) - mean
                block = slice(int(rows[0]), int(rows[-1]) + 1)
                ih[block] = images.transpose(0, 1, 3, 2).astype(np_dtype)
                b_[block] = block_labels[:, None].transpose(0, 1, 3, 2).astype(np_dtype)
        os.replace(tmp_g2, g2_path)
    finally:
        tmp_g2.unlink(missing_ok=True)

    names = [
        f"img/Synthetic_{CATEGORY_NAMES[int(c) - 1].title()}/img_{row + 1:08d}.jpg"
        for row, c in enumerate(cate[:, 0])
    ]
    language = {
        "engJ": _cells(sentences),
        "codeJ": _cells(codes),
        "cate_new": cate,
        "color_": color,
        "sleeve_": sleeve,
        "gender_": gender,
        "nameList": _cells(names),
        "img_root": np.array(["synthetic://fashion_gan.data.synthetic/"]),
    }
    ind = {
        "train_ind": (train_rows + 1).astype(np.int32).reshape(-1, 1),
        "test_ind": (test_rows + 1).astype(np.int32).reshape(-1, 1),
        "test_set_pair_ind": (test_rows[pairs] + 1).astype(np.int32).reshape(-1, 1),
    }
    out = {"ind": root / IND_PATH, "language": root / LANGUAGE_PATH, "g2": g2_path}
    for key, data in (("language", language), ("ind", ind)):
        tmp = out[key].with_name(out[key].stem + f".tmp-{os.getpid()}.mat")
        try:
            scipy.io.savemat(tmp, data, do_compression=False)
            os.replace(tmp, out[key])
        finally:
            tmp.unlink(missing_ok=True)
    return out
