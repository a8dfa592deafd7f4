"""``OfficialFashionGAN``: the official release as a dataset of the sample contract.

The release's files and their readers are in [`fashion_gan.data.release`][fashion_gan.data.release]: the
metadata (``language_original.mat``, ``ind.mat``) is read once, and the pictures come from an image reader,
the release's ``G2.h5`` ([`G2Reader`][fashion_gan.data.release.G2Reader]) or the uint8 cache that
[`prepare_cache`][fashion_gan.data.cache.prepare_cache] writes from it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from condgan._checks import check_choice
from fashion_gan.data.cache import open_cache
from fashion_gan.data.contract import UNKNOWN_ATTRIBUTE, check_index, check_indices, uncollate
from fashion_gan.data.release import (
    G2_PATH,
    DatasetFormatError,
    G2Reader,
    ImageReader,
    load_features,
    load_metadata,
)

# The release's paths, error and readers, importable from here as before they had a module of their own.
from fashion_gan.data.release import HN2_PATH as HN2_PATH
from fashion_gan.data.release import IND_PATH as IND_PATH
from fashion_gan.data.release import LANGUAGE_PATH as LANGUAGE_PATH
from fashion_gan.data.release import SR1_8_PATH as SR1_8_PATH
from fashion_gan.data.release import OfficialMetadata as OfficialMetadata
from fashion_gan.data.release import load_mat as load_mat

__all__ = ["OfficialFashionGAN"]


class OfficialFashionGAN(torch.utils.data.Dataset):
    """The official release under ``root``, following the sample contract of [`fashion_gan.data.contract`][].

    Args:
        root: the ``data_release`` folder (``benchmark/``, ``supervision_signals/``, optional
            ``test_phase_inputs/``).
        split: ``"train"`` (70,000 images in the release) or ``"test"`` (8,979).
        cache: a folder written by [`prepare_cache`][fashion_gan.data.cache.prepare_cache]; when given,
            images and labels come from its uint8 memory maps and ``G2.h5`` is not needed.
        reader: where the images and labels come from, any
            [`ImageReader`][fashion_gan.data.release.ImageReader] of the release's global rows (instead of
            ``cache``); by default the uint8 cache when ``cache`` is given, else ``G2.h5`` under ``root``.

    Items carry ``"hn2"`` float32 ``(100,)`` when ``test_phase_inputs/encode_hn2_rnn_100_2_full.mat`` exists
    and ``"sr1_8"`` float32 ``(4, 8, 8)`` (channels hair, face, rest, background) when ``sr1_8.mat`` exists.
    The wearer attributes other than gender are unknown in the release: ``-1.0``.

    Attributes:
        split: ``"train"`` or ``"test"``.
        image_size: the side ``S`` of the pictures (128 in the release).
        rows: int64, the global 0-based rows of the split.
        metadata: the release's [`OfficialMetadata`][fashion_gan.data.release.OfficialMetadata].
        reader: the image reader.
        redress_pairs: int64 ``(N,)`` (test split): ``test_set_pair_ind`` as positions within the split.

    Examples:
        >>> ds = OfficialFashionGAN("data_release", split="test")  # doctest: +SKIP
        >>> ds[0]["image"].shape, len(ds)  # doctest: +SKIP
        (torch.Size([3, 128, 128]), 8979)
    """

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        split: str = "train",
        cache: str | os.PathLike | None = None,
        reader: ImageReader | None = None,
    ):
        self.split = check_choice("split", split, ("train", "test"))
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root: expected a path, got {type(root).__name__}")
        if cache is not None and reader is not None:
            raise ValueError("cache, reader: expected at most one source of images, got both")
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetFormatError(
                f"{self.root}: folder not found; expected the official data_release folder"
            )
        self.metadata = load_metadata(self.root)
        n = self.metadata.num_images
        self.rows = self.metadata.train if split == "train" else self.metadata.test
        self._features = {k: v[self.rows] for k, v in load_features(self.root, n).items()}
        if reader is None:
            reader = (
                open_cache(cache, num_images=n)
                if cache is not None
                else G2Reader(self.root / G2_PATH, num_images=n)
            )
        elif not callable(getattr(reader, "read", None)) or getattr(reader, "num_images", None) != n:
            rows = getattr(reader, "num_images", None)
            raise ValueError(
                f"reader: expected an image reader (read, image_size) of {n} rows (the rows of "
                f"language_original.mat), got {type(reader).__name__} of {rows} rows"
            )
        self.reader = reader
        self.image_size = reader.image_size
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
        return self.reader.read(self.rows[check_indices("indices", indices, len(self))])

    def get_batch(self, indices: Any) -> dict[str, Any]:
        """Read and collate split positions ``indices`` (any order, repeats allowed) in one pass."""
        idx = check_indices("indices", indices, len(self))
        rows = self.rows[idx]
        images, labels = self.reader.read(rows)
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
        return uncollate(self.get_batch([check_index("index", index, len(self), allow_negative=True)]))[0]

    def __getitems__(self, indices: list[int]) -> list[dict[str, Any]]:
        """Batched fetch used by ``torch.utils.data.DataLoader``: one sorted read per batch."""
        return uncollate(self.get_batch(indices))
