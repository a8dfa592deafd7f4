"""FashionGAN's text pieces: the official vocabulary, the official text encoder, training one, and a report.

* [`official_vocabulary`][fashion_gan.text.official_vocabulary] -- the 539 official words in id order (1 the,
  2 lady, 3 was, ...).
* [`load_official_text_encoder`][fashion_gan.text.load_official_text_encoder] -- the released
  ``language/rnn_latest.pth`` (a legacy PyTorch 0.x pickle, read without executing code) as a
  [`condgan.text.RNNTextEncoder`][condgan.text.rnn_encoder.RNNTextEncoder].
* [`train_text_encoder`][fashion_gan.text.train_text_encoder] -- train the same encoder here (sum of four
  cross-entropies, as the official ``language/train_te.py``; Adam on mini-batches of de-duplicated sentences
  instead of its SGD with batch 1).
* [`attribute_accuracy`][fashion_gan.text.attribute_accuracy] -- how often an encoder's heads recover a
  sentence's category, colour, gender and sleeve.
* [`text_report`][fashion_gan.text.text_report] -- both encoders side by side on the official test split; also
  a command line::

    python -m fashion_gan.text --data /work/shared/data/fashiongan --out benchmarks/results/text_report.json

Attribute labels follow the dataset contract (``fashion_gan.data.contract``): 0-based
``category = cate_new - 1``, ``color = color_ - 1``, ``sleeve = sleeve_ - 1``, ``gender = gender_``, exactly
as the official training script.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from condgan._checks import check_integer, check_positive_int, check_rank, check_tensor
from condgan.metrics import AttributeAccuracy
from condgan.text import (
    FASHIONGAN_HEADS,
    RNNTextEncoder,
    Vocabulary,
    from_official_state_dict,
    lengths_from_padding,
    load_legacy_state_dict,
)

__all__ = [
    "ATTRIBUTE_FIELDS",
    "VOCABULARY_PATH",
    "LanguageData",
    "attribute_accuracy",
    "drop_words",
    "load_language_data",
    "load_official_text_encoder",
    "main",
    "official_vocabulary",
    "text_report",
    "train_text_encoder",
]

#: Our attribute name -> (field in ``language_original.mat``, offset subtracted to make it 0-based).
ATTRIBUTE_FIELDS: Mapping[str, tuple[str, int]] = {
    "category": ("cate_new", 1),
    "color": ("color_", 1),
    "gender": ("gender_", 0),
    "sleeve": ("sleeve_", 1),
}


#: The official vocabulary, one word per line in id order (shipped in the package's data folder).
VOCABULARY_PATH = Path(__file__).with_name("data") / "official_vocabulary.txt"


@lru_cache(maxsize=1)
def _official_vocabulary() -> Vocabulary:
    return Vocabulary.from_file(VOCABULARY_PATH)


def official_vocabulary(**kwargs: Any) -> Vocabulary:
    """The official 539-word vocabulary in id order (``fashion_gan/data/official_vocabulary.txt``).

    With it, [`Vocabulary.encode`][condgan.text.vocabulary.Vocabulary.encode] reproduces the released 1-based
    ``codeJ`` word ids of all 78,979 sentences. Without arguments the vocabulary is read once and shared (do
    not change it); with arguments a new one is built.

    Args:
        **kwargs: passed to [`condgan.text.Vocabulary`][condgan.text.vocabulary.Vocabulary] (e.g.
            ``unknown="skip"``).

    Examples:
        >>> vocab = official_vocabulary()
        >>> len(vocab), vocab.encode("the lady was wearing a blue long-sleeved blouse.")
        (539, [1, 2, 3, 4, 5, 6, 7, 8])
        >>> official_vocabulary(unknown="skip").encode("the xylophone lady")
        [1, 2]
    """
    return Vocabulary.from_file(VOCABULARY_PATH, **kwargs) if kwargs else _official_vocabulary()


def load_official_text_encoder(path: str | os.PathLike) -> RNNTextEncoder:
    """Load the released text-encoder weights (``language/rnn_latest.pth``) into an
    [`RNNTextEncoder`][condgan.text.rnn_encoder.RNNTextEncoder].

    The file is read with [`condgan.text.load_legacy_state_dict`][condgan.text.legacy.load_legacy_state_dict]
    (no code from it runs), renamed with
    [`condgan.text.from_official_state_dict`][condgan.text.rnn_encoder.from_official_state_dict]
    (``net_cate_new`` -> ``heads.category`` ...), and checked key by key and shape by shape against the
    official architecture (539 words, 2 x 100 tanh RNN, heads 19/17/2/4).

    Args:
        path: the ``.pth`` file (legacy or zip format).

    Returns:
        The encoder in eval mode.

    Raises:
        FileNotFoundError: no such file.
        condgan.text.CheckpointError: unreadable or unsafe file.
        ValueError: missing or unexpected keys, or shapes that differ (all listed).
    """
    state = from_official_state_dict(load_legacy_state_dict(path))
    encoder = RNNTextEncoder()
    expected = encoder.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [
        f"{k}: expected {tuple(expected[k].shape)}, got {tuple(state[k].shape)}"
        for k in expected
        if k in state and state[k].shape != expected[k].shape
    ]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing keys {missing}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected}")
        if wrong:
            parts.append(f"wrong shapes [{'; '.join(wrong)}]")
        raise ValueError(
            f"{path}: expected the official text encoder's weights (keys named as in the official "
            f"language/train_te.py, after renaming net_* -> heads.*), got {', '.join(parts)}"
        )
    encoder.load_state_dict({k: v.float() for k, v in state.items()})
    return encoder.eval()


def _check_labels(
    labels: object, batch: int, heads: Mapping[str, int] | None = None
) -> dict[str, torch.Tensor]:
    if not isinstance(labels, Mapping):
        raise TypeError(
            f"labels: expected a mapping attribute name -> (N,) integer tensor, got {type(labels).__name__}"
        )
    if not labels:
        raise ValueError("labels: expected at least one attribute, got an empty mapping")
    out = {}
    for name, value in labels.items():
        arg = f"labels[{name!r}]"
        check_rank(arg, check_tensor(arg, value), 1, "(N,)")
        check_integer(arg, value)
        if value.shape[0] != batch:
            raise ValueError(f"{arg}: expected {batch} labels (one per sentence), got {value.shape[0]}")
        if heads is not None:
            if name not in heads:
                raise ValueError(f"labels: expected only the encoder's heads {sorted(heads)}, got {name!r}")
            if value.numel() and (int(value.min()) < 0 or int(value.max()) >= heads[name]):
                bad = int(value.min()) if int(value.min()) < 0 else int(value.max())
                raise ValueError(f"{arg}: expected class ids in [0, {heads[name] - 1}], got {bad}")
        out[name] = value.long()
    return out


def _check_sentence_ids(name: str, value: object) -> torch.Tensor:
    check_rank(name, check_tensor(name, value), 2, "(N, L)")
    check_integer(name, value)
    if value.shape[0] == 0 or value.shape[1] == 0:
        raise ValueError(f"{name}: expected a non-empty (N, L) tensor, got shape {tuple(value.shape)}")
    return value.long()


def _check_positive_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name}: expected a positive number, got {value!r}")
    return float(value)


def drop_words(word_ids: torch.Tensor, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Delete each word of each sentence with probability ``p``, keeping at least one word per sentence.

    The kept words stay in order and are shifted left, so the result is right-padded with 0 like the input.
    This is the ``word_dropout`` augmentation of [`train_text_encoder`][fashion_gan.text.train_text_encoder]
    (measured on the official split it lowers accuracy on unseen sentences: docs/text.md).

    Args:
        word_ids: ``(N, L)`` word ids, right-padded with 0, at least one word per row.
        p: deletion probability in ``[0, 1)``.
        generator: the random source (``None``: the global one).

    Returns:
        ``(N, L)`` word ids, right-padded with 0.

    Example:
        >>> ids = torch.tensor([[5, 6, 7, 0], [8, 0, 0, 0]])
        >>> drop_words(ids, 0.0).tolist()
        [[5, 6, 7, 0], [8, 0, 0, 0]]
        >>> out = drop_words(ids, 0.99, torch.Generator().manual_seed(0))
        >>> (out != 0).sum(1).tolist()  # one word always stays
        [1, 1]
    """
    word_ids = _check_sentence_ids("word_ids", word_ids)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"p: expected a probability in [0, 1), got {p!r}")
    words = word_ids != 0
    keep = words & (torch.rand(word_ids.shape, generator=generator) >= p)
    first = torch.zeros_like(keep)
    first[:, 0] = True
    keep |= first & ~keep.any(1, keepdim=True)  # a sentence that lost every word keeps its first one
    length = word_ids.shape[1]
    position = torch.arange(length).expand_as(word_ids)
    order = torch.argsort(torch.where(keep, position, position + length), dim=1)  # kept words first, in order
    return torch.where(keep.gather(1, order), word_ids.gather(1, order), torch.zeros_like(word_ids))


def _check_regularisation(seed: object, word_dropout: object, weight_decay: object, count_weighted: object):
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
    number = (int, float)
    if isinstance(word_dropout, bool) or not isinstance(word_dropout, number) or not 0 <= word_dropout < 1:
        raise ValueError(f"word_dropout: expected a probability in [0, 1), got {word_dropout!r}")
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, number) or not weight_decay >= 0:
        raise ValueError(f"weight_decay: expected a float >= 0, got {weight_decay!r}")
    if not isinstance(count_weighted, bool):
        raise TypeError(f"count_weighted: expected a bool, got {type(count_weighted).__name__}")


def train_text_encoder(
    sentences_ids: torch.Tensor,
    labels: Mapping[str, torch.Tensor],
    *,
    epochs: int = 30,
    batch_size: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
    vocab_size: int = 539,
    hidden_size: int = 100,
    num_layers: int = 2,
    max_grad_norm: float = 5.0,
    word_dropout: float = 0.0,
    weight_decay: float = 0.0,
    count_weighted: bool = True,
    log_every: int = 0,
) -> RNNTextEncoder:
    """Train an [`RNNTextEncoder`][condgan.text.rnn_encoder.RNNTextEncoder] to predict a sentence's attributes
    from its words.

    Loss ``L = sum_a CE(logits_a, y_a)`` (the official sum of cross-entropies, one head per attribute).
    Differences from the official ``language/train_te.py`` (SGD, lr 0.01, batch 1, millions of random draws):
    identical ``(sentence, labels)`` rows are merged first and weighted by their count (the official data has
    78,979 rows but only ~4,000 distinct sentences), so one epoch is one pass over the distinct rows with the
    same expected loss as a pass over all rows (``count_weighted=False`` weighs every distinct row alike
    instead); AdamW (``lr``, betas (0.9, 0.999), ``weight_decay``; plain Adam at the default 0) with
    gradient-norm clipping at ``max_grad_norm``, for ``epochs`` epochs of shuffled mini-batches, optionally
    with [`drop_words`][fashion_gan.text.drop_words]. Deterministic for a given ``seed``; the global RNG is
    left untouched. What these options change on the official split: docs/text.md.

    Args:
        sentences_ids: ``(N, L)`` integer word ids (1-based, right-padded with 0).
        labels: attribute name -> ``(N,)`` 0-based class ids; the names become the heads, whose sizes are the
            official ones for known names (category 19, color 17, gender 2, sleeve 4) or ``max + 1``.
        epochs: passes over the distinct rows.
        batch_size: distinct rows per step.
        lr: Adam learning rate.
        seed: seeds the initialisation and the shuffling.
        vocab_size: number of words (official: 539).
        hidden_size: RNN width, the code size (official: 100).
        num_layers: stacked RNN layers (official: 2).
        max_grad_norm: gradient clipping threshold (tanh RNNs can spike).
        word_dropout: probability of deleting each word of a training sentence ([`drop_words`]
            [fashion_gan.text.drop_words]; 0: off).
        weight_decay: decoupled weight decay of AdamW (0: plain Adam).
        count_weighted: weigh each distinct row by how often it occurs (the official sampling) or not.
        log_every: print the mean loss every this many epochs (0: silent).

    Returns:
        The trained encoder, in eval mode.

    Examples:
        >>> ids = torch.tensor([[1, 2, 0], [1, 3, 0], [4, 2, 3]])
        >>> labels = {"color": torch.tensor([0, 1, 1]), "plain": torch.tensor([1, 0, 0])}
        >>> enc = train_text_encoder(ids, labels, epochs=2, vocab_size=4, hidden_size=8)
        >>> enc.head_sizes  # official size for a known name, max + 1 otherwise
        {'color': 17, 'plain': 2}
    """
    ids = _check_sentence_ids("sentences_ids", sentences_ids)
    labels = _check_labels(labels, ids.shape[0])
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("num_layers", num_layers)):
        check_positive_int(name, value)
    check_positive_int("vocab_size", vocab_size)
    check_positive_int("hidden_size", hidden_size)
    lr = _check_positive_float("lr", lr)
    max_grad_norm = _check_positive_float("max_grad_norm", max_grad_norm)
    _check_regularisation(seed, word_dropout, weight_decay, count_weighted)
    if int(ids.max()) > vocab_size or int(ids.min()) < 0:
        raise ValueError(
            f"sentences_ids: expected word ids in [1, {vocab_size}] or 0 for padding, got ids in "
            f"[{int(ids.min())}, {int(ids.max())}]"
        )
    try:  # reject empty rows and padding in the middle up front, naming the rows
        lengths_from_padding(ids)
    except ValueError as err:
        raise ValueError(str(err).replace("word_ids", "sentences_ids", 1)) from None

    heads = {}
    for name, value in labels.items():
        n = FASHIONGAN_HEADS.get(name, int(value.max()) + 1)
        if int(value.min()) < 0 or int(value.max()) >= n:
            raise ValueError(
                f"labels[{name!r}]: expected class ids in [0, {n - 1}], got ids in "
                f"[{int(value.min())}, {int(value.max())}]"
            )
        heads[name] = n

    names = list(labels)
    rows = torch.cat([ids, torch.stack([labels[n] for n in names], dim=1)], dim=1)
    unique, counts = torch.unique(rows, dim=0, return_counts=True)
    u_ids, u_labels = unique[:, : ids.shape[1]], unique[:, ids.shape[1] :]
    weights = counts.float() / counts.float().mean()  # mean weight 1: the loss scale of a plain mini-batch
    if not count_weighted:
        weights = torch.ones_like(weights)

    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = RNNTextEncoder(
            vocab_size=vocab_size, hidden_size=hidden_size, num_layers=num_layers, heads=heads
        )
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * -(-unique.shape[0] // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=lr / 100)
    encoder.train()
    for epoch in range(epochs):
        order = torch.randperm(unique.shape[0], generator=generator)
        total, seen = 0.0, 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            batch_ids = u_ids[batch]
            if word_dropout:
                batch_ids = drop_words(batch_ids, word_dropout, generator)
            batch_ids = batch_ids[:, : int((batch_ids != 0).sum(1).max())]  # drop all-padding columns
            _, logits = encoder(batch_ids)
            w = weights[batch]
            loss = sum(
                (F.cross_entropy(logits[n], u_labels[batch, j], reduction="none") * w).sum() / w.sum()
                for j, n in enumerate(names)
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(encoder.parameters(), max_grad_norm)
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * float(w.sum())
            seen += float(w.sum())
        if log_every and (epoch + 1) % log_every == 0:
            print(f"epoch {epoch + 1}/{epochs}: loss {total / seen:.4f}", flush=True)
    return encoder.eval()


@torch.no_grad()
def attribute_accuracy(
    encoder: RNNTextEncoder,
    sentence_ids: torch.Tensor,
    labels: Mapping[str, torch.Tensor],
    *,
    batch_size: int = 2048,
) -> dict[str, float]:
    """Top-1 accuracy of ``encoder``'s heads: ``acc_a = mean_i [argmax_c logits_a(i)_c == y_a(i)]``.

    Args:
        encoder: a text encoder with a head for each attribute in ``labels``.
        sentence_ids: ``(N, L)`` integer word ids (1-based, right-padded with 0).
        labels: attribute name -> ``(N,)`` 0-based class ids.
        batch_size: sentences per forward pass.

    Returns:
        attribute name -> accuracy in ``[0, 1]``, in the order of ``labels``.

    Examples:
        >>> enc = RNNTextEncoder(vocab_size=4, hidden_size=3, heads={"gender": 2})
        >>> acc = attribute_accuracy(enc, torch.tensor([[1, 2], [3, 0]]), {"gender": torch.tensor([0, 1])})
        >>> sorted(acc), 0.0 <= acc["gender"] <= 1.0
        (['gender'], True)
    """
    if not isinstance(encoder, RNNTextEncoder):
        raise TypeError(f"encoder: expected an RNNTextEncoder, got {type(encoder).__name__}")
    ids = _check_sentence_ids("sentence_ids", sentence_ids)
    labels = _check_labels(labels, ids.shape[0], heads=encoder.head_sizes)
    check_positive_int("batch_size", batch_size)
    was_training = encoder.training
    encoder.eval()
    metric = AttributeAccuracy(names=list(labels))
    device = next(encoder.parameters()).device
    try:
        for start in range(0, ids.shape[0], batch_size):
            chunk = ids[start : start + batch_size]
            chunk = chunk[:, : max(1, int((chunk != 0).sum(1).max()))]
            _, logits = encoder(chunk.to(device))
            metric.update(
                {n: logits[n].cpu() for n in labels},
                {n: v[start : start + batch_size] for n, v in labels.items()},
            )
    finally:
        encoder.train(was_training)
    result = metric.compute()
    return {n: result[n] for n in labels}


@dataclass
class LanguageData:
    """The official sentences and their attributes (``language_original.mat`` + ``ind.mat``).

    Attributes:
        sentences: the 78,979 ``engJ`` sentences.
        word_ids: ``(N, L)`` int64 official ``codeJ`` ids (1-based), right-padded with 0 (``L`` = 17).
        labels: attribute name -> ``(N,)`` int64 0-based class ids (see `ATTRIBUTE_FIELDS`).
        train_index, test_index: ``(70000,)`` and ``(8979,)`` int64 **0-based** row indices.
    """

    sentences: list[str]
    word_ids: torch.Tensor
    labels: dict[str, torch.Tensor]
    train_index: torch.Tensor
    test_index: torch.Tensor


def _variables(mat: dict) -> list[str]:
    return sorted(k for k in mat if not k.startswith("__"))


def _find(data_dir: Path, name: str) -> Path:
    for candidate in (data_dir / name, data_dir / "benchmark" / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"data_dir: expected {name} in {data_dir} or {data_dir / 'benchmark'}, found neither"
    )


def load_language_data(data_dir: str | os.PathLike) -> LanguageData:
    """Read the official sentences, word ids, attributes and split.

    Args:
        data_dir: a folder holding ``language_original.mat`` and ``ind.mat`` (directly or in ``benchmark/``,
            the release's layout).

    Returns:
        A [`LanguageData`][fashion_gan.text.LanguageData].
    """
    import numpy as np
    from scipy.io import loadmat

    if not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir: expected a str or os.PathLike, got {type(data_dir).__name__}")
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data_dir: expected a folder, got {data_dir} (not found)")
    language_path, ind_path = _find(data_dir, "language_original.mat"), _find(data_dir, "ind.mat")
    language = loadmat(language_path)
    ind = loadmat(ind_path)
    for key in ("engJ", "codeJ", *(field for field, _ in ATTRIBUTE_FIELDS.values())):
        if key not in language:
            raise ValueError(f"{language_path}: expected a variable {key!r}, got {_variables(language)}")
    for key in ("train_ind", "test_ind"):
        if key not in ind:
            raise ValueError(f"{ind_path}: expected a variable {key!r}, got {_variables(ind)}")

    codes = [np.asarray(c).astype(np.int64).ravel() for c in language["codeJ"].ravel()]
    n = len(codes)
    word_ids = torch.zeros(n, max(len(c) for c in codes), dtype=torch.int64)
    for row, code in enumerate(codes):
        word_ids[row, : len(code)] = torch.from_numpy(code)
    sentences = [
        str(np.asarray(s).ravel()[0]) if np.asarray(s).size else "" for s in language["engJ"].ravel()
    ]
    labels = {
        name: torch.from_numpy(language[field].astype(np.int64).ravel()) - offset
        for name, (field, offset) in ATTRIBUTE_FIELDS.items()
    }
    for name, value in labels.items():
        if value.shape[0] != n:
            raise ValueError(
                f"{language_path}: expected {n} {ATTRIBUTE_FIELDS[name][0]} rows, got {value.shape[0]}"
            )
    split = {k: torch.from_numpy(ind[k].astype(np.int64).ravel()) - 1 for k in ("train_ind", "test_ind")}
    for key, value in split.items():
        if value.numel() == 0 or int(value.min()) < 0 or int(value.max()) >= n:
            raise ValueError(f"{ind_path}: expected 1-based {key} in [1, {n}], got values outside")
    return LanguageData(sentences, word_ids, labels, split["train_ind"], split["test_ind"])


def _markdown_table(columns: dict[str, dict[str, float]]) -> str:
    names = list(next(iter(columns.values())))
    lines = ["| attribute | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for name in [*names, "mean"]:
        cells = []
        for accuracy in columns.values():
            value = sum(accuracy.values()) / len(accuracy) if name == "mean" else accuracy[name]
            cells.append(f"{100 * value:.2f}%")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def text_report(
    data_dir: str | os.PathLike,
    *,
    out_json: str | os.PathLike | None = None,
    weights: str | os.PathLike | None = None,
    epochs: int = 30,
    batch_size: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
    word_dropout: float = 0.0,
    weight_decay: float = 0.0,
    count_weighted: bool = True,
    print_table: bool = True,
    log_every: int = 0,
) -> dict:
    """Attribute accuracy on the official TEST split: the official weights vs an encoder trained here.

    Reads ``language_original.mat`` and ``ind.mat`` from ``data_dir``, trains
    [`train_text_encoder`][fashion_gan.text.train_text_encoder] on the official TRAIN split, evaluates both
    encoders on the TEST split with [`attribute_accuracy`][fashion_gan.text.attribute_accuracy], prints a
    markdown table and optionally writes JSON. The official split is not sentence-disjoint (most test
    sentences also occur in training), so accuracy is also reported on the test rows whose word sequence never
    occurs in the training split ("unseen").

    Args:
        data_dir: folder with the official metadata (``language_original.mat``, ``ind.mat``; optionally
            ``rnn_latest.pth``).
        out_json: where to write the report as JSON (folders are created), or ``None``.
        weights: the official ``rnn_latest.pth``; default ``data_dir/rnn_latest.pth``. If absent, that
            column is left out (``"official": null`` in the JSON).
        epochs: passed to [`train_text_encoder`][fashion_gan.text.train_text_encoder].
        batch_size: passed to [`train_text_encoder`][fashion_gan.text.train_text_encoder].
        lr: passed to [`train_text_encoder`][fashion_gan.text.train_text_encoder].
        seed: passed to [`train_text_encoder`][fashion_gan.text.train_text_encoder].
        word_dropout: passed to [`train_text_encoder`][fashion_gan.text.train_text_encoder].
        weight_decay: passed to [`train_text_encoder`][fashion_gan.text.train_text_encoder].
        count_weighted: passed to [`train_text_encoder`][fashion_gan.text.train_text_encoder].
        print_table: print the table to stdout.
        log_every: print the training loss every this many epochs (0: silent).

    Returns:
        A dict with ``official`` and ``trained`` accuracies (attribute -> fraction) on the whole test split,
        ``official_unseen`` and ``trained_unseen`` on its unseen sentences (``None`` when there are none or no
        official weights), the split sizes, the training settings and time, and the markdown ``table``.
    """
    data = load_language_data(data_dir)
    weights = Path(data_dir) / "rnn_latest.pth" if weights is None else Path(weights)
    test_ids, train_ids = data.word_ids[data.test_index], data.word_ids[data.train_index]
    test_labels = {n: v[data.test_index] for n, v in data.labels.items()}
    train_labels = {n: v[data.train_index] for n, v in data.labels.items()}

    # The split is not sentence-disjoint: most test sentences also occur in training. Report the rest apart.
    seen = set(map(tuple, train_ids.tolist()))
    unseen = torch.tensor([tuple(row) not in seen for row in test_ids.tolist()], dtype=torch.bool)
    unseen_ids, unseen_labels = test_ids[unseen], {n: v[unseen] for n, v in test_labels.items()}

    def evaluate(encoder: RNNTextEncoder) -> tuple[dict[str, float], dict[str, float] | None]:
        on_unseen = attribute_accuracy(encoder, unseen_ids, unseen_labels) if bool(unseen.any()) else None
        return attribute_accuracy(encoder, test_ids, test_labels), on_unseen

    official = official_unseen = None
    if weights.is_file():
        official, official_unseen = evaluate(load_official_text_encoder(weights))
    start = time.perf_counter()
    training = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed}
    training |= {"word_dropout": word_dropout, "weight_decay": weight_decay, "count_weighted": count_weighted}
    trained_encoder = train_text_encoder(train_ids, train_labels, **training, log_every=log_every)
    train_seconds = time.perf_counter() - start
    trained, trained_unseen = evaluate(trained_encoder)

    n_unseen = int(unseen.sum())
    columns = {}
    if official is not None:
        columns["official rnn_latest.pth"] = official
    columns[f"trained here ({epochs} epochs, Adam)"] = trained
    if official_unseen is not None:
        columns[f"official, {n_unseen} unseen"] = official_unseen
    if trained_unseen is not None:
        columns[f"trained here, {n_unseen} unseen"] = trained_unseen
    table = _markdown_table(columns)
    train_rows = torch.cat([train_ids, torch.stack(list(train_labels.values()), dim=1)], dim=1)
    report = {
        "date": datetime.date.today().isoformat(),
        "data_dir": str(data_dir),
        "split": "official test_ind",
        "test_sentences": int(data.test_index.numel()),
        "train_sentences": int(data.train_index.numel()),
        "distinct_train_rows": int(torch.unique(train_rows, dim=0).shape[0]),
        "unseen_test_sentences": n_unseen,
        "official": official,
        "trained": trained,
        "official_unseen": official_unseen,
        "trained_unseen": trained_unseen,
        "training": {
            **training,
            "optimizer": "AdamW" if weight_decay else "Adam",
            "seconds": round(train_seconds, 1),
            "threads": torch.get_num_threads(),
        },
        "torch": torch.__version__,
        "table": table,
    }
    if print_table:
        print(table)
    if out_json is not None:
        out_json = Path(out_json)
        out_json.parent.mkdir(parents=True, exist_ok=True)
        out_json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m fashion_gan.text --data DIR [--out JSON] [--epochs N] ...``."""
    parser = argparse.ArgumentParser(
        prog="python -m fashion_gan.text", description=text_report.__doc__.splitlines()[0]
    )
    parser.add_argument("--data", required=True, help="folder with language_original.mat and ind.mat")
    parser.add_argument("--out", default=None, help="write the report as JSON here")
    parser.add_argument(
        "--weights", default=None, help="official rnn_latest.pth (default: DATA/rnn_latest.pth)"
    )
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--word-dropout", type=float, default=0.0, help="p of deleting a training word")
    parser.add_argument("--weight-decay", type=float, default=0.0, help="AdamW weight decay (0: plain Adam)")
    parser.add_argument(
        "--uniform-rows", action="store_true", help="weigh distinct training rows alike, not by their count"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    args = parser.parse_args(argv)
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads: expected a positive int, got {args.threads}")
        torch.set_num_threads(args.threads)
    try:  # the training options, checked before any file is read
        _check_regularisation(args.seed, args.word_dropout, args.weight_decay, not args.uniform_rows)
    except (TypeError, ValueError) as err:
        parser.error(f"--{str(err).split(':', 1)[0].replace('_', '-')}:{str(err).split(':', 1)[1]}")
    text_report(
        args.data,
        out_json=args.out,
        weights=args.weights,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        word_dropout=args.word_dropout,
        weight_decay=args.weight_decay,
        count_weighted=not args.uniform_rows,
        log_every=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
