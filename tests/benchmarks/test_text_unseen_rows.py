"""`benchmarks/text_unseen_rows.py`: the official encoder on test rows that no training row explains."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "text_unseen_rows.py"
DATA = Path("/work/shared/data/fashiongan")


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("bench_text_unseen_rows", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_groups_split_the_unseen_rows(script):
    word_ids = torch.tensor([[1, 2, 0], [1, 3, 0], [1, 2, 0], [1, 3, 2], [4, 2, 0], [1, 2, 3]])
    data = SimpleNamespace(
        word_ids=word_ids, train_index=torch.tensor([0, 1]), test_index=torch.tensor([2, 3, 4, 5])
    )
    groups = script.unseen_groups(data)
    unseen, novel, rest = groups.values()
    assert unseen.tolist() == [False, True, True, True]  # row 2 repeats training row 0
    assert novel.tolist() == [False, False, True, False]  # word 4 is in no training row
    assert rest.tolist() == [False, True, False, True]
    assert torch.equal(novel | rest, unseen) and not (novel & rest).any()


def test_accuracy_per_attribute(script):
    labels = {name: torch.tensor([0, 1, 2, 3]) for name in script.ATTRIBUTES}
    predictions = {name: torch.tensor([0, 1, 0, 0]) for name in script.ATTRIBUTES}
    scores = script.accuracy(predictions, labels, torch.tensor([True, True, True, False]))
    assert scores == {name: pytest.approx(2 / 3) for name in script.ATTRIBUTES}


def test_missing_weights_are_a_usage_error(script, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        script.main(["--data", str(tmp_path)])
    assert stop.value.code == 2
    assert "rnn_latest.pth (the official text encoder), got no such file" in capsys.readouterr().err


@pytest.mark.skipif(
    not all((DATA / name).is_file() for name in ("language_original.mat", "ind.mat", "rnn_latest.pth")),
    reason=f"official FashionGAN metadata and text-encoder weights not present in {DATA}",
)
def test_on_the_official_release(script, capsys):
    assert script.main(["--data", str(DATA)]) == 0
    out = capsys.readouterr().out
    assert (
        "| unseen test rows | 278 |" in out and "| unseen, with a word no training sentence has | 39 |" in out
    )
    assert (
        "'is wearing a dress.': category 1, color 16, gender 1, sleeve 3" in out
    )  # blouse, multicolour, man
