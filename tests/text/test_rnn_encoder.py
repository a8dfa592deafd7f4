import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from condgan.text import (
    FASHIONGAN_HEADS,
    RNNTextEncoder,
    from_official_state_dict,
    lengths_from_padding,
    one_hot_rnn,
    to_official_state_dict,
)

OFFICIAL_KEYS = {
    "rnn.weight_ih_l0": (100, 539),
    "rnn.weight_hh_l0": (100, 100),
    "rnn.bias_ih_l0": (100,),
    "rnn.bias_hh_l0": (100,),
    "rnn.weight_ih_l1": (100, 100),
    "rnn.weight_hh_l1": (100, 100),
    "rnn.bias_ih_l1": (100,),
    "rnn.bias_hh_l1": (100,),
    "net_cate_new.weight": (19, 100),
    "net_cate_new.bias": (19,),
    "net_color.weight": (17, 100),
    "net_color.bias": (17,),
    "net_gender.weight": (2, 100),
    "net_gender.bias": (2,),
    "net_sleeve.weight": (4, 100),
    "net_sleeve.bias": (4,),
}


def padded_batch(rows: list[list[int]], length: int | None = None) -> torch.Tensor:
    length = max(len(r) for r in rows) if length is None else length
    out = torch.zeros(len(rows), length, dtype=torch.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r)
    return out


def explicit_one_hot_states(rnn: nn.RNN, word_ids: torch.Tensor) -> torch.Tensor:
    """Reference: build the (B, L, V) one-hot tensor and run rnn on it, as the official code did."""
    lengths = (word_ids != 0).sum(1)
    one_hot = F.one_hot((word_ids - 1).clamp_min(0), rnn.input_size).to(rnn.weight_ih_l0.dtype)
    if not rnn.batch_first:
        one_hot = one_hot.transpose(0, 1)  # (L, B, V), time-major as the official code fed it
    packed = pack_padded_sequence(one_hot, lengths, batch_first=rnn.batch_first, enforce_sorted=False)
    return rnn(packed)[1]


rows_strategy = st.lists(st.lists(st.integers(1, 12), min_size=1, max_size=7), min_size=1, max_size=5)


def test_shapes_defaults_and_range():
    enc = RNNTextEncoder()
    ids = padded_batch([[1, 2, 3, 4, 5, 6, 7, 8], [9, 2, 539]])
    code, logits = enc(ids)
    assert code.shape == (2, 100) and code.dtype == torch.float32
    assert {k: v.shape for k, v in logits.items()} == {
        "category": (2, 19),
        "color": (2, 17),
        "gender": (2, 2),
        "sleeve": (2, 4),
    }
    assert code.abs().max() < 1  # tanh state
    assert torch.equal(enc.encode(ids), code)
    assert dict(enc.head_sizes) == dict(FASHIONGAN_HEADS)


def test_hand_set_rnn_matches_manual_tanh_recurrence():
    # V = 3 words, H = 2, two layers, every weight set by hand; the reference is plain-float arithmetic.
    enc = RNNTextEncoder(vocab_size=3, hidden_size=2, num_layers=2, heads={"y": 1})
    w_ih0 = [[0.5, -1.0, 0.25], [0.0, 0.75, -0.5]]
    w_hh0 = [[0.1, -0.2], [0.3, 0.4]]
    b_ih0, b_hh0 = [0.05, -0.1], [0.0, 0.2]
    w_ih1 = [[1.0, -0.5], [0.5, 0.5]]
    w_hh1 = [[-0.3, 0.1], [0.2, -0.1]]
    b_ih1, b_hh1 = [0.1, 0.0], [-0.05, 0.05]
    head_w, head_b = [[2.0, -1.0]], [0.5]
    params = {
        "rnn.weight_ih_l0": w_ih0,
        "rnn.weight_hh_l0": w_hh0,
        "rnn.bias_ih_l0": b_ih0,
        "rnn.bias_hh_l0": b_hh0,
        "rnn.weight_ih_l1": w_ih1,
        "rnn.weight_hh_l1": w_hh1,
        "rnn.bias_ih_l1": b_ih1,
        "rnn.bias_hh_l1": b_hh1,
        "heads.y.weight": head_w,
        "heads.y.bias": head_b,
    }
    enc.load_state_dict({k: torch.tensor(v) for k, v in params.items()})

    def step(w_ih, w_hh, b_ih, b_hh, x, h):
        return [
            math.tanh(
                sum(w_ih[i][j] * x[j] for j in range(len(x)))
                + b_ih[i]
                + sum(w_hh[i][j] * h[j] for j in range(2))
                + b_hh[i]
            )
            for i in range(2)
        ]

    def manual(words):
        h0, h1 = [0.0, 0.0], [0.0, 0.0]
        for w in words:
            x = [1.0 if j == w - 1 else 0.0 for j in range(3)]
            h0 = step(w_ih0, w_hh0, b_ih0, b_hh0, x, h0)
            h1 = step(w_ih1, w_hh1, b_ih1, b_hh1, h0, h1)
        return h1

    sentences = [[1, 3, 2, 2], [3], [2, 1]]
    code, logits = enc(padded_batch(sentences))
    for row, words in enumerate(sentences):
        expected = manual(words)
        assert code[row].tolist() == pytest.approx(expected, abs=1e-6)
        assert logits["y"][row].item() == pytest.approx(2 * expected[0] - expected[1] + 0.5, abs=1e-6)


@settings(deadline=None, max_examples=20)
@given(rows_strategy, st.booleans())
def test_embedding_lookup_equals_explicit_one_hot(rows, batch_first):
    torch.manual_seed(0)
    rnn = nn.RNN(12, 6, num_layers=2, batch_first=batch_first)
    ids = padded_batch(rows)
    expected = explicit_one_hot_states(rnn, ids)
    got = one_hot_rnn(rnn, ids)
    assert got.shape == (2, len(rows), 6)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)


def test_embedding_lookup_equals_explicit_one_hot_float64_relu_no_bias():
    torch.manual_seed(1)
    rnn = nn.RNN(9, 5, num_layers=3, nonlinearity="relu", bias=False, batch_first=True).double()
    ids = padded_batch([[1, 9, 4, 4, 2], [7, 7], [3, 1, 8]])
    got = one_hot_rnn(rnn, ids)
    assert got.dtype == torch.float64
    torch.testing.assert_close(got, explicit_one_hot_states(rnn, ids), atol=1e-12, rtol=0)


@settings(deadline=None, max_examples=20)
@given(rows_strategy, st.integers(0, 5))
def test_padding_does_not_change_a_code(rows, extra):
    torch.manual_seed(0)
    enc = RNNTextEncoder(vocab_size=12, hidden_size=8, heads=None)
    batch = enc.encode(padded_batch(rows, max(len(r) for r in rows) + extra))
    for row, words in enumerate(rows):
        alone = enc.encode(torch.tensor([words]))
        torch.testing.assert_close(batch[row : row + 1], alone, atol=1e-6, rtol=0)


def test_explicit_lengths_ignore_what_follows():
    torch.manual_seed(0)
    enc = RNNTextEncoder(vocab_size=12, hidden_size=8, heads=None)
    ids = torch.tensor([[3, 4, 5, 6], [7, 8, 9, 10]])
    code = enc.encode(ids, lengths=torch.tensor([2, 4]))
    reference = enc.encode(torch.tensor([[3, 4, 0, 0], [7, 8, 9, 10]]))
    torch.testing.assert_close(code, reference, atol=1e-6, rtol=0)
    assert not torch.allclose(code, enc.encode(ids))  # the words after the length did matter without it


def test_gradients_reach_only_the_words_used():
    torch.manual_seed(0)
    enc = RNNTextEncoder(vocab_size=12, hidden_size=8, heads={"c": 3})
    code, logits = enc(torch.tensor([[2, 5, 0], [5, 7, 11]]))
    (code.sum() + logits["c"].sum()).backward()
    used = enc.rnn.weight_ih_l0.grad.abs().sum(0) > 0  # one column per word
    assert used.nonzero().flatten().tolist() == [1, 4, 6, 10]
    assert enc.rnn.weight_hh_l1.grad.abs().sum() > 0 and enc.heads["c"].weight.grad.abs().sum() > 0


def test_heads_none_or_empty_gives_no_logits():
    for heads in (None, {}):
        enc = RNNTextEncoder(vocab_size=5, hidden_size=4, heads=heads)
        code, logits = enc(torch.tensor([[1, 2]]))
        assert code.shape == (1, 4) and logits == {}
        assert all(k.startswith("rnn.") for k in enc.state_dict())


def test_official_key_mapping_round_trip():
    enc = RNNTextEncoder()
    official = to_official_state_dict(enc.state_dict())
    assert {k: tuple(v.shape) for k, v in official.items()} == OFFICIAL_KEYS
    back = from_official_state_dict(official)
    assert back.keys() == enc.state_dict().keys()
    other = RNNTextEncoder()
    other.load_state_dict(back)
    ids = torch.tensor([[1, 2, 3], [4, 5, 0]])
    torch.testing.assert_close(other(ids)[0], enc(ids)[0])
    # unknown keys pass through, so load_state_dict can report them
    assert "extra.weight" in from_official_state_dict({"extra.weight": torch.zeros(1)})
    with pytest.raises(TypeError, match="state_dict: expected a mapping of names to tensors, got list"):
        from_official_state_dict([])
    with pytest.raises(TypeError, match="head_names: expected a mapping of str to str"):
        to_official_state_dict({}, head_names={"category": 3})


def test_lengths_from_padding():
    assert lengths_from_padding(torch.tensor([[4, 2, 0], [7, 0, 0], [1, 1, 1]])).tolist() == [2, 1, 3]
    with pytest.raises(
        ValueError, match=r"word_ids: expected at least one word \(id >= 1\) per row, got empty rows \[1\]"
    ):
        lengths_from_padding(torch.tensor([[4, 2], [0, 0]]))
    with pytest.raises(ValueError, match=r"expected padding \(0\) only after the last word .* in rows \[0\]"):
        lengths_from_padding(torch.tensor([[4, 0, 2], [1, 0, 0]]))


@pytest.mark.parametrize(
    ("word_ids", "error", "message"),
    [
        (
            torch.tensor([[1.0, 2.0]]),
            TypeError,
            "word_ids: expected an integer tensor .* got dtype torch.float32",
        ),
        (torch.tensor([[True]]), TypeError, "word_ids: expected an integer tensor"),
        ([[1, 2]], TypeError, "word_ids: expected a torch.Tensor, got list"),
        (torch.tensor([1, 2]), ValueError, r"word_ids: expected shape \(B, L\), got \(2,\)"),
        (
            torch.zeros(0, 3, dtype=torch.int64),
            ValueError,
            r"word_ids: expected a non-empty \(B, L\) tensor, got shape \(0, 3\)",
        ),
        (torch.zeros(2, 0, dtype=torch.int64), ValueError, r"got shape \(2, 0\)"),
        (
            torch.tensor([[1, 13]]),
            ValueError,
            r"word_ids: expected word ids in \[1, 12\] or 0 for padding, got an id 13",
        ),
        (
            torch.tensor([[1, -1]]),
            ValueError,
            r"word_ids: expected word ids in \[1, 12\] or 0 for padding, got an id -1",
        ),
        (torch.tensor([[0, 0], [1, 0]]), ValueError, r"got empty rows \[0\]"),
    ],
)
def test_word_id_validation(word_ids, error, message):
    enc = RNNTextEncoder(vocab_size=12, hidden_size=4)
    with pytest.raises(error, match=message):
        enc(word_ids)


def test_int32_ids_are_accepted():
    torch.manual_seed(0)
    enc = RNNTextEncoder(vocab_size=12, hidden_size=4, heads=None)
    ids = torch.tensor([[3, 1, 0]])
    torch.testing.assert_close(enc.encode(ids.int()), enc.encode(ids))


def test_lengths_validation():
    enc = RNNTextEncoder(vocab_size=12, hidden_size=4)
    ids = torch.tensor([[3, 4, 0], [5, 6, 7]])
    with pytest.raises(
        ValueError, match=r"lengths: expected lengths in \[1, 3\] \(the padded length L\), got a length 4"
    ):
        enc(ids, torch.tensor([2, 4]))
    with pytest.raises(ValueError, match=r"lengths: expected lengths in \[1, 3\].* got a length 0"):
        enc(ids, torch.tensor([0, 3]))
    with pytest.raises(
        ValueError,
        match=r"word_ids: expected word ids >= 1 within each row's length, got padding 0 in rows \[0\]",
    ):
        enc(ids, torch.tensor([3, 3]))
    with pytest.raises(ValueError, match="batch size mismatch: .* word_ids=2, lengths=1"):
        enc(ids, torch.tensor([2]))
    with pytest.raises(TypeError, match="lengths: expected an integer tensor"):
        enc(ids, torch.tensor([2.0, 3.0]))
    with pytest.raises(ValueError, match=r"lengths: expected shape \(B,\), got \(2, 1\)"):
        enc(ids, torch.tensor([[2], [3]]))


def test_constructor_and_rnn_validation():
    with pytest.raises(ValueError, match="vocab_size: expected a positive int, got 0"):
        RNNTextEncoder(vocab_size=0)
    with pytest.raises(TypeError, match="hidden_size: expected a positive int, got float 8.0"):
        RNNTextEncoder(hidden_size=8.0)
    with pytest.raises(ValueError, match=r"heads\['color'\]: expected a positive int, got 0"):
        RNNTextEncoder(heads={"color": 0})
    with pytest.raises(ValueError, match="heads: expected head names that are Python identifiers, got 'a.b'"):
        RNNTextEncoder(heads={"a.b": 2})
    with pytest.raises(
        TypeError, match="heads: expected a mapping name -> number of classes or None, got list"
    ):
        RNNTextEncoder(heads=[("color", 3)])
    with pytest.raises(TypeError, match="rnn: expected a torch.nn.RNN, got GRU"):
        one_hot_rnn(nn.GRU(5, 3), torch.tensor([[1]]))
    with pytest.raises(
        ValueError, match="rnn: expected a unidirectional RNN without projection, got bidirectional=True"
    ):
        one_hot_rnn(nn.RNN(5, 3, bidirectional=True), torch.tensor([[1]]))


def test_dropout_follows_train_and_eval():
    torch.manual_seed(0)
    rnn = nn.RNN(12, 16, num_layers=2, dropout=0.5, batch_first=True)
    ids = torch.tensor([[1, 2, 3, 4]])
    rnn.eval()
    torch.testing.assert_close(one_hot_rnn(rnn, ids), one_hot_rnn(rnn, ids))
    torch.testing.assert_close(one_hot_rnn(rnn, ids), explicit_one_hot_states(rnn, ids), atol=1e-6, rtol=0)
    rnn.train()
    assert not torch.equal(
        one_hot_rnn(rnn, ids)[-1], one_hot_rnn(rnn, ids)[-1]
    )  # dropout between layers is live
