"""Text conditioning: word vocabulary, the official FashionGAN RNN text encoder, safe checkpoint loading."""

from condgan.text.legacy import CheckpointError, UnsafeCheckpointError, load_legacy_state_dict
from condgan.text.rnn_encoder import (
    FASHIONGAN_HEADS,
    OFFICIAL_HEAD_NAMES,
    RNNTextEncoder,
    from_official_state_dict,
    lengths_from_padding,
    one_hot_rnn,
    to_official_state_dict,
)
from condgan.text.vocabulary import PAD_ID, UnknownWordError, Vocabulary, tokenize

__all__ = [
    "PAD_ID",
    "FASHIONGAN_HEADS",
    "OFFICIAL_HEAD_NAMES",
    "CheckpointError",
    "RNNTextEncoder",
    "UnknownWordError",
    "UnsafeCheckpointError",
    "Vocabulary",
    "from_official_state_dict",
    "lengths_from_padding",
    "load_legacy_state_dict",
    "one_hot_rnn",
    "to_official_state_dict",
    "tokenize",
]
