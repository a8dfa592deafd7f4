import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.text import PAD_ID, UnknownWordError, Vocabulary, tokenize

WORDS = [
    "the",
    "lady",
    "man",
    "was",
    "wearing",
    "wore",
    "a",
    "blue",
    "red",
    "long-sleeved",
    "dress",
    "blouse",
]


@pytest.fixture
def vocab() -> Vocabulary:
    return Vocabulary(WORDS)


def test_tokenize_matches_official_rules():
    assert tokenize("The lady wore a blue, long-sleeved blouse.") == [
        "the",
        "lady",
        "wore",
        "a",
        "blue",
        "long-sleeved",
        "blouse",
    ]
    # a lone punctuation token disappears, inner punctuation stays
    assert tokenize("a . red, dress") == ["a", "red", "dress"]
    with pytest.raises(TypeError, match="sentence: expected str, got int"):
        tokenize(3)


@settings(deadline=None, max_examples=40)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12), st.sampled_from(["", ".", ","]))
def test_encode_decode_round_trip(words, tail):
    vocab = Vocabulary(WORDS)
    sentence = " ".join(words) + tail
    ids = vocab.encode(sentence)
    assert ids == [WORDS.index(w) + 1 for w in words]
    assert all(1 <= i <= len(vocab) for i in ids)
    assert vocab.decode(ids) == " ".join(words)
    assert vocab.decode(torch.tensor(ids + [PAD_ID, PAD_ID])) == " ".join(words)


@settings(deadline=None, max_examples=25)
@given(st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8), min_size=1, max_size=6))
def test_encode_batch_pads_right_and_round_trips(sentences):
    vocab = Vocabulary(WORDS)
    batch = vocab.encode_batch([" ".join(s) for s in sentences])
    assert batch.dtype == torch.int64
    assert batch.shape == (len(sentences), max(len(s) for s in sentences))
    for row, words in zip(batch, sentences, strict=True):
        assert (row[len(words) :] == PAD_ID).all()
        assert (row[: len(words)] >= 1).all()
        assert vocab.decode(row) == " ".join(words)


def test_encode_batch_truncates_and_validates(vocab):
    assert vocab.encode_batch(["the lady wore a red dress"], max_length=3).tolist() == [[1, 2, 6]]
    with pytest.raises(ValueError, match="sentences: expected at least one sentence, got none"):
        vocab.encode_batch([])
    with pytest.raises(TypeError, match="sentences: expected a sequence of str, got a single str"):
        vocab.encode_batch("the lady")
    with pytest.raises(ValueError, match="max_length: expected a positive int or None, got 0"):
        vocab.encode_batch(["the lady"], max_length=0)


def test_unknown_words_are_named(vocab):
    with pytest.raises(UnknownWordError, match=r"words not in the 12-word vocabulary: \['green', 'skirt'\]"):
        vocab.encode("the lady wore a green skirt.")
    assert vocab.unknown_words("the lady wore a green skirt.") == ["green", "skirt"]
    # UnknownWordError is a ValueError, so generic handlers catch it
    with pytest.raises(ValueError, match="green"):
        vocab.encode("green")


def test_skip_mode_drops_unknown_words_but_not_everything():
    vocab = Vocabulary(WORDS, unknown="skip")
    assert vocab.encode("the lady wore a green dress") == [1, 2, 6, 7, 11]
    with pytest.raises(UnknownWordError, match="expected at least one known word, got none"):
        vocab.encode("green skirt")


def test_constructor_and_decode_validation(vocab):
    with pytest.raises(ValueError, match="words: expected a non-empty word list"):
        Vocabulary([])
    with pytest.raises(ValueError, match="words: duplicate word 'a' at positions 0 and 2"):
        Vocabulary(["a", "b", "a"])
    with pytest.raises(ValueError, match=r"words\[1\]: expected a non-empty str, got ''"):
        Vocabulary(["a", ""])
    with pytest.raises(ValueError, match="unknown: expected 'error' or 'skip', got 'ignore'"):
        Vocabulary(["a"], unknown="ignore")
    with pytest.raises(ValueError, match=r"ids: expected word ids in \[1, 12\] or 0 for padding, got 13"):
        vocab.decode([1, 13])
    with pytest.raises(ValueError, match=r"ids: expected a 1-d tensor of word ids, got shape \(1, 2\)"):
        vocab.decode(torch.tensor([[1, 2]]))


def test_from_sentences_follows_first_appearance():
    vocab = Vocabulary.from_sentences(
        ["The lady was wearing a blue blouse.", "the lady wore a blue, red dress"]
    )
    assert vocab.words[:8] == ["the", "lady", "was", "wearing", "a", "blue", "blouse", "wore"]
    assert vocab.encode("the lady wore a red dress") == [1, 2, 8, 5, 9, 10]
    with pytest.raises(ValueError, match="sentences: expected at least one sentence with a word, got none"):
        Vocabulary.from_sentences([" . "])
    with pytest.raises(TypeError, match="sentences: expected an iterable of str, got a single str"):
        Vocabulary.from_sentences("the lady")


def test_from_file(tmp_path, vocab):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(WORDS) + "\n\n", encoding="utf-8")
    loaded = Vocabulary.from_file(path)
    assert loaded.words == WORDS and len(loaded) == 12 and "dress" in loaded
    with pytest.raises(FileNotFoundError, match="vocabulary file not found: .*missing.txt"):
        Vocabulary.from_file(tmp_path / "missing.txt")
