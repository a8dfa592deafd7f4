import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from fashion_gan.text import (
    attribute_accuracy,
    drop_words,
    load_language_data,
    load_official_text_encoder,
    main,
    official_vocabulary,
    text_report,
    train_text_encoder,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.io import savemat

from condgan.text import (
    RNNTextEncoder,
    UnknownWordError,
    UnsafeCheckpointError,
    to_official_state_dict,
)

DATA = Path("/work/shared/data/fashiongan")
DOC = Path(__file__).resolve().parents[2] / "docs" / "text.md"
DOC_BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
needs_language = pytest.mark.skipif(
    not (DATA / "language_original.mat").is_file() or not (DATA / "ind.mat").is_file(),
    reason=f"official FashionGAN metadata (language_original.mat, ind.mat) not present in {DATA}",
)
needs_weights = pytest.mark.skipif(
    not (DATA / "rnn_latest.pth").is_file(), reason=f"official text-encoder weights not present at {DATA}"
)

FIRST_WORDS = "the lady was wearing a blue long-sleeved blouse wore with white short sleeve is sleeveless pink an orange black short-sleeved"  # noqa: E501
COLORS = ["blue", "white", "pink", "orange", "black"]
SLEEVES = ["long-sleeved", "short-sleeved", "sleeveless"]
GARMENTS = ["blouse", "dress", "tee"]


@pytest.fixture(scope="module")
def language():
    return load_language_data(DATA)


def test_official_vocabulary_order():
    vocab = official_vocabulary()
    assert len(vocab) == 539
    assert vocab.words[:20] == FIRST_WORDS.split()
    assert vocab.encode("The lady was wearing a blue, long-sleeved blouse.") == [1, 2, 3, 4, 5, 6, 7, 8]
    with pytest.raises(UnknownWordError, match=r"words not in the 539-word vocabulary: \['xylophone'\]"):
        vocab.encode("the lady wore a xylophone")
    assert official_vocabulary(unknown="skip").encode("the xylophone lady") == [1, 2]


@settings(deadline=None, max_examples=30)
@given(st.lists(st.integers(1, 539), min_size=1, max_size=17))
def test_official_vocabulary_round_trip(ids):
    vocab = official_vocabulary()
    assert vocab.encode(vocab.decode(ids)) == ids


@needs_language
def test_official_vocabulary_reproduces_every_codeJ_row(language):
    vocab = official_vocabulary()
    assert language.word_ids.shape == (78979, 17)
    encoded = vocab.encode_batch(language.sentences, max_length=17)
    mismatched = (encoded != language.word_ids).any(dim=1).nonzero().flatten().tolist()
    assert mismatched == []
    assert len(set(language.sentences)) == 4004


@needs_language
def test_language_data_split_and_labels(language):
    assert language.train_index.shape == (70000,) and language.test_index.shape == (8979,)
    assert set(language.train_index.tolist()).isdisjoint(language.test_index.tolist())
    assert {n: (int(v.min()), int(v.max())) for n, v in language.labels.items()} == {
        "category": (0, 18),
        "color": (0, 16),
        "gender": (0, 1),
        "sleeve": (0, 3),
    }
    assert (
        int((language.labels["gender"][language.test_index] == 0).sum()) == 8402
    )  # reference: 8,402 F / 577 M


@needs_language
@needs_weights
def test_official_weights_recover_the_attributes(language):
    encoder = load_official_text_encoder(DATA / "rnn_latest.pth")
    assert not encoder.training
    test = language.test_index[:500]
    ids = language.word_ids[test]
    accuracy = attribute_accuracy(encoder, ids, {n: v[test] for n, v in language.labels.items()})
    # Measured on these 500 sentences: category 0.998, colour, gender and sleeve 1.0 (full test split:
    # 0.9987 / 1 / 1 / 1). A wrong key mapping, label offset or input order gives chance-level numbers.
    assert accuracy["category"] >= 0.99
    assert accuracy["color"] >= 0.995 and accuracy["gender"] >= 0.995 and accuracy["sleeve"] >= 0.995
    # The code is the official hn2: a (-1, 1) state of the last layer, reproduced by an explicit one-hot run.
    code, _ = encoder(ids[:8])
    lengths = (ids[:8] != 0).sum(1)
    one_hot = torch.nn.functional.one_hot((ids[:8] - 1).clamp_min(0), 539).float()
    packed = torch.nn.utils.rnn.pack_padded_sequence(one_hot, lengths, batch_first=True, enforce_sorted=False)
    torch.testing.assert_close(code, encoder.rnn(packed)[1][-1], atol=1e-5, rtol=0)
    assert code.abs().max() < 1


def save_official(tmp_path: Path, state: dict, legacy: bool = True) -> Path:
    path = tmp_path / "rnn.pth"
    torch.save(state, path, _use_new_zipfile_serialization=not legacy)
    return path


def test_load_official_text_encoder_round_trip(tmp_path):
    torch.manual_seed(0)
    source = RNNTextEncoder()
    path = save_official(tmp_path, to_official_state_dict(source.state_dict()))
    loaded = load_official_text_encoder(path)
    ids = torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8], [539, 12, 0, 0, 0, 0, 0, 0]])
    torch.testing.assert_close(loaded(ids)[0], source(ids)[0])
    for name in source.heads:
        torch.testing.assert_close(loaded(ids)[1][name], source(ids)[1][name])


def test_load_official_text_encoder_lists_key_and_shape_problems(tmp_path):
    state = to_official_state_dict(RNNTextEncoder().state_dict())
    del state["net_sleeve.bias"]
    state["net_extra.weight"] = torch.zeros(2, 100)
    state["net_color.weight"] = torch.zeros(18, 100)
    path = save_official(tmp_path, state)
    message = (
        rf"{re.escape(str(path))}: expected the official text encoder's weights .* "
        r"missing keys \['heads.sleeve.bias'\], unexpected keys \['net_extra.weight'\], "
        r"wrong shapes \[heads.color.weight: expected \(17, 100\), got \(18, 100\)\]"
    )
    with pytest.raises(ValueError, match=message):
        load_official_text_encoder(path)


def test_load_official_text_encoder_refuses_hostile_files(tmp_path):
    class Payload:
        def __reduce__(self):
            return (exec, (f"open({str(tmp_path / 'PWNED')!r}, 'w').close()",))

    path = save_official(tmp_path, {"rnn.weight_ih_l0": Payload()})
    with pytest.raises(UnsafeCheckpointError, match="refused to load"):
        load_official_text_encoder(path)
    assert not (tmp_path / "PWNED").exists()
    with pytest.raises(FileNotFoundError, match="checkpoint file not found"):
        load_official_text_encoder(tmp_path / "missing.pth")


def toy_sentences(n: int, seed: int = 0):
    """Official-style sentences whose colour and sleeve are stated in the words."""
    vocab = official_vocabulary()
    rng = np.random.default_rng(seed)
    sentences, color, sleeve = [], [], []
    for _ in range(n):
        c, s, g = rng.integers(len(COLORS)), rng.integers(len(SLEEVES)), rng.integers(len(GARMENTS))
        subject = ["a", "the lady wore a"][rng.integers(2)]
        sentences.append(
            f"{subject} {GARMENTS[g]} {SLEEVES[s]} {COLORS[c]}."
        )  # words near the end: quick to learn
        color.append(int(c))
        sleeve.append(int(s))
    ids = vocab.encode_batch(sentences)
    return sentences, ids, {"color": torch.tensor(color), "sleeve": torch.tensor(sleeve)}


def test_train_text_encoder_learns_words_to_attributes():
    _, ids, labels = toy_sentences(120)
    _, test_ids, test_labels = toy_sentences(100, seed=1)  # mostly word combinations not seen in training
    torch.manual_seed(0)
    before = attribute_accuracy(
        RNNTextEncoder(hidden_size=16, heads={"color": 17, "sleeve": 4}), test_ids, test_labels
    )
    encoder = train_text_encoder(ids, labels, epochs=12, batch_size=8, lr=2e-2, seed=0, hidden_size=16)
    after = attribute_accuracy(encoder, test_ids, test_labels)
    assert encoder.head_sizes == {"color": 17, "sleeve": 4}  # official sizes for the known names
    # Measured: 1.0 and 1.0 (seed 0); untrained: about chance.
    assert after["color"] >= 0.9 and after["sleeve"] >= 0.9
    assert before["color"] < 0.5 and before["sleeve"] < 0.6


def test_train_text_encoder_is_seeded_dedupes_and_keeps_global_rng():
    _, ids, labels = toy_sentences(40)
    kwargs = dict(epochs=2, batch_size=16, seed=3, hidden_size=16)
    torch.manual_seed(123)
    state_before = torch.get_rng_state()
    a = train_text_encoder(ids, labels, **kwargs)
    assert torch.equal(torch.get_rng_state(), state_before)
    b = train_text_encoder(ids, labels, **kwargs)
    # Tripling every row changes nothing: identical rows are merged and weighted by count.
    c = train_text_encoder(ids.repeat(3, 1), {n: v.repeat(3) for n, v in labels.items()}, **kwargs)
    d = train_text_encoder(ids, labels, **{**kwargs, "seed": 4})
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key])
        torch.testing.assert_close(value, c.state_dict()[key])
    assert not torch.equal(a.rnn.weight_hh_l0, d.rnn.weight_hh_l0)


def test_train_text_encoder_validation():
    _, ids, labels = toy_sentences(8)
    with pytest.raises(TypeError, match="sentences_ids: expected an integer tensor"):
        train_text_encoder(ids.float(), labels, epochs=1)
    with pytest.raises(ValueError, match=r"labels\['color'\]: expected 8 labels \(one per sentence\), got 3"):
        train_text_encoder(ids, {"color": torch.tensor([0, 1, 2])}, epochs=1)
    with pytest.raises(
        ValueError, match=r"labels\['color'\]: expected class ids in \[0, 16\], got ids in \[0, 17\]"
    ):
        train_text_encoder(ids, {"color": torch.tensor([0] * 7 + [17])}, epochs=1)
    with pytest.raises(ValueError, match="labels: expected at least one attribute, got an empty mapping"):
        train_text_encoder(ids, {}, epochs=1)
    with pytest.raises(ValueError, match="epochs: expected a positive int, got 0"):
        train_text_encoder(ids, labels, epochs=0)
    with pytest.raises(ValueError, match="lr: expected a positive number, got -0.1"):
        train_text_encoder(ids, labels, epochs=1, lr=-0.1)
    with pytest.raises(ValueError, match=r"sentences_ids: expected word ids in \[1, 10\] or 0 for padding"):
        train_text_encoder(ids, labels, epochs=1, vocab_size=10)
    bad = ids.clone()
    bad[2] = 0
    with pytest.raises(
        ValueError, match=r"sentences_ids: expected at least one word .* got empty rows \[2\]"
    ):
        train_text_encoder(bad, labels, epochs=1)


def test_attribute_accuracy_counts_exactly():
    encoder = RNNTextEncoder(vocab_size=5, hidden_size=3, heads={"gender": 2, "sleeve": 4})
    with torch.no_grad():
        for head in encoder.heads.values():
            head.weight.zero_()
            head.bias.zero_()
        encoder.heads["gender"].bias[1] = 1.0  # always predicts 1
        encoder.heads["sleeve"].bias[3] = 1.0  # always predicts 3
    ids = torch.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 1], [2, 2, 2]])
    labels = {"gender": torch.tensor([1, 0, 1, 1]), "sleeve": torch.tensor([3, 3, 0, 1])}
    assert attribute_accuracy(encoder, ids, labels, batch_size=3) == {"gender": 0.75, "sleeve": 0.5}
    encoder.train()
    attribute_accuracy(encoder, ids, labels)
    assert encoder.training  # mode restored
    with pytest.raises(
        ValueError, match=r"labels: expected only the encoder's heads \['gender', 'sleeve'\], got 'color'"
    ):
        attribute_accuracy(encoder, ids, {"color": torch.tensor([0, 0, 0, 0])})
    with pytest.raises(ValueError, match=r"labels\['sleeve'\]: expected class ids in \[0, 3\], got 4"):
        attribute_accuracy(encoder, ids, {"sleeve": torch.tensor([0, 4, 0, 0])})
    with pytest.raises(TypeError, match="encoder: expected an RNNTextEncoder, got Linear"):
        attribute_accuracy(torch.nn.Linear(2, 2), ids, labels)


def write_fake_release(folder: Path, n: int = 60) -> None:
    """A tiny data folder in the official layout (benchmark/*.mat), with official-style sentences."""
    sentences, ids, labels = toy_sentences(n, seed=5)
    bench = folder / "benchmark"
    bench.mkdir(parents=True)
    code = np.empty((n, 1), dtype=object)
    eng = np.empty((n, 1), dtype=object)
    for i, sentence in enumerate(sentences):
        row = ids[i][ids[i] > 0].numpy()
        code[i, 0] = row.astype(np.uint16 if row.max() > 255 else np.uint8).reshape(-1, 1)
        eng[i, 0] = np.array([sentence])
    rng = np.random.default_rng(0)
    savemat(
        bench / "language_original.mat",
        {
            "engJ": eng,
            "codeJ": code,
            "cate_new": rng.integers(1, 20, (n, 1)).astype(np.uint8),
            "color_": (labels["color"].numpy() + 1).astype(np.uint8).reshape(-1, 1),
            "gender_": rng.integers(0, 2, (n, 1)).astype(np.uint8),
            "sleeve_": (labels["sleeve"].numpy() + 1).astype(np.uint8).reshape(-1, 1),
        },
    )
    order = rng.permutation(n) + 1
    savemat(
        bench / "ind.mat",
        {
            "train_ind": np.sort(order[:45]).reshape(-1, 1).astype(np.int32),
            "test_ind": np.sort(order[45:]).reshape(-1, 1).astype(np.int32),
        },
    )


def test_load_language_data_from_fake_release(tmp_path):
    write_fake_release(tmp_path)
    data = load_language_data(tmp_path)
    assert data.word_ids.shape[0] == 60 and data.train_index.shape == (45,) and data.test_index.shape == (15,)
    assert official_vocabulary().encode_batch(data.sentences).tolist() == data.word_ids.tolist()
    with pytest.raises(FileNotFoundError, match=r"data_dir: expected a folder, got .*missing \(not found\)"):
        load_language_data(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        FileNotFoundError, match="data_dir: expected language_original.mat in .*empty or .*benchmark"
    ):
        load_language_data(tmp_path / "empty")


def test_text_report_and_cli_on_a_fake_release(tmp_path, capsys):
    write_fake_release(tmp_path / "data")
    torch.manual_seed(0)
    save_official(
        tmp_path / "data", to_official_state_dict(RNNTextEncoder().state_dict())
    )  # random "official"
    weights = tmp_path / "data" / "rnn.pth"
    out = tmp_path / "results" / "report.json"
    report = text_report(tmp_path / "data", out_json=out, weights=weights, epochs=2, batch_size=16)
    printed = capsys.readouterr().out
    data = load_language_data(tmp_path / "data")
    seen = set(map(tuple, data.word_ids[data.train_index].tolist()))
    n_unseen = sum(tuple(r) not in seen for r in data.word_ids[data.test_index].tolist())
    assert 0 < n_unseen < 15
    header = (
        "| attribute | official rnn_latest.pth | trained here (2 epochs, Adam) "
        f"| official, {n_unseen} unseen | trained here, {n_unseen} unseen |"
    )
    assert header in printed
    assert re.search(r"\| category( \| \d+\.\d\d%){4} \|", printed)
    saved = json.loads(out.read_text())
    assert saved["test_sentences"] == 15 and saved["train_sentences"] == 45
    assert saved["unseen_test_sentences"] == n_unseen
    assert set(saved["official_unseen"]) == set(saved["trained_unseen"]) == set(saved["trained"])
    assert set(saved["official"]) == set(saved["trained"]) == {"category", "color", "gender", "sleeve"}
    assert saved["official"] == report["official"] and saved["table"] == report["table"]
    assert all(0.0 <= v <= 1.0 for v in saved["trained"].values())

    # The command line, without official weights: that column is left out.
    out2 = tmp_path / "cli.json"
    assert (
        main(["--data", str(tmp_path / "data"), "--out", str(out2), "--epochs", "1", "--batch-size", "32"])
        == 0
    )
    saved = json.loads(out2.read_text())
    assert saved["official"] is None and saved["official_unseen"] is None and saved["training"]["epochs"] == 1
    assert "official" not in capsys.readouterr().out


def test_docs_page_blocks_run():
    assert len(DOC_BLOCKS) >= 2
    for index, block in enumerate(DOC_BLOCKS):  # the blocks assert what the page claims
        exec(compile(block, f"{DOC}:block{index}", "exec"), {"__name__": "text_doc"})


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 6), min_size=1, max_size=5),
    p=st.floats(0.0, 0.95),
    seed=st.integers(0, 2**16),
)
def test_drop_words_keeps_an_ordered_nonempty_subsequence(lengths, p, seed):
    ids = torch.zeros(len(lengths), 6, dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, :n] = torch.arange(1, n + 1) + 10 * row
    out = drop_words(ids, p, torch.Generator().manual_seed(seed))
    assert out.shape == ids.shape
    for row, n in enumerate(lengths):
        kept = [w for w in out[row].tolist() if w]
        assert 1 <= len(kept) <= n
        assert kept == sorted(kept) and set(kept) <= set(ids[row, :n].tolist())  # order kept, nothing new
        assert out[row, len(kept) :].eq(0).all()  # still right-padded


def test_drop_words_zero_is_identity_and_rejects_bad_input():
    ids = torch.tensor([[3, 4, 0], [5, 0, 0]])
    assert torch.equal(drop_words(ids, 0.0), ids)
    for bad in (1.0, -0.1, True, "0.2"):
        with pytest.raises(ValueError, match=r"p: expected a probability in \[0, 1\)"):
            drop_words(ids, bad)
    with pytest.raises(ValueError, match=r"word_ids: expected shape \(N, L\), got \(3,\)"):
        drop_words(ids[0], 0.1)


def test_train_text_encoder_regularisation_options():
    _, ids, labels = toy_sentences(40)
    kwargs = dict(epochs=2, batch_size=16, seed=3, hidden_size=16)
    base = train_text_encoder(ids, labels, **kwargs)
    # weight_decay 0 is plain Adam: the default, bit for bit.
    same = train_text_encoder(ids, labels, **kwargs, weight_decay=0.0, word_dropout=0.0)
    assert all(torch.equal(v, same.state_dict()[k]) for k, v in base.state_dict().items())
    for option in ({"word_dropout": 0.3}, {"weight_decay": 0.1}):
        other = train_text_encoder(ids, labels, **kwargs, **option)
        assert not torch.equal(base.rnn.weight_hh_l0, other.rnn.weight_hh_l0), option
    # Uniform weights: a tripled row no longer counts three times.
    tripled_ids = torch.cat([ids, ids[:1], ids[:1]])
    tripled = {n: torch.cat([v, v[:1], v[:1]]) for n, v in labels.items()}
    weighted = train_text_encoder(tripled_ids, tripled, **kwargs)
    uniform = train_text_encoder(tripled_ids, tripled, **kwargs, count_weighted=False)
    plain = train_text_encoder(ids, labels, **kwargs, count_weighted=False)
    assert not torch.equal(weighted.rnn.weight_hh_l0, uniform.rnn.weight_hh_l0)
    assert all(torch.equal(v, plain.state_dict()[k]) for k, v in uniform.state_dict().items())
    with pytest.raises(ValueError, match=r"word_dropout: expected a probability in \[0, 1\), got 1.0"):
        train_text_encoder(ids, labels, epochs=1, word_dropout=1.0)
    with pytest.raises(ValueError, match="weight_decay: expected a float >= 0, got -1"):
        train_text_encoder(ids, labels, epochs=1, weight_decay=-1)
    with pytest.raises(TypeError, match="count_weighted: expected a bool, got int"):
        train_text_encoder(ids, labels, epochs=1, count_weighted=1)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--word-dropout", "1.5"], r"--word-dropout: expected a probability in \[0, 1\), got 1.5"),
        (["--weight-decay", "-1"], r"--weight-decay: expected a float >= 0, got -1.0"),
    ],
)
def test_cli_refuses_bad_training_options_before_reading_data(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--data", str(tmp_path / "missing"), *argv])
    assert exit_info.value.code == 2
    assert re.search(message, capsys.readouterr().err)
