"""Did the official text encoder see the test split? Its answers on test rows no training row can explain.

The text report (``python -m fashion_gan.text``) compares the encoder trained here with the official
``rnn_latest.pth`` on the 278 test rows whose word sequence never occurs in the official training split. This
script splits those rows further:

- rows with a word that occurs in NO training sentence (typos such as "desss", "roper", "eop"): an encoder
  trained on the training split alone has never seen that word's input weights move;
- rows whose labels the words contradict: "is wearing a dress." is labelled blouse, multicolour, male in the
  release (the labels come from the image, not the sentence).

It prints the official encoder's accuracy on each group and the rows where its answer matches a label that
the sentence does not state. Run it with the shared metadata::

    .venv/bin/python benchmarks/text_unseen_rows.py --data ../shared/data/fashiongan

A few seconds; reads ``language_original.mat``, ``ind.mat`` and ``rnn_latest.pth``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from fashion_gan.text import load_language_data, load_official_text_encoder, official_vocabulary  # noqa: E402

from condgan.text import tokenize  # noqa: E402

ATTRIBUTES = ("category", "color", "gender", "sleeve")
#: Unseen test sentences that name no garment, or another one than their label: only an encoder that saw the
#: row can answer its label.
CONTRADICTED = ("is wearing a dress.", "the lady is wearing a blue long-sleeved.")


def unseen_groups(data) -> dict[str, torch.Tensor]:
    """Boolean masks over the test rows: unseen, unseen with a word never in training, and the rest."""
    test_ids, train_ids = data.word_ids[data.test_index], data.word_ids[data.train_index]
    seen_rows = set(map(tuple, train_ids.tolist()))
    train_words = set(train_ids.flatten().tolist()) - {0}
    unseen = torch.tensor([tuple(row) not in seen_rows for row in test_ids.tolist()], dtype=torch.bool)
    novel = torch.tensor([bool(set(row) - {0} - train_words) for row in test_ids.tolist()], dtype=torch.bool)
    return {
        "unseen test rows": unseen,
        "unseen, with a word no training sentence has": unseen & novel,
        "unseen, every word also in training": unseen & ~novel,
    }


def accuracy(predictions: dict[str, torch.Tensor], labels: dict[str, torch.Tensor], mask: torch.Tensor):
    """attribute -> accuracy on the rows of ``mask``."""
    return {
        name: float((predictions[name][mask] == labels[name][mask]).float().mean()) for name in ATTRIBUTES
    }


def _answers(labels: dict, predictions: dict, row: int) -> str:
    """'category 15, color 1/16, ...': the label, and after a slash the official answer where it differs."""
    parts = []
    for a in ATTRIBUTES:
        label, answer = int(labels[a][row]), int(predictions[a][row])
        parts.append(f"{a} {label}" + ("" if answer == label else f"/{answer}"))
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with the official metadata")
    args = parser.parse_args(argv)
    weights = args.data / "rnn_latest.pth"
    if not weights.is_file():
        parser.error(f"--data: expected {weights} (the official text encoder), got no such file")
    data = load_language_data(args.data)
    encoder = load_official_text_encoder(weights)
    test_ids = data.word_ids[data.test_index]
    labels = {name: data.labels[name][data.test_index] for name in ATTRIBUTES}
    with torch.no_grad():
        _, logits = encoder(test_ids)
    predictions = {name: logits[name].argmax(1) for name in ATTRIBUTES}
    print("| official rnn_latest.pth on | rows | " + " | ".join(ATTRIBUTES) + " |")
    print("|---|---|" + "---|" * len(ATTRIBUTES))
    groups = unseen_groups(data)
    for title, mask in groups.items():
        scores = accuracy(predictions, labels, mask)
        print(f"| {title} | {int(mask.sum())} | " + " | ".join(f"{scores[a]:.4f}" for a in ATTRIBUTES) + " |")
    test_rows = data.test_index.tolist()
    train_words = set(data.word_ids[data.train_index].flatten().tolist())
    vocabulary = official_vocabulary()
    print("\nUnseen rows with a word no training sentence has [those words]: labels (/official if other)")
    for row in torch.nonzero(groups["unseen, with a word no training sentence has"]).flatten().tolist():
        sentence = data.sentences[test_rows[row]]
        novel = [word for word in tokenize(sentence) if vocabulary.encode(word)[0] not in train_words]
        print(f"  {sentence!r} {novel}: {_answers(labels, predictions, row)}")
    print("\nUnseen rows whose words do not state their labels (class ids as in fashion_gan.data.contract):")
    for row, sentence in enumerate(data.sentences[i] for i in test_rows):
        if sentence in CONTRADICTED and bool(groups["unseen test rows"][row]):
            print(f"  {sentence!r}: {_answers(labels, predictions, row)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
