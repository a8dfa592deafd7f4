"""The whole uint8 training set held on the training device, with on-device batch assembly.

At GPU speed (thousands of images per second) a CPU data loader becomes the bottleneck. The training tensors
are small in uint8: the official 70,000 training people are 3.4 GB of images, 1.1 GB of label maps and 11 MB
of word ids, so they fit on one GPU next to the models.
[`DeviceCache`][fashion_gan.data.device_cache.DeviceCache] copies them there once (in chunks, through pinned
memory) and [`DeviceCache.get_batch`][fashion_gan.data.device_cache.DeviceCache.get_batch] gathers a batch
with one ``index_select`` per tensor: no worker processes, no host-to-device copy per step, no
synchronisation.

It follows the dataset protocol the training loop uses (``len`` and ``get_batch(indices)`` returning the
collated batch layout of [`fashion_gan.data.contract`][fashion_gan.data.contract]) for the three tensors
training reads: ``image`` uint8 ``(B, 3, H, W)``, ``labels`` uint8 ``(B, H, W)`` and ``word_ids`` int64
``(B, L)``, plus ``index``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from condgan._checks import check_positive_int

__all__ = ["DeviceCache", "CACHED_KEYS"]

#: The batch entries a ``DeviceCache`` holds (what a training step reads).
CACHED_KEYS = ("image", "labels", "word_ids")


def _as_device(device: object) -> torch.device:
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device: expected a str or torch.device, got {type(device).__name__}")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device: expected a device like 'cpu' or 'cuda:0', got {device!r}") from err


def _check_chunk(name: str, batch: Any) -> None:
    if not isinstance(batch, dict):
        raise TypeError(f"{name}: expected a batch dict from dataset.get_batch, got {type(batch).__name__}")
    missing = [k for k in CACHED_KEYS if k not in batch]
    if missing:
        raise ValueError(f"{name}: expected the keys {list(CACHED_KEYS)}, missing {missing}")


class DeviceCache:
    """uint8 images, label maps and word ids of a whole split, on one device.

    Build it with [`from_dataset`][fashion_gan.data.device_cache.DeviceCache.from_dataset] (or from tensors).
    Memory: ``N * (3 * H * W + H * W + 8 * L)`` bytes, e.g. 4.6 GB for the official 70,000 training people at
    128x128.

    Args:
        image: uint8 ``(N, 3, H, W)``.
        labels: uint8 ``(N, H, W)`` label ids.
        word_ids: integer ``(N, L)`` word ids (stored as int64).
        device: Where to hold them (the tensors are moved there if they are not).

    Examples:
        >>> n = 6
        >>> cache = DeviceCache(
        ...     torch.zeros(n, 3, 8, 8, dtype=torch.uint8),
        ...     torch.arange(n, dtype=torch.uint8).view(n, 1, 1).expand(n, 8, 8).contiguous(),
        ...     torch.ones(n, 4, dtype=torch.int64),
        ...     device="cpu",
        ... )
        >>> batch = cache.get_batch([5, 0, 2])
        >>> batch["labels"][:, 0, 0].tolist(), batch["image"].shape, len(cache)
        ([5, 0, 2], torch.Size([3, 3, 8, 8]), 6)
    """

    def __init__(
        self,
        image: torch.Tensor,
        labels: torch.Tensor,
        word_ids: torch.Tensor,
        *,
        device: str | torch.device,
    ) -> None:
        dev = _as_device(device)
        for name, t in (("image", image), ("labels", labels), ("word_ids", word_ids)):
            if not isinstance(t, torch.Tensor):
                raise TypeError(f"{name}: expected a torch.Tensor, got {type(t).__name__}")
        if image.dtype != torch.uint8 or image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"image: expected uint8 (N, 3, H, W), got {image.dtype} {tuple(image.shape)}")
        if labels.dtype != torch.uint8 or labels.ndim != 3 or labels.shape[1:] != image.shape[2:]:
            raise ValueError(
                f"labels: expected uint8 (N, {image.shape[2]}, {image.shape[3]}) like image, "
                f"got {labels.dtype} {tuple(labels.shape)}"
            )
        if word_ids.ndim != 2 or word_ids.is_floating_point() or word_ids.dtype == torch.bool:
            raise ValueError(
                f"word_ids: expected integer (N, L), got {word_ids.dtype} {tuple(word_ids.shape)}"
            )
        sizes = {"image": image.shape[0], "labels": labels.shape[0], "word_ids": word_ids.shape[0]}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"image, labels, word_ids: expected the same first dimension N, got {sizes}")
        self.device = dev
        self.image = image.to(dev)
        self.labels = labels.to(dev)
        self.word_ids = word_ids.to(dev, torch.int64)

    @classmethod
    def from_dataset(
        cls,
        dataset: Any,
        *,
        device: str | torch.device,
        indices: Sequence[int] | torch.Tensor | None = None,
        chunk_size: int = 1024,
    ) -> DeviceCache:
        """Copy ``dataset`` (all of it, or ``indices``) to ``device`` in chunks of ``chunk_size`` people.

        The device tensors are allocated once; each chunk is read with ``dataset.get_batch``, pinned (CUDA)
        and copied, so host memory holds one chunk at a time.

        Args:
            dataset: Anything with ``len()`` and ``get_batch(indices)`` (synthetic or official data, or the
                uint8 cache).
            device: The training device.
            indices: Which items, in the cache's order (default ``range(len(dataset))``).
            chunk_size: People read per ``get_batch`` call.

        Returns:
            The cache; item ``i`` is ``dataset`` item ``indices[i]``.
        """
        dev = _as_device(device)
        if not hasattr(dataset, "get_batch") or not hasattr(dataset, "__len__"):
            raise TypeError(
                f"dataset: expected an object with len() and get_batch(), got {type(dataset).__name__}"
            )
        check_positive_int("chunk_size", chunk_size)
        idx = torch.arange(len(dataset)) if indices is None else torch.as_tensor(indices, dtype=torch.int64)
        if idx.ndim != 1 or idx.numel() == 0:
            raise ValueError(
                f"indices: expected a non-empty 1-d sequence of ints, got shape {tuple(idx.shape)}"
            )
        if int(idx.min()) < 0 or int(idx.max()) >= len(dataset):
            raise ValueError(
                f"indices: expected values in [0, {len(dataset) - 1}], got {int(idx.min())}..{int(idx.max())}"
            )
        first = dataset.get_batch(idx[:1].tolist())
        _check_chunk("dataset.get_batch", first)
        n = idx.numel()
        dtypes = {"image": torch.uint8, "labels": torch.uint8, "word_ids": torch.int64}
        out = {k: torch.empty((n, *first[k].shape[1:]), dtype=dtypes[k], device=dev) for k in CACHED_KEYS}
        pin = dev.type == "cuda"
        for start in range(0, n, chunk_size):
            chunk = dataset.get_batch(idx[start : start + chunk_size].tolist())
            for k in CACHED_KEYS:
                t = torch.as_tensor(chunk[k])
                if pin:
                    t = t.pin_memory()
                out[k][start : start + t.shape[0]].copy_(t, non_blocking=pin)
        if pin:
            torch.cuda.synchronize(dev)
        return cls(out["image"], out["labels"], out["word_ids"], device=dev)

    def __len__(self) -> int:
        return int(self.image.shape[0])

    @property
    def image_size(self) -> int:
        """The side of the square images."""
        return int(self.image.shape[-1])

    @property
    def nbytes(self) -> int:
        """Bytes held on the device."""
        return sum(t.numel() * t.element_size() for t in (self.image, self.labels, self.word_ids))

    def get_batch(
        self, indices: Sequence[int] | torch.Tensor, *, check: bool = True
    ) -> dict[str, torch.Tensor]:
        """Gather items ``indices`` on the device.

        Args:
            indices: ``(B,)`` ints (a list, or a tensor on the CPU or on the cache's device).
            check: Check the range first (free for CPU indices; one sync for device indices, so a hot loop
                with indices known to be valid passes ``check=False``).

        Returns:
            ``image`` uint8 ``(B, 3, H, W)``, ``labels`` uint8 ``(B, H, W)``, ``word_ids`` int64
            ``(B, L)`` and ``index`` int64 ``(B,)``, all on the cache's device.
        """
        idx = torch.as_tensor(indices)
        if idx.ndim != 1 or idx.is_floating_point() or idx.dtype == torch.bool:
            raise ValueError(f"indices: expected a 1-d sequence of ints, got {idx.dtype} {tuple(idx.shape)}")
        if check and idx.numel():
            low, high = int(idx.min()), int(idx.max())
            if low < 0 or high >= len(self):
                raise ValueError(f"indices: expected values in [0, {len(self) - 1}], got {low}..{high}")
        idx = idx.to(self.device, torch.int64, non_blocking=True)
        return {
            "image": self.image.index_select(0, idx),
            "labels": self.labels.index_select(0, idx),
            "word_ids": self.word_ids.index_select(0, idx),
            "index": idx,
        }

    def __repr__(self) -> str:
        return (
            f"DeviceCache(n={len(self)}, image_size={self.image_size}, device='{self.device}', "
            f"{self.nbytes / 2**20:.1f} MiB)"
        )
