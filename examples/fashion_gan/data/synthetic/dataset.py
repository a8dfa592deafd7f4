"""``SyntheticMannequins``: the synthetic people as a lazy, deterministic ``torch`` dataset."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import torch

from condgan._checks import check_bool, check_choice, check_int, check_positive_int
from fashion_gan.data.contract import (
    MAX_WORDS,
    WEARER_ATTRIBUTES,
    check_index,
    check_indices,
    official_vocabulary,
    uncollate,
)
from fashion_gan.data.synthetic.attributes import SPLITS, garment_twins, sample_attributes, twin_donors
from fashion_gan.data.synthetic.render import render_mannequins
from fashion_gan.data.synthetic.sentences import sentence
from fashion_gan.data.synthetic.tables import column

__all__ = ["SyntheticMannequins"]


class SyntheticMannequins(torch.utils.data.Dataset):
    """Procedurally drawn people following the FashionGAN sample contract (lazy, deterministic, fast).

    Args:
        split: ``"train"`` or ``"test"``; the two draw from disjoint random streams.
        image_size: side ``S`` of the square pictures (>= 16; 64 and 128 are the usual).
        num_train: number of training samples.
        num_test: number of test samples.
        seed: the dataset seed; sample ``i`` is a pure function of ``(seed, split, i)``.
        chunk: how many samples [`get_batch`][fashion_gan.data.synthetic.SyntheticMannequins.get_batch] draws
            at once (memory/speed trade-off).
        garment_twins: also draw each person's garment twin: the same body, pose, hair, face, skin and
            background wearing another person's garments
            ([`garment_twins`][fashion_gan.data.synthetic.garment_twins], the donor from
            [`twin_donors`][fashion_gan.data.synthetic.twin_donors]). Batches then carry
            ``twin_image`` ``(B, 3, S, S)`` and ``twin_labels`` ``(B, S, S)`` too (twice the drawing). Stage 1
            takes its spatial constraint and appearance from the twin (``train.shape_garment_twins``) so that
            they cannot tell it the garment the sentence describes.

    Attributes:
        split: ``"train"`` or ``"test"``.
        image_size: height = width of the samples.
        redress_pairs: int64 ``(N,)`` (test split): person ``i`` is redressed with the sentence of
            ``redress_pairs[i]``; a fixed derangement that mostly pairs different colours or garments.

    Examples:
        >>> ds = SyntheticMannequins(split="train", image_size=64, num_train=100)
        >>> item = ds[3]
        >>> item["image"].shape, item["labels"].dtype, item["word_ids"].shape
        (torch.Size([3, 64, 64]), torch.uint8, torch.Size([20]))
        >>> batch = ds.get_batch([5, 1, 5])
        >>> batch["image"].shape, batch["index"].tolist()
        (torch.Size([3, 3, 64, 64]), [5, 1, 5])
    """

    def __init__(
        self,
        *,
        split: str = "train",
        image_size: int = 128,
        num_train: int = 20000,
        num_test: int = 2000,
        seed: int = 0,
        chunk: int = 32,
        garment_twins: bool = False,
    ) -> None:
        self.split = check_choice("split", split, tuple(SPLITS))
        self.image_size = check_int("image_size", image_size, low=16, high=1024)
        self.num_train = check_positive_int("num_train", num_train)
        self.num_test = check_positive_int("num_test", num_test)
        self.seed = check_int("seed", seed, low=0)
        self.chunk = check_positive_int("chunk", chunk)
        self.garment_twins = check_bool("garment_twins", garment_twins)
        if garment_twins and len(self) < 2:
            raise ValueError(
                f"garment_twins: a twin wears another's garments, expected >= 2 people, got {len(self)}"
            )
        self.vocabulary = official_vocabulary()

    def __len__(self) -> int:
        return self.num_train if self.split == "train" else self.num_test

    def __repr__(self) -> str:
        return (
            f"SyntheticMannequins(split={self.split!r}, image_size={self.image_size}, "
            f"num_train={self.num_train}, num_test={self.num_test}, seed={self.seed}"
            + (", garment_twins=True)" if self.garment_twins else ")")
        )

    def attributes(self, indices: Any) -> dict[str, np.ndarray]:
        """The attributes of ``indices``, without drawing.

        See [`sample_attributes`][fashion_gan.data.synthetic.sample_attributes] for the keys.
        """
        return sample_attributes(self.seed, self.split, check_indices("indices", indices, len(self)))

    def sentences(self, indices: Any) -> list[str]:
        """The sentences of ``indices``, without drawing."""
        attrs = self.attributes(indices)
        return [sentence(attrs, j) for j in range(len(attrs["gender"]))]

    def get_batch(self, indices: Any) -> dict[str, Any]:
        """Draw and collate the samples ``indices`` (any order, repeats allowed): the fast path.

        Returns the batch layout of [`collate`][fashion_gan.data.contract.collate].
        """
        idx = check_indices("indices", indices, len(self))
        attrs = sample_attributes(self.seed, self.split, idx)
        b = idx.size
        images, labels = self._draw(attrs)
        twins = {}
        if self.garment_twins:
            _, twin_images, twin_labels = self._draw_twins(
                attrs, twin_donors(self.seed, self.split, idx, len(self))
            )
            twins = {
                "twin_image": torch.from_numpy(twin_images),
                "twin_labels": torch.from_numpy(twin_labels),
            }
        sentences = [sentence(attrs, j) for j in range(b)]
        word_ids = torch.zeros(b, MAX_WORDS, dtype=torch.int64)
        lengths = []
        for j, text in enumerate(sentences):
            ids = self.vocabulary.encode(text)
            word_ids[j, : len(ids)] = torch.as_tensor(ids, dtype=torch.int64)
            lengths.append(len(ids))
        wearer = np.stack([attrs[k] for k in WEARER_ATTRIBUTES], 1).astype(np.float32)
        return {
            "image": torch.from_numpy(images),
            "labels": torch.from_numpy(labels),
            "word_ids": word_ids,
            "length": torch.as_tensor(lengths, dtype=torch.int64),
            "sentence": sentences,
            "category": torch.from_numpy(attrs["category"]),
            "color": torch.from_numpy(attrs["color"]),
            "sleeve": torch.from_numpy(attrs["sleeve"]),
            "gender": torch.from_numpy(attrs["gender"]),
            "wearer": torch.from_numpy(wearer),
            "index": torch.from_numpy(idx.copy()),
            **twins,
        }

    def dressed_as(self, indices: Any, donors: Any) -> dict[str, torch.Tensor]:
        """People ``indices`` drawn in the garments of ``donors`` (both of this split, row for row): the true
        picture and label map of a redress, which real photographs never have.

        Row ``i`` is the garment twin of person ``indices[i]``
        ([`garment_twins`][fashion_gan.data.synthetic.garment_twins]) with ``donors[i]`` as the donor: the
        person's body, pose, hair, face and lower garment, the donor's top or
        dress. The category is redrawn with the person's gender, so a man dressed as a woman in a dress wears
        another category: compare the returned attributes with the donor's before reading them as the
        donor's.

        Returns:
            A dict of uint8 ``image`` ``(B, 3, S, S)`` and ``labels`` ``(B, S, S)``, and the int64 official
                ``category``, ``color``, ``sleeve`` ``(B,)`` of what the twins wear.

        Examples:
            >>> ds = SyntheticMannequins(split="test", image_size=32, num_test=8)
            >>> out = ds.dressed_as([0, 1], [1, 0])
            >>> out["image"].shape, out["labels"].shape, out["sleeve"].dtype
            (torch.Size([2, 3, 32, 32]), torch.Size([2, 32, 32]), torch.int64)
        """
        idx = check_indices("indices", indices, len(self))
        donor_idx = check_indices("donors", donors, len(self))
        if donor_idx.shape != idx.shape:
            raise ValueError(f"donors: expected one donor per person ({idx.size}), got {donor_idx.size}")
        twins, images, labels = self._draw_twins(sample_attributes(self.seed, self.split, idx), donor_idx)
        return {
            "image": torch.from_numpy(images),
            "labels": torch.from_numpy(labels),
            **{name: torch.from_numpy(twins[name]) for name in ("category", "color", "sleeve")},
        }

    def _draw_twins(self, attrs: dict[str, np.ndarray], donor_idx: np.ndarray):
        """People ``attrs`` in the garments of this split's ``donor_idx``: (attributes, images, maps)."""
        twins = garment_twins(attrs, sample_attributes(self.seed, self.split, donor_idx))
        return (twins, *self._draw(twins))

    def _draw(self, attrs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """uint8 pictures ``(B, 3, S, S)`` and label maps ``(B, S, S)`` of ``attrs``."""
        b, s = attrs["u"].shape[0], self.image_size
        images = np.empty((b, 3, s, s), np.uint8)
        labels = np.empty((b, s, s), np.uint8)
        # Draw people of similar size and place together: each shape is painted over the window covering it
        # in every sample of a chunk, so similar chunks paint smaller windows. Samples do not depend on order.
        u = attrs["u"]
        order = np.lexsort((column(u, "pos_x"), np.floor(column(u, "body_height") * 4)))
        for start in range(0, b, self.chunk):
            rows = order[start : start + self.chunk]
            images[rows], labels[rows] = render_mannequins({k: v[rows] for k, v in attrs.items()}, s)
        return images, labels

    def __getitem__(self, index: int) -> dict[str, Any]:
        return uncollate(self.get_batch([check_index("index", index, len(self), allow_negative=True)]))[0]

    def __getitems__(self, indices: list[int]) -> list[dict[str, Any]]:
        """Batched fetch used by ``torch.utils.data.DataLoader``: one vectorised draw per batch."""
        return uncollate(self.get_batch(indices))

    @cached_property
    def redress_pairs(self) -> torch.Tensor:
        """Partner index whose sentence redresses person ``i``; a derangement of the split (see class doc)."""
        return torch.from_numpy(_redress_pairs(self.attributes(np.arange(len(self))), self.seed, self.split))


def _redress_pairs(attrs: dict[str, np.ndarray], seed: int, split: str) -> np.ndarray:
    """A derangement (Sattolo cycle), improved by swaps so that partners mostly differ in colour or type."""
    n = attrs["color"].shape[0]
    if n < 2:
        raise ValueError(f"split {split!r}: expected at least 2 samples to pair, got {n}")
    rng = np.random.default_rng([seed, SPLITS[split], 0x9A12])
    perm = np.arange(n)
    for i in range(n - 1, 0, -1):  # Sattolo: one random n-cycle, never a fixed point
        j = int(rng.integers(0, i))
        perm[i], perm[j] = perm[j], perm[i]
    key = attrs["color"] * 100 + attrs["category"]
    for _ in range(4):
        same = np.flatnonzero(key == key[perm])
        if same.size == 0:
            break
        for i in same:
            j = int(rng.integers(0, n))
            pi, pj = perm[i], perm[j]
            if i == j or pj == i or pi == j:
                continue
            if key[pj] != key[i] and key[pi] != key[j]:
                perm[i], perm[j] = pj, pi
    return perm.astype(np.int64)
