"""The sample contract shared by every FashionGAN dataset (synthetic mannequins and the official release).

Every dataset item is a ``dict`` with exactly these keys (an optional ``"hn2"`` is added by the official
loader when ``encode_hn2_rnn_100_2_full.mat`` is present, ``"twin_image"`` and ``"twin_labels"`` by the
synthetic data's ``garment_twins``):

=============  =========================  ===============================================================
key            type / shape               meaning
=============  =========================  ===============================================================
``image``      uint8 ``(3, H, W)``        RGB in ``[0, 255]``, upright (row 0 is the top of the picture)
``labels``     uint8 ``(H, W)``           official ids 0..6 (``LABEL_NAMES``)
``word_ids``   int64 ``(MAX_WORDS,)``     official 1-based word ids, right-padded with 0
``length``     ``int``                    number of words (non-zero entries of ``word_ids``)
``sentence``   ``str``                    the sentence, e.g. ``"the lady wore a blue sleeveless dress."``
``category``   ``int`` 0..18              official ``cate_new - 1`` (``CATEGORY_NAMES``)
``color``      ``int`` 0..16              official ``color_ - 1`` (``COLOR_NAMES``)
``sleeve``     ``int`` 0..3               official ``sleeve_ - 1`` (``SLEEVE_NAMES``)
``gender``     ``int`` 0..1               official ``gender_`` (already 0-based): 0 female, 1 male
``wearer``     float32 ``(7,)``           the paper's wearer attributes (``WEARER_ATTRIBUTES``) in
                                          ``[0, 1]``; ``-1.0`` marks "unknown" (the official release
                                          knows only gender)
``index``      ``int``                    index into the dataset's own split
=============  =========================  ===============================================================

A batch ([`collate`][fashion_gan.data.collate], ``dataset.get_batch``, or torch's default collate) stacks the
tensors (``image`` ``(B, 3, H, W)``, ``labels`` ``(B, H, W)``, ``word_ids`` ``(B, MAX_WORDS)``, ``wearer``
``(B, 7)``), turns the ints into int64 ``(B,)`` tensors and the sentences into a ``list[str]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from condgan._checks import check_int

from ..text import VOCABULARY_PATH as VOCABULARY_PATH
from ..text import official_vocabulary as official_vocabulary

__all__ = [
    "NUM_LABELS",
    "LABEL_NAMES",
    "MAX_WORDS",
    "CATEGORY_NAMES",
    "COLOR_NAMES",
    "SLEEVE_NAMES",
    "GENDER_NAMES",
    "WEARER_ATTRIBUTES",
    "UNKNOWN_ATTRIBUTE",
    "VOCABULARY_PATH",
    "official_vocabulary",
    "SAMPLE_KEYS",
    "OPTIONAL_KEYS",
    "INT_KEYS",
    "validate_sample",
    "validate_batch",
    "check_index",
    "check_indices",
    "collate",
    "uncollate",
]

#: Number of segmentation labels (official ids 0..6).
NUM_LABELS = 7
#: Official label names in id order (the 7 classes of the official label maps, merged from the ATR parsing
#: labels: hats count as hair, sunglasses as face; skirts, pants and dresses as lower clothes).
LABEL_NAMES = ("background", "hair", "face", "upper clothes", "lower clothes", "legs and shoes", "arms")
#: Length of the padded ``word_ids`` vector (the official sentences have at most 17 words).
MAX_WORDS = 20
#: The 19 official garment categories; ``category = cate_new - 1`` indexes this tuple.
CATEGORY_NAMES = (
    "blazer",
    "blouse",
    "bomber",
    "cardigan",
    "henley",
    "hoodie",
    "jacket",
    "jersey",
    "parka",
    "poncho",
    "sweater",
    "tank",
    "tee",
    "top",
    "coat",
    "dress",
    "jumpsuit",
    "kimono",
    "romper",
)
#: The 17 official colours; ``color = color_ - 1``. The last one means several colours (a print or pattern).
COLOR_NAMES = (
    "red",
    "blue",
    "white",
    "pink",
    "orange",
    "black",
    "brown",
    "green",
    "purple",
    "yellow",
    "khaki",
    "gray",
    "beige",
    "blonde",
    "silver",
    "olive",
    "multicolor",
)
#: The 4 official sleeve classes; ``sleeve = sleeve_ - 1``.
SLEEVE_NAMES = ("long-sleeved", "short-sleeved", "sleeveless", "unspecified")
#: ``gender`` 0 / 1 as in the official ``gender_``.
GENDER_NAMES = ("female", "male")
#: The paper's wearer attributes, in the order of the ``wearer`` vector.
WEARER_ATTRIBUTES = ("gender", "long_hair", "hat", "sunglasses", "skin_tone", "body_width", "body_height")
#: Value of a wearer attribute that the dataset does not know.
UNKNOWN_ATTRIBUTE = -1.0

# The official vocabulary (VOCABULARY_PATH, official_vocabulary) lives with the text tools in
# fashion_gan.text; the data contract encodes sentences with it.
#: Keys every item carries.
SAMPLE_KEYS = (
    "image",
    "labels",
    "word_ids",
    "length",
    "sentence",
    "category",
    "color",
    "sleeve",
    "gender",
    "wearer",
    "index",
)
#: Keys an item may carry in addition (official text codes ``hn2``, official 8x8 constraint ``sr1_8``; the
#: synthetic data's garment twin ``twin_image`` / ``twin_labels``, shaped like ``image`` / ``labels``).
OPTIONAL_KEYS = ("hn2", "sr1_8", "twin_image", "twin_labels")
#: Integer-valued keys and their number of classes (``None``: any non-negative int).
INT_KEYS = {
    "length": MAX_WORDS + 1,
    "category": len(CATEGORY_NAMES),
    "color": len(COLOR_NAMES),
    "sleeve": len(SLEEVE_NAMES),
    "gender": len(GENDER_NAMES),
    "index": None,
}


def _check_keys(name: str, value: Mapping[str, Any]) -> None:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}: expected a dict with keys {SAMPLE_KEYS}, got {type(value).__name__}")
    missing = [k for k in SAMPLE_KEYS if k not in value]
    extra = [k for k in value if k not in SAMPLE_KEYS and k not in OPTIONAL_KEYS]
    if missing or extra:
        raise ValueError(
            f"{name}: expected keys {SAMPLE_KEYS} (optional {OPTIONAL_KEYS}), "
            f"missing {missing}, extra {extra}"
        )


def _check_tensor(name: str, value: object, dtype: torch.dtype, shape: tuple, layout: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if value.dtype != dtype:
        raise TypeError(f"{name}: expected dtype {dtype}, got {value.dtype}")
    if value.ndim != len(shape) or any(
        s is not None and s != g for s, g in zip(shape, value.shape, strict=True)
    ):
        raise ValueError(f"{name}: expected shape {layout}, got {tuple(value.shape)}")
    return value


def validate_sample(sample: Mapping[str, Any], *, image_size: int | None = None) -> None:
    """Check one item against the contract; scans the label map and word ids once.

    Args:
        sample: a dataset item.
        image_size: expected ``H == W``; ``None`` accepts any square size.

    Raises:
        ValueError: a wrong shape or value, naming the offending key, what was expected and what was got.
        TypeError: a wrong type or dtype, likewise.

    Examples:
        >>> from fashion_gan.data.synthetic import SyntheticMannequins
        >>> validate_sample(SyntheticMannequins(image_size=32, num_train=4)[0], image_size=32)
    """
    _check_keys("sample", sample)
    size = image_size
    image = _check_tensor("sample['image']", sample["image"], torch.uint8, (3, size, size), "(3, H, W)")
    h, w = image.shape[1:]
    if h != w:
        raise ValueError(f"sample['image']: expected a square image, got {h}x{w}")
    labels = _check_tensor("sample['labels']", sample["labels"], torch.uint8, (h, w), f"({h}, {w})")
    if labels.numel() and int(labels.max()) >= NUM_LABELS:
        raise ValueError(
            f"sample['labels']: expected labels in [0, {NUM_LABELS - 1}], got {int(labels.max())}"
        )
    ids = _check_tensor(
        "sample['word_ids']", sample["word_ids"], torch.int64, (MAX_WORDS,), f"({MAX_WORDS},)"
    )
    for key, classes in INT_KEYS.items():
        check_int(f"sample[{key!r}]", sample[key], low=0, high=None if classes is None else classes - 1)
    length = sample["length"]
    if (
        length == 0
        or int((ids != 0).sum()) != length
        or bool((ids[:length] == 0).any())
        or int(ids.min()) < 0
    ):
        raise ValueError(
            f"sample['word_ids']: expected {length} positive ids followed by 0 padding (length={length}), "
            f"got {ids.tolist()}"
        )
    if not isinstance(sample["sentence"], str) or not sample["sentence"]:
        raise TypeError(f"sample['sentence']: expected a non-empty str, got {sample['sentence']!r}")
    wearer = _check_tensor("sample['wearer']", sample["wearer"], torch.float32, (7,), "(7,)")
    known = wearer[wearer != UNKNOWN_ATTRIBUTE]
    if known.numel() and (float(known.min()) < 0.0 or float(known.max()) > 1.0):
        raise ValueError(
            f"sample['wearer']: expected values in [0, 1] or -1 (unknown), got {wearer.tolist()}"
        )
    if float(wearer[0]) != float(sample["gender"]):
        raise ValueError(
            f"sample['wearer']: expected wearer[0] == gender {sample['gender']}, got {float(wearer[0])}"
        )
    if "twin_image" in sample or "twin_labels" in sample:
        if "twin_image" not in sample or "twin_labels" not in sample:
            raise ValueError("sample: expected 'twin_image' and 'twin_labels' together, got one of them")
        twin_image, twin = sample["twin_image"], sample["twin_labels"]
        _check_tensor("sample['twin_image']", twin_image, torch.uint8, (3, h, w), f"(3, {h}, {w})")
        _check_tensor("sample['twin_labels']", twin, torch.uint8, (h, w), f"({h}, {w})")
        if twin.numel() and int(twin.max()) >= NUM_LABELS:
            raise ValueError(
                f"sample['twin_labels']: expected labels in [0, {NUM_LABELS - 1}], got {int(twin.max())}"
            )


def collate(samples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Stack items into the batch layout that ``get_batch`` returns.

    Shapes: ``image`` ``(B, 3, H, W)`` uint8, ``labels`` ``(B, H, W)`` uint8, ``word_ids`` ``(B, MAX_WORDS)``
    int64, ``wearer`` ``(B, 7)`` float32, each int key ``(B,)`` int64, ``sentence`` ``list[str]``.
    Equal to ``torch.utils.data.default_collate`` on the same items.

    Examples:
        >>> from fashion_gan.data.synthetic import SyntheticMannequins
        >>> ds = SyntheticMannequins(image_size=32, num_train=4)
        >>> batch = collate([ds[0], ds[1]])
        >>> batch["image"].shape, batch["category"].dtype, len(batch["sentence"])
        (torch.Size([2, 3, 32, 32]), torch.int64, 2)
    """
    if isinstance(samples, Mapping) or not isinstance(samples, Sequence) or len(samples) == 0:
        raise ValueError(f"samples: expected a non-empty sequence of items, got {type(samples).__name__}")
    keys = list(samples[0].keys())
    out: dict[str, Any] = {}
    for key in keys:
        values = [s[key] for s in samples]
        if isinstance(values[0], torch.Tensor):
            out[key] = torch.stack(values)
        elif isinstance(values[0], str):
            out[key] = list(values)
        else:
            out[key] = torch.tensor(values, dtype=torch.int64)
    return out


def uncollate(batch: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Split a batch back into items (tensors are views of the batch; ints become Python ints).

    Examples:
        >>> from fashion_gan.data.synthetic import SyntheticMannequins
        >>> ds = SyntheticMannequins(image_size=32, num_train=4)
        >>> items = uncollate(ds.get_batch([2, 3]))
        >>> items[1]["index"], items[1]["image"].shape
        (3, torch.Size([3, 32, 32]))
    """
    validate_batch(batch)
    size = len(batch["sentence"])
    items: list[dict[str, Any]] = [{} for _ in range(size)]
    for key, value in batch.items():
        if key == "sentence":
            column = list(value)
        elif key in INT_KEYS:
            column = value.tolist()
        else:
            column = list(value.unbind(0))
        for item, v in zip(items, column, strict=True):
            item[key] = v
    return items


def validate_batch(batch: Mapping[str, Any], *, image_size: int | None = None) -> int:
    """Check a collated batch's keys, dtypes and shapes (cheap: no scan); return its size ``B``.

    Examples:
        >>> from fashion_gan.data.synthetic import SyntheticMannequins
        >>> validate_batch(SyntheticMannequins(image_size=32, num_train=4).get_batch([0, 1, 2]))
        3
    """
    _check_keys("batch", batch)
    if not isinstance(batch["sentence"], list):
        raise TypeError(f"batch['sentence']: expected a list of str, got {type(batch['sentence']).__name__}")
    b = len(batch["sentence"])
    s = image_size
    image = _check_tensor("batch['image']", batch["image"], torch.uint8, (b, 3, s, s), "(B, 3, H, W)")
    h, w = image.shape[2:]
    _check_tensor("batch['labels']", batch["labels"], torch.uint8, (b, h, w), f"(B, {h}, {w})")
    _check_tensor("batch['word_ids']", batch["word_ids"], torch.int64, (b, MAX_WORDS), f"(B, {MAX_WORDS})")
    _check_tensor("batch['wearer']", batch["wearer"], torch.float32, (b, 7), "(B, 7)")
    for key in INT_KEYS:
        _check_tensor(f"batch[{key!r}]", batch[key], torch.int64, (b,), "(B,)")
    if "twin_image" in batch or "twin_labels" in batch:
        for key, dtype, shape, layout in (
            ("twin_image", torch.uint8, (b, 3, h, w), f"(B, 3, {h}, {w})"),
            ("twin_labels", torch.uint8, (b, h, w), f"(B, {h}, {w})"),
        ):
            if key not in batch:
                raise ValueError(f"batch: expected 'twin_image' and 'twin_labels' together, missing {key!r}")
            _check_tensor(f"batch[{key!r}]", batch[key], dtype, shape, layout)
    return b


def check_index(name: str, index: Any, size: int, *, allow_negative: bool = False) -> int:
    """Check one position: an int in ``[0, size)``, or ``[-size, size)`` with ``allow_negative``.

    Returns the position in ``[0, size)`` (a negative one counts from the end).

    Raises:
        TypeError: ``index`` is not an int (bools refused).
        IndexError: ``index`` is out of range (what ``__getitem__`` raises, so iteration stops there).

    Examples:
        >>> check_index("index", -1, 5, allow_negative=True)
        4
    """
    low = -size if allow_negative else 0
    try:
        value = check_int(name, index, low=low, high=size - 1)
    except ValueError as err:
        raise IndexError(str(err)) from None
    return value % size if size else value


def check_indices(name: str, indices: Any, size: int) -> np.ndarray:
    """Check dataset positions: a 1-d, non-empty sequence/array/tensor of ints in ``[0, size)``; int64 copy.

    Example:
        >>> check_indices("indices", [2, 0, 2], 3).tolist()
        [2, 0, 2]
    """
    if isinstance(indices, torch.Tensor):
        if indices.is_floating_point() or indices.dtype == torch.bool:
            raise TypeError(f"{name}: expected integer indices, got a tensor of dtype {indices.dtype}")
        arr = indices.detach().cpu().numpy()
    else:
        arr = np.asarray(indices)
        if arr.dtype == object or (arr.size and arr.dtype.kind not in "iu"):
            raise TypeError(f"{name}: expected a sequence of ints, got dtype {arr.dtype}")
    if arr.ndim > 1:
        raise ValueError(f"{name}: expected a 1-d sequence of indices, got shape {arr.shape}")
    arr = arr.astype(np.int64).reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{name}: expected at least one index, got none")
    bad = arr[(arr < 0) | (arr >= size)]
    if bad.size:
        raise IndexError(f"{name}: expected indices in [0, {size - 1}], got {int(bad[0])}")
    return arr
