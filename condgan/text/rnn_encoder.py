"""The official FashionGAN text encoder: a vanilla tanh RNN over one-hot words, with attribute heads.

FashionGAN (Zhu et al., "Be Your Own Prada", ICCV 2017, Sec. 3.1; official ``language/train_te.py``)
encodes a sentence with ``nn.RNN(539, 100, num_layers=2)`` fed one-hot word vectors, starting from
``h0 = 0``. The text code is the final hidden state of the last layer (100-d, in ``(-1, 1)``); four linear
heads predict the sentence's attributes (category 19, colour 17, gender 2, sleeve 4) and are trained with the
sum of four cross-entropies.

One-hot input, done cheaply: for a one-hot word ``x_t = e_w`` the first layer's input term is
``W_ih x_t = W_ih[:, w]``, i.e. row ``w`` of ``W_ih^T``. So the input projection is an embedding lookup of
``W_ih^T`` -- mathematically identical to multiplying by the explicit ``(B, L, V)`` one-hot tensor, without
building it. The recurrence itself still runs in ``torch.nn.RNN``'s kernels: the looked-up vectors are fed to
an RNN of the same weights whose first input matrix is the identity (exact in floating point, since every
product is ``1 * a`` or ``0 * a``), through `torch.func.functional_call`.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Mapping
from types import MappingProxyType

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torch.nn.utils.rnn import pack_padded_sequence

from condgan._checks import check_integer, check_positive_int, check_rank, check_same_batch, check_tensor

__all__ = [
    "FASHIONGAN_HEADS",
    "OFFICIAL_HEAD_NAMES",
    "RNNTextEncoder",
    "from_official_state_dict",
    "lengths_from_padding",
    "one_hot_rnn",
    "to_official_state_dict",
]

#: The official attribute heads and their class counts (``cate_new``, ``color_``, ``gender_``, ``sleeve_``).
FASHIONGAN_HEADS: Mapping[str, int] = MappingProxyType(
    {"category": 19, "color": 17, "gender": 2, "sleeve": 4}
)

#: Our head name -> the official module name suffix: head ``h`` is stored officially as ``net_<name>``.
OFFICIAL_HEAD_NAMES: Mapping[str, str] = MappingProxyType(
    {"category": "cate_new", "color": "color", "gender": "gender", "sleeve": "sleeve"}
)


def _check_word_ids(word_ids: object, vocab_size: int | None) -> torch.Tensor:
    check_rank("word_ids", check_tensor("word_ids", word_ids), 2, "(B, L)")
    check_integer("word_ids", word_ids)
    if word_ids.shape[0] == 0 or word_ids.shape[1] == 0:
        raise ValueError(f"word_ids: expected a non-empty (B, L) tensor, got shape {tuple(word_ids.shape)}")
    low = int(word_ids.min())
    high = int(word_ids.max())
    if low < 0 or (vocab_size is not None and high > vocab_size):
        bad = low if low < 0 else high
        top = "V" if vocab_size is None else str(vocab_size)
        raise ValueError(f"word_ids: expected word ids in [1, {top}] or 0 for padding, got an id {bad}")
    return word_ids


def lengths_from_padding(word_ids: torch.Tensor) -> torch.Tensor:
    """Sequence lengths of right-padded word ids (padding id 0).

    Args:
        word_ids: ``(B, L)`` integer word ids, 1-based, each row right-padded with 0.

    Returns:
        ``(B,)`` int64 lengths: the number of non-padding ids of each row.

    Raises:
        ValueError: a row is all padding, or a word follows padding (padding must be trailing).

    Examples:
        >>> lengths_from_padding(torch.tensor([[4, 2, 0], [7, 0, 0]]))
        tensor([2, 1])
    """
    _check_word_ids(word_ids, None)
    words = word_ids != 0
    lengths = words.sum(dim=1)
    empty = (lengths == 0).nonzero().flatten().tolist()
    if empty:
        raise ValueError(
            f"word_ids: expected at least one word (id >= 1) per row, got empty rows {empty[:10]}"
        )
    gaps = (words[:, 1:] & ~words[:, :-1]).any(dim=1).nonzero().flatten().tolist()
    if gaps:
        raise ValueError(
            f"word_ids: expected padding (0) only after the last word of each row, got a word after padding "
            f"in rows {gaps[:10]}"
        )
    return lengths.to(torch.int64)


def _check_lengths(lengths: object, word_ids: torch.Tensor) -> torch.Tensor:
    check_rank("lengths", check_tensor("lengths", lengths), 1, "(B,)")
    check_integer("lengths", lengths)
    check_same_batch(word_ids=word_ids, lengths=lengths)
    low, high = int(lengths.min()), int(lengths.max())
    if low < 1 or high > word_ids.shape[1]:
        raise ValueError(
            f"lengths: expected lengths in [1, {word_ids.shape[1]}] (the padded length L), got a length "
            f"{low if low < 1 else high}"
        )
    inside = torch.arange(word_ids.shape[1], device=word_ids.device) < lengths.to(word_ids.device)[:, None]
    padded = ((word_ids == 0) & inside).any(dim=1).nonzero().flatten().tolist()
    if padded:
        raise ValueError(
            f"word_ids: expected word ids >= 1 within each row's length, got padding 0 in rows {padded[:10]}"
        )
    return lengths.to(torch.int64)


@functools.lru_cache(maxsize=32)
def _recurrence_template(
    hidden: int, layers: int, nonlinearity: str, bias: bool, dropout: float, training: bool, thread: int
) -> nn.RNN:
    # A weightless (meta) RNN of the right structure; functional_call supplies every weight. One per thread,
    # because functional_call swaps the parameters in place for the duration of the call.
    template = nn.RNN(
        hidden,
        hidden,
        layers,
        nonlinearity=nonlinearity,
        bias=bias,
        dropout=dropout,
        batch_first=True,
        device="meta",
    )
    return template.train(training)


def one_hot_rnn(rnn: nn.RNN, word_ids: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """Run ``rnn`` over one-hot words without building the one-hot tensor; return the final hidden states.

    ``rnn`` is an ``nn.RNN`` whose ``input_size`` is the vocabulary size ``V``. Word ``w`` (1-based) stands
    for the one-hot vector ``e_{w-1}``; its input term ``W_ih e_{w-1} = W_ih^T[w-1]`` is an embedding lookup,
    and the recurrence ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` runs in ``rnn``'s own kernels
    from ``h_0 = 0``. Each row stops at its length (packed sequences), so padding never reaches the state.

    Args:
        rnn: a unidirectional ``nn.RNN`` (tanh or relu, any ``batch_first``) with ``input_size == V``.
        word_ids: ``(B, L)`` integer ids in ``[1, V]``, right-padded with 0.
        lengths: optional ``(B,)`` integer lengths; derived from the padding when ``None``.

    Returns:
        ``(num_layers, B, hidden_size)``: the hidden state of every layer after each row's last word.

    Examples:
        >>> rnn = nn.RNN(6, 4, num_layers=2)
        >>> one_hot_rnn(rnn, torch.tensor([[1, 5, 2], [3, 0, 0]])).shape
        torch.Size([2, 2, 4])
    """
    if not isinstance(rnn, nn.RNN):
        raise TypeError(f"rnn: expected a torch.nn.RNN, got {type(rnn).__name__}")
    if rnn.bidirectional or rnn.proj_size:
        raise ValueError(
            f"rnn: expected a unidirectional RNN without projection, got bidirectional={rnn.bidirectional}, "
            f"proj_size={rnn.proj_size}"
        )
    _check_word_ids(word_ids, rnn.input_size)
    lengths = lengths_from_padding(word_ids) if lengths is None else _check_lengths(lengths, word_ids)

    weight_ih = rnn.weight_ih_l0
    inputs = F.embedding((word_ids.long() - 1).clamp_min(0), weight_ih.t())  # (B, L, H) == one_hot @ W_ih^T
    params = {name: param for name, param in rnn.named_parameters()}
    params["weight_ih_l0"] = torch.eye(rnn.hidden_size, dtype=weight_ih.dtype, device=weight_ih.device)
    template = _recurrence_template(
        rnn.hidden_size,
        rnn.num_layers,
        rnn.nonlinearity,
        rnn.bias,
        float(rnn.dropout),
        rnn.training,
        threading.get_ident(),
    )
    packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
    with warnings.catch_warnings():
        # cuDNN warns that weights handed in per call are not one contiguous chunk; that is the point here.
        warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous")
        _, h_n = functional_call(template, params, (packed,))
    return h_n


def _check_heads(heads: Mapping[str, int] | None) -> dict[str, int]:
    if heads is None:
        return {}
    if not isinstance(heads, Mapping):
        raise TypeError(
            f"heads: expected a mapping name -> number of classes or None, got {type(heads).__name__}"
        )
    out = {}
    for name, n in heads.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"heads: expected head names that are Python identifiers, got {name!r}")
        out[name] = check_positive_int(f"heads[{name!r}]", n)
    return out


class RNNTextEncoder(nn.Module):
    """The official FashionGAN sentence encoder: tanh RNN over one-hot words + linear attribute heads.

    ``h_t^(1) = tanh(W_ih^(1) onehot(w_t) + b^(1) + W_hh^(1) h_{t-1}^(1))``, upper layers take ``h_t^(l-1)``;
    ``code = h_T^(num_layers)`` at each sentence's true length ``T``; ``logits_k = W_k code + b_k``.
    (Paper Sec. 3.1; official ``language/train_te.py``.) The one-hot input is an embedding lookup of
    ``W_ih^T`` (see [`one_hot_rnn`][condgan.text.rnn_encoder.one_hot_rnn]), identical to the explicit one-hot
    product.

    Parameter names: ``rnn.weight_ih_l0`` ... ``rnn.bias_hh_l{n-1}`` are the official names; head ``h`` is
    ``heads.<h>.weight``/``.bias``, stored officially as ``net_<OFFICIAL_HEAD_NAMES[h]>.*``
    (``category`` <-> ``net_cate_new``);
    [`from_official_state_dict`][condgan.text.rnn_encoder.from_official_state_dict] and
    [`to_official_state_dict`][condgan.text.rnn_encoder.to_official_state_dict] convert.

    Args:
        vocab_size: number of words ``V`` (ids ``1..V``; 0 is padding). Official: 539.
        hidden_size: RNN width, the code size. Official: 100.
        num_layers: stacked RNN layers. Official: 2.
        heads: head name -> number of classes; ``None`` or ``{}`` for no heads. Default: the official four.

    Shapes:
        word_ids ``(B, L)`` int, lengths ``(B,)`` int or ``None`` -> code ``(B, hidden_size)`` and
        ``{head: (B, n_classes)}`` logits.

    Examples:
        >>> enc = RNNTextEncoder(vocab_size=10, hidden_size=8, heads={"color": 3})
        >>> code, logits = enc(torch.tensor([[1, 4, 9, 0], [2, 2, 0, 0]]))
        >>> code.shape, logits["color"].shape
        (torch.Size([2, 8]), torch.Size([2, 3]))
    """

    def __init__(
        self,
        *,
        vocab_size: int = 539,
        hidden_size: int = 100,
        num_layers: int = 2,
        heads: Mapping[str, int] | None = FASHIONGAN_HEADS,
    ) -> None:
        super().__init__()
        check_positive_int("vocab_size", vocab_size)
        check_positive_int("hidden_size", hidden_size)
        check_positive_int("num_layers", num_layers)
        head_sizes = _check_heads(heads)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.head_sizes: dict[str, int] = head_sizes
        self.rnn = nn.RNN(vocab_size, hidden_size, num_layers, nonlinearity="tanh", batch_first=True)
        self.heads = nn.ModuleDict({name: nn.Linear(hidden_size, n) for name, n in head_sizes.items()})

    def encode(self, word_ids: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """The text code ``(B, hidden_size)``: the last layer's state after each sentence's last word."""
        return one_hot_rnn(self.rnn, word_ids, lengths)[-1]

    def forward(
        self, word_ids: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Encode sentences.

        Args:
            word_ids: ``(B, L)`` integer ids in ``[1, vocab_size]``, right-padded with 0.
            lengths: optional ``(B,)`` lengths; by default derived from the padding.

        Returns:
            ``(code, logits)``: code ``(B, hidden_size)`` in ``(-1, 1)``; ``logits[h]`` is ``(B, n_h)``.
        """
        code = self.encode(word_ids, lengths)
        return code, {name: head(code) for name, head in self.heads.items()}

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, hidden_size={self.hidden_size}, heads={self.head_sizes}"


def _rename_heads(state_dict: Mapping[str, torch.Tensor], mapping: dict[str, str]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state_dict.items():
        prefix, dot, rest = key.partition(".")
        out[mapping.get(prefix, prefix) + dot + rest if dot else key] = value
    return out


def _check_state_dict(state_dict: object) -> Mapping[str, torch.Tensor]:
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"state_dict: expected a mapping of names to tensors, got {type(state_dict).__name__}"
        )
    return state_dict


def _check_head_names(head_names: object) -> Mapping[str, str]:
    if not isinstance(head_names, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in head_names.items()
    ):
        raise TypeError(f"head_names: expected a mapping of str to str, got {head_names!r}")
    return head_names


def from_official_state_dict(
    state_dict: Mapping[str, torch.Tensor], *, head_names: Mapping[str, str] = OFFICIAL_HEAD_NAMES
) -> dict[str, torch.Tensor]:
    """Rename an official ``rnn_latest.pth`` state dict to
    [`RNNTextEncoder`][condgan.text.rnn_encoder.RNNTextEncoder]'s names.

    ``rnn.*`` keys are kept; ``net_<official>.*`` becomes ``heads.<ours>.*`` using ``head_names`` (ours ->
    official, e.g. ``category -> cate_new``). Other keys pass through unchanged, so that ``load_state_dict``
    reports them.

    Examples:
        >>> official = {"net_cate_new.bias": torch.zeros(19), "rnn.bias_hh_l0": torch.zeros(4)}
        >>> sorted(from_official_state_dict(official))
        ['heads.category.bias', 'rnn.bias_hh_l0']
    """
    state_dict = _check_state_dict(state_dict)
    head_names = _check_head_names(head_names)
    return _rename_heads(
        state_dict, {f"net_{official}": f"heads.{ours}" for ours, official in head_names.items()}
    )


def to_official_state_dict(
    state_dict: Mapping[str, torch.Tensor], *, head_names: Mapping[str, str] = OFFICIAL_HEAD_NAMES
) -> dict[str, torch.Tensor]:
    """Inverse of [`from_official_state_dict`][condgan.text.rnn_encoder.from_official_state_dict]:
    ``heads.<ours>.*`` -> ``net_<official>.*``.

    Examples:
        >>> official = to_official_state_dict(RNNTextEncoder(vocab_size=5, hidden_size=3).state_dict())
        >>> official["net_cate_new.weight"].shape
        torch.Size([19, 3])
    """
    state_dict = _check_state_dict(state_dict)
    head_names = _check_head_names(head_names)
    out = {}
    for key, value in state_dict.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "heads" and parts[1] in head_names:
            key = f"net_{head_names[parts[1]]}.{parts[2]}"
        out[key] = value
    return out
