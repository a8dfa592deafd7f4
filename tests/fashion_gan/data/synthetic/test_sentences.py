"""Sentences of synthetic samples: official words, and they say what is drawn."""

from __future__ import annotations

import re
from collections import Counter

from fashion_gan.data.contract import CATEGORY_NAMES, COLOR_NAMES, SLEEVE_NAMES, official_vocabulary


def test_sentences_use_only_official_words(many):
    _, sentences = many
    vocab = official_vocabulary()
    unknown = Counter(w for s in sentences for w in vocab.unknown_words(s))
    assert not unknown, unknown
    assert all(re.fullmatch(r"[a-z -]+\.", s) for s in sentences)


def test_sentences_say_what_is_drawn(many):
    attrs, sentences = many
    for j, sentence in enumerate(sentences):
        words = sentence.rstrip(".").split()
        assert words[1] in ("lady", "woman", "girl", "man", "boy")
        assert (words[1] in ("man", "boy")) == bool(attrs["gender"][j])
        assert CATEGORY_NAMES[attrs["category"][j]] in words
        color = attrs["color"][j]
        if color == 16:
            assert {"multicolor", "multi-colored", "multicolored", "multi-color"} & set(words)
        else:
            assert COLOR_NAMES[color] in words
        sleeve = attrs["sleeve"][j]
        present = [name for name in SLEEVE_NAMES[:3] if name in words]
        assert present == ([] if sleeve == 3 else [SLEEVE_NAMES[sleeve]])
        for article, following in re.findall(r"\b(an?) (\S+)", sentence):
            assert (article == "an") == (following[0] in "aeiou"), sentence
