"""One-time conversion of the official ``G2.h5`` into a compact uint8 cache.

``G2.h5`` stores float32 mean-subtracted images with transposed axes (15.5 GB for 78,979 images). The cache
holds the same pictures as upright uint8, a quarter of the size, as two ``.npy`` files that are memory-mapped:

=================  ========================  ==============================================
file               content                   size for the release
=================  ========================  ==============================================
``images.npy``     uint8 ``(N, 3, S, S)``    3.9 GB
``labels.npy``     uint8 ``(N, S, S)``       1.3 GB
``meta.json``      format, shapes, source    written last: its presence marks a complete cache
=================  ========================  ==============================================

Rows are the global rows of ``G2.h5`` (both splits), so one cache serves ``split="train"`` and ``"test"``.
Files are written under temporary names and renamed into place, so an interrupted run never leaves a cache
that looks complete.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from condgan._checks import check_positive_int
from fashion_gan.data.release import G2_PATH, DatasetFormatError, G2Reader, load_metadata

__all__ = ["CACHE_FORMAT", "CACHE_VERSION", "UInt8Cache", "open_cache", "prepare_cache"]

CACHE_FORMAT = "fashion_gan.uint8_cache"
CACHE_VERSION = 1
_IMAGES, _LABELS, _META = "images.npy", "labels.npy", "meta.json"


@dataclass
class UInt8Cache:
    """Memory-mapped uint8 images ``(N, 3, S, S)`` and labels ``(N, S, S)`` (opened lazily per process)."""

    path: Path
    num_images: int
    image_size: int
    meta: dict[str, Any]
    _arrays: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _pid: int | None = field(default=None, repr=False)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The two memory maps ``(images, labels)``."""
        if self._arrays is None or self._pid != os.getpid():
            self._arrays = (_load(self.path / _IMAGES), _load(self.path / _LABELS))
            self._pid = os.getpid()
        return self._arrays

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_arrays"], state["_pid"] = None, None  # never pickle the maps; reopen in the worker
        return state

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Images ``(k, 3, S, S)`` and labels ``(k, S, S)`` of global 0-based ``rows`` (any order)."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if rows.size and (rows.min() < 0 or rows.max() >= self.num_images):
            raise IndexError(
                f"rows: expected rows in [0, {self.num_images - 1}], got {rows.min()}..{rows.max()}"
            )
        images, labels = self.arrays()
        unique, inverse = np.unique(rows, return_inverse=True)  # sorted reads touch the pages in file order
        return images[unique][inverse], labels[unique][inverse]


def _load(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DatasetFormatError(f"{path}: file not found; expected a cache written by prepare_cache")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as err:
        raise DatasetFormatError(
            f"{path}: cannot memory-map ({err}); the cache file may be truncated"
        ) from err


def open_cache(path: str | os.PathLike, *, num_images: int | None = None) -> UInt8Cache:
    """Open and check a cache folder written by [`prepare_cache`][fashion_gan.data.prepare_cache].

    Args:
        path: the cache folder.
        num_images: expected ``N`` (the rows of ``language_original.mat``); ``None`` skips the check.

    Raises:
        DatasetFormatError: the folder, ``meta.json`` or an array is missing, truncated or of the wrong shape.
    """
    path = Path(path)
    meta_path = path / _META
    if not meta_path.is_file():
        raise DatasetFormatError(
            f"{meta_path}: file not found; expected a complete cache written by "
            f"prepare_cache(root, {str(path)!r})"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DatasetFormatError(f"{meta_path}: cannot read the cache description ({err})") from err
    if (
        not isinstance(meta, dict)
        or meta.get("format") != CACHE_FORMAT
        or meta.get("version") != CACHE_VERSION
    ):
        raise DatasetFormatError(
            f"{meta_path}: expected format {CACHE_FORMAT!r} version {CACHE_VERSION}, "
            f"got {meta.get('format') if isinstance(meta, dict) else meta!r} "
            f"version {meta.get('version') if isinstance(meta, dict) else None}"
        )
    n, s = int(meta["num_images"]), int(meta["image_size"])
    if num_images is not None and n != num_images:
        raise DatasetFormatError(
            f"{meta_path}: expected {num_images} images (language_original.mat), got {n}"
        )
    images, labels = _load(path / _IMAGES), _load(path / _LABELS)
    for name, arr, shape in ((_IMAGES, images, (n, 3, s, s)), (_LABELS, labels, (n, s, s))):
        if arr.dtype != np.uint8 or arr.shape != shape:
            raise DatasetFormatError(f"{path / name}: expected uint8 {shape}, got {arr.dtype} {arr.shape}")
    cache = UInt8Cache(path=path, num_images=n, image_size=s, meta=meta)
    cache._arrays, cache._pid = (images, labels), os.getpid()
    return cache


def _source_stamp(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def prepare_cache(
    root: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    batch_size: int = 256,
    overwrite: bool = False,
    progress: bool = False,
) -> Path:
    """Convert ``root/supervision_signals/G2.h5`` into a uint8 cache in ``out_dir`` (once).

    Reads ``G2.h5`` in contiguous batches of ``batch_size`` rows, writes upright uint8 images
    ``round(255 * clip(ih + ih_mean, 0, 1))`` and labels sequentially into temporary ``.npy`` files (memory
    stays bounded by one batch), then renames them into place and writes ``meta.json`` last. A complete cache
    of the same source file is reused unless ``overwrite``.

    Args:
        root: the official ``data_release`` folder.
        out_dir: the cache folder (created).
        batch_size: rows per read.
        overwrite: rebuild even when a complete cache of the same ``G2.h5`` exists.
        progress: show a tqdm progress bar.

    Returns:
        ``out_dir`` as a ``pathlib.Path``.

    Examples:
        >>> prepare_cache("data_release", "cache/fashiongan")  # doctest: +SKIP
        PosixPath('cache/fashiongan')
    """
    check_positive_int("batch_size", batch_size)
    root, out_dir = Path(root), Path(out_dir)
    n = load_metadata(root).num_images
    reader = G2Reader(root / G2_PATH, num_images=n)
    stamp = _source_stamp(reader.path)
    meta_path = out_dir / _META
    if not overwrite and meta_path.is_file():
        try:
            existing = open_cache(out_dir, num_images=n)
            if existing.meta.get("source") == stamp:
                return out_dir
        except DatasetFormatError:
            pass  # incomplete or stale: rebuild
    out_dir.mkdir(parents=True, exist_ok=True)
    s = reader.image_size
    tag = f".tmp-{os.getpid()}"
    tmp_images, tmp_labels = out_dir / (_IMAGES + tag), out_dir / (_LABELS + tag)
    try:
        # Plain sequential writes (not memory maps, whose written pages would count as resident memory):
        # memory stays bounded by one batch.
        with open(tmp_images, "wb") as f_images, open(tmp_labels, "wb") as f_labels:
            for f, shape in ((f_images, (n, 3, s, s)), (f_labels, (n, s, s))):
                header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False}
                np.lib.format.write_array_header_1_0(f, dict(header, shape=shape))
            starts = range(0, n, batch_size)
            if progress:
                from tqdm import tqdm

                starts = tqdm(starts, desc="G2.h5 -> uint8 cache", unit="batch")
            for start in starts:
                images, labels = reader.read(np.arange(start, min(start + batch_size, n)))
                f_images.write(np.ascontiguousarray(images).tobytes())
                f_labels.write(np.ascontiguousarray(labels).tobytes())
            for f in (f_images, f_labels):
                f.flush()
                os.fsync(f.fileno())
        meta_path.unlink(missing_ok=True)  # the old cache stops looking complete before its files change
        os.replace(tmp_images, out_dir / _IMAGES)
        os.replace(tmp_labels, out_dir / _LABELS)
        meta = {
            "format": CACHE_FORMAT,
            "version": CACHE_VERSION,
            "num_images": n,
            "image_size": s,
            "images": f"uint8 (N, 3, {s}, {s}) upright RGB = clip(ih + ih_mean, 0, 1) * 255, rounded",
            "labels": f"uint8 (N, {s}, {s}) official ids 0..6, upright",
            "source": stamp,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        tmp_meta = out_dir / (_META + tag)
        tmp_meta.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        os.replace(tmp_meta, meta_path)
    finally:
        reader.close()
        for tmp in (tmp_images, tmp_labels, out_dir / (_META + tag)):
            tmp.unlink(missing_ok=True)
    return out_dir
