"""Word vocabulary and tokenizer.

Word ids are 1-based, as in the official FashionGAN release (``codeJ``); id 0 is reserved for padding.
The tokenizer lower-cases, splits on white space and strips ``.`` and ``,`` from each token; with the official
539-word list this reproduces the released ``codeJ`` of all 78,979 sentences exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

__all__ = ["PAD_ID", "Vocabulary", "tokenize", "UnknownWordError"]

PAD_ID = 0


class UnknownWordError(ValueError):
    """A sentence holds words the vocabulary does not know."""


def tokenize(sentence: str) -> list[str]:
    """Split a sentence into tokens the way the official word ids were made.

    Examples:
        >>> tokenize("The lady was wearing a blue, long-sleeved blouse.")
        ['the', 'lady', 'was', 'wearing', 'a', 'blue', 'long-sleeved', 'blouse']
    """
    if not isinstance(sentence, str):
        raise TypeError(f"sentence: expected str, got {type(sentence).__name__}")
    return [tok for tok in (t.strip(".,") for t in sentence.lower().split()) if tok]


class Vocabulary:
    """An ordered word list: ``words[i]`` has id ``i + 1``; id 0 is padding.

    Args:
        words: the words in id order, without duplicates.
        unknown: what ``encode`` does with an unknown word: ``"error"`` raises
            [`UnknownWordError`][condgan.text.vocabulary.UnknownWordError] naming the words, ``"skip"`` drops
            them.

    Examples:
        >>> vocab = Vocabulary(["the", "lady", "wore", "a", "red", "dress"])
        >>> vocab.encode("The lady wore a red dress.")
        [1, 2, 3, 4, 5, 6]
        >>> vocab.decode([1, 2, 3, 4, 5, 6])
        'the lady wore a red dress'
    """

    def __init__(self, words: Sequence[str], *, unknown: str = "error") -> None:
        words = list(words)
        if not words:
            raise ValueError("words: expected a non-empty word list, got an empty one")
        if unknown not in ("error", "skip"):
            raise ValueError(f"unknown: expected 'error' or 'skip', got {unknown!r}")
        index: dict[str, int] = {}
        for i, word in enumerate(words):
            if not isinstance(word, str) or not word:
                raise ValueError(f"words[{i}]: expected a non-empty str, got {word!r}")
            if word in index:
                raise ValueError(f"words: duplicate word {word!r} at positions {index[word] - 1} and {i}")
            index[word] = i + 1
        self.words = words
        self.unknown = unknown
        self._index = index

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> Vocabulary:
        """Read one word per line (id = line number)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"vocabulary file not found: {path}")
        return cls(
            [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()], **kwargs
        )

    @classmethod
    def from_sentences(cls, sentences: Iterable[str], **kwargs: Any) -> Vocabulary:
        """Build a vocabulary whose ids follow each word's first appearance in ``sentences``.

        This is how the official ids were assigned (1 the, 2 lady, 3 was, 4 wearing, ...).

        Examples:
            >>> Vocabulary.from_sentences(["the lady wore a dress.", "the man wore a tee."]).words
            ['the', 'lady', 'wore', 'a', 'dress', 'man', 'tee']
        """
        if isinstance(sentences, str):
            raise TypeError("sentences: expected an iterable of str, got a single str")
        seen: dict[str, None] = {}
        for sentence in sentences:
            seen.update(dict.fromkeys(tokenize(sentence)))
        if not seen:
            raise ValueError("sentences: expected at least one sentence with a word, got none")
        return cls(list(seen), **kwargs)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self._index

    def unknown_words(self, sentence: str) -> list[str]:
        """The tokens of ``sentence`` that are not in the vocabulary."""
        return [tok for tok in tokenize(sentence) if tok not in self._index]

    def encode(self, sentence: str) -> list[int]:
        """Token ids (1-based) of ``sentence``."""
        tokens = tokenize(sentence)
        missing = [tok for tok in tokens if tok not in self._index]
        if missing and self.unknown == "error":
            raise UnknownWordError(
                f"sentence {sentence!r}: words not in the {len(self)}-word vocabulary: {sorted(set(missing))}"
            )
        ids = [self._index[tok] for tok in tokens if tok in self._index]
        if not ids:
            raise UnknownWordError(f"sentence {sentence!r}: expected at least one known word, got none")
        return ids

    def decode(self, ids: Iterable[int] | torch.Tensor) -> str:
        """Words of ``ids`` (a sequence or a 1-d tensor) joined by spaces; padding (0) is dropped."""
        if isinstance(ids, torch.Tensor):
            if ids.ndim != 1:
                raise ValueError(f"ids: expected a 1-d tensor of word ids, got shape {tuple(ids.shape)}")
            ids = ids.tolist()
        out = []
        for i in ids:
            i = int(i)
            if i == PAD_ID:
                continue
            if not 1 <= i <= len(self):
                raise ValueError(f"ids: expected word ids in [1, {len(self)}] or 0 for padding, got {i}")
            out.append(self.words[i - 1])
        return " ".join(out)

    def encode_batch(self, sentences: Sequence[str], *, max_length: int | None = None) -> torch.Tensor:
        """Encode and right-pad with 0 into a ``(B, L)`` int64 tensor; ``max_length`` truncates longer ones.

        Examples:
            >>> Vocabulary(["a", "red", "dress"]).encode_batch(["a red dress", "a dress"])
            tensor([[1, 2, 3],
                    [1, 3, 0]])
        """
        if isinstance(sentences, str):
            raise TypeError("sentences: expected a sequence of str, got a single str")
        if len(sentences) == 0:
            raise ValueError("sentences: expected at least one sentence, got none")
        if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int)):
            raise TypeError(f"max_length: expected a positive int or None, got {type(max_length).__name__}")
        if max_length is not None and max_length <= 0:
            raise ValueError(f"max_length: expected a positive int or None, got {max_length}")
        encoded = [self.encode(s) for s in sentences]
        length = max(len(e) for e in encoded) if max_length is None else max_length
        out = torch.zeros(len(encoded), length, dtype=torch.int64)
        for row, ids in enumerate(encoded):
            ids = ids[:length]
            out[row, : len(ids)] = torch.tensor(ids, dtype=torch.int64)
        return out
