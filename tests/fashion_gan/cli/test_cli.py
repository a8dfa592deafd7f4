"""The ``fashion-gan`` CLI: help texts, usage errors, train / generate / evaluate end to end, clean errors.

Everything runs in-process through :func:`fashion_gan.cli.main` (the console script calls exactly that) on the
shared tiny run of ``conftest.py``, which was itself made by ``fashion-gan train``.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch
from fashion_gan import cli
from fashion_gan.config import RunConfig
from fashion_gan.data.synthetic import SyntheticMannequins
from PIL import Image

from condgan.train import latest_checkpoint, read_metrics

COMMANDS = ("train", "generate", "evaluate", "demo", "ablation", "teacher", "prepare-data")
STEPS = 6  # conftest.TINY_STEPS
SMALL_EVALUATION = ("--num-test", "8", "--detector-steps", "2", "--parser-steps", "2")
MODELS = ("shape", "render_compositional", "render_ih1_skip", "onestep_87")  # conftest.TINY_MODELS


def run_cli(argv, capsys) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str, command: str, *fragments: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines}"
    assert lines[0].startswith(f"fashion-gan {command}: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


def subparser(name: str) -> argparse.ArgumentParser:
    parser = cli.build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices[name]


def test_sizes_of_the_tiny_run(trained_run):
    # The numbers the tests below rely on.
    cfg = RunConfig.load(trained_run / "config.json")
    assert (cfg.data.image_size, cfg.data.num_test, cfg.train.steps) == (32, 16, STEPS)


# ------------------------------------------------------------------------------------------------------------
# --help and argparse usage errors


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_every_command_explains_every_option(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for action in subparser(command)._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help and action.help != argparse.SUPPRESS, f"{action.option_strings} has no help"
        for option in action.option_strings:
            assert option in out
        assert " ".join(action.help.split()) in out


@pytest.mark.parametrize(
    ("command", "option", "text"),
    [
        ("train", "--resume", "continue from the last complete checkpoint"),
        ("train", "--stage", "what to train (default all)"),
        ("train", "--set", "override any config field"),
        ("train", "--width", "channel multiplier (1.0 = official sizes)"),
        ("generate", "--keep-identity", "the same as --identity structural"),
        ("generate", "--identity", "structural (default: hair and face are the input's own"),
        ("evaluate", "--identity", "identity mode to evaluate (repeatable; default: all three)"),
        ("generate", "--labels", "a PNG whose pixel values are the ids 0..6"),
        ("generate", "--seed", "noise seed (repeatable; default 0)"),
        ("evaluate", "--parser-steps", "training steps of the segmentation parser"),
        ("evaluate", "--num-test", "test people to use"),
        ("demo", "--out", "default runs/demo"),
        ("prepare-data", "--data-root", "the data_release folder"),
    ],
)
def test_help_strings(command, option, text, capsys):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert option in out and text in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["paint"], "invalid choice: 'paint'"),
        (["train"], "the following arguments are required: --out"),
        (["train", "--out", "x", "--stage", "texture"], "argument --stage: invalid choice: 'texture'"),
        (["train", "--out", "x", "--steps", "ten"], "argument --steps: invalid int value: 'ten'"),
        (
            ["train", "--out", "x", "--onestep-constraint", "5"],
            "argument --onestep-constraint: invalid choice: 5",
        ),
        (["generate", "--run", "x", "--bogus"], "unrecognized arguments: --bogus"),
        (["generate", "--run", "x", "--model", "pix2pix"], "argument --model: invalid choice: 'pix2pix'"),
        (["evaluate"], "the following arguments are required: --run"),
        (["evaluate", "--run", "x", "--num-test", "1.5"], "argument --num-test: invalid int value: '1.5'"),
    ],
)
def test_wrong_arguments_give_usage_and_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: fashion-gan") and message in err and "Traceback" not in err


# ------------------------------------------------------------------------------------------------------------
# train


def test_train_end_to_end_wrote_every_model(trained_run):
    # conftest's fixture ran `fashion-gan train` once per model; this checks what it left behind.
    assert (trained_run / "text_encoder.safetensors").is_file()
    log = (trained_run / "train_stdout.txt").read_text()
    for name in MODELS:
        folder = trained_run / name
        assert f"{name}: trained in" in log
        assert latest_checkpoint(folder / "checkpoints").name == f"step-{STEPS:08d}"
        records = read_metrics(folder / "metrics.jsonl")
        assert [r["step"] for r in records] == list(range(1, STEPS + 1))
        assert all(np.isfinite(r["g_total"]) and np.isfinite(r["d_total"]) for r in records)
        with Image.open(folder / "samples" / f"step-{STEPS:08d}.png") as sheet:
            assert sheet.width > 4 * 32 and sheet.height > 8 * 32  # 4 columns, 8 people
    meta = json.loads(
        (latest_checkpoint(trained_run / "render_ih1_skip" / "checkpoints") / "meta.json").read_text()
    )
    assert meta["config"]["model"]["render"] == "ih1_skip" and meta["extra_state"]["stage"] == "render"


def test_train_again_without_resume_is_a_clean_error(trained_run, tiny_options, capsys):
    code, _, err = run_cli(["train", "--out", trained_run, "--stage", "shape", *tiny_options], capsys)
    assert code == 2
    assert_one_line_error(err, "train", "already has checkpoints", "pass --resume")


def test_resume_with_another_width_names_the_field(run_copy, tiny_options, capsys):
    argv = ["train", "--out", run_copy, "--stage", "shape", "--resume", *tiny_options, "--width", "0.125"]
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert_one_line_error(
        err, "train", "is from another configuration", "model.width: checkpoint 0.0625, requested 0.125"
    )


def test_resume_of_a_finished_model_changes_nothing(run_copy, tiny_options, capsys):
    before = (run_copy / "shape" / "metrics.jsonl").read_text()
    code, out, _ = run_cli(
        ["train", "--out", run_copy, "--stage", "shape", "--resume", *tiny_options], capsys
    )
    assert code == 0 and f"already at step {STEPS}" in out
    assert (run_copy / "shape" / "metrics.jsonl").read_text() == before


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("lr", "--set: expected SECTION.FIELD=VALUE (e.g. train.lr=1e-4), got 'lr'"),
        ("model.bogus=1", "config.model: unknown fields ['bogus']"),
        ("optim.lr=1", "--set: unknown sections ['optim']"),
        ("train.log_every=0", "train.log_every: expected an int >= 1, got 0"),
    ],
)
def test_bad_overrides_are_clean_errors(tmp_path, tiny_options, override, message, capsys):
    code, _, err = run_cli(["train", "--out", tmp_path / "run", *tiny_options, "--set", override], capsys)
    assert code == 2
    assert_one_line_error(err, "train", message)


def test_out_below_a_regular_file_is_a_clean_error(tmp_path, tiny_options, capsys):
    (tmp_path / "file").write_text("not a folder")
    code, _, err = run_cli(["train", "--out", tmp_path / "file" / "run", *tiny_options], capsys)
    assert code == 2
    assert_one_line_error(err, "train", "Not a directory", str(tmp_path / "file"))


# ------------------------------------------------------------------------------------------------------------
# generate


def png_size(path) -> tuple[int, int]:
    with Image.open(path) as im:
        assert im.mode == "RGB"
        return im.size


def test_generate_grid_two_seeds_keep_identity(trained_run, tmp_path, capsys):
    argv = ["generate", "--run", trained_run, "--grid", "--person", 0, "--person", 1,
            "--seed", 0, "--seed", 3, "--keep-identity", "--out", tmp_path / "grid.png"]  # fmt: skip
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    paths = [tmp_path / "grid_seed0.png", tmp_path / "grid_seed3.png"]
    assert out.split() == [str(p) for p in paths]
    for path in paths:
        width, height = png_size(path)
        # 2 people x (the person + 2 partner sentences); cells of 32 + 2 x 2 padding, doubled at <= 64 px.
        assert width == 3 * 2 * (32 + 4)
        assert 2 * 2 * (32 + 4) < height < 2 * 2 * (32 + 4) + 200  # + the wrapped sentence titles


def test_generate_seed_sweep_of_one_person(trained_run, tmp_path, capsys):
    argv = ["generate", "--run", trained_run, "--sweep", "--person", 2, "--seed", 0, "--seed", 1, "--seed", 5,
            "--sentence", "the lady wore a blue sleeveless dress.",
            "--sentence", "the man wore a black long-sleeved sweater.",
            "--out", tmp_path / "sweep.png"]  # fmt: skip
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    assert out.split() == [str(tmp_path / "sweep.png")]
    width, height = png_size(tmp_path / "sweep.png")
    # 3 seeds (rows) x (the person + 2 sentences); cells of 32 + 2 x 2 padding, doubled, 70 px of row titles.
    assert width == 70 + 3 * 2 * (32 + 4)
    assert 3 * 2 * (32 + 4) < height < 3 * 2 * (32 + 4) + 200


def test_seed_sweep_rows_are_the_seeds_grids(trained_run):
    from fashion_gan.cli.commands import seed_sweep_grid
    from fashion_gan.inference.redress import Redresser

    redresser = Redresser(trained_run)
    person = SyntheticMannequins(split="test", image_size=32, num_train=64, num_test=16, seed=0).get_batch(
        [4]
    )
    sentences = ["the lady wore a blue sleeveless dress."]
    picture = np.asarray(seed_sweep_grid(redresser, person, sentences, [3, 7]))
    for row, seed in enumerate((3, 7)):  # row r, column 1: the redress at that seed, doubled in size
        expected = redresser.redress(person, sentences, seed=seed)["images"][0, 0].permute(1, 2, 0).numpy()
        top = picture.shape[0] - 2 * 36 * (2 - row) + 4
        cell = picture[top : top + 64 : 2, 70 + 72 + 4 : 70 + 72 + 4 + 64 : 2]
        assert np.array_equal(cell, expected)


def test_generate_single_images_two_seeds(trained_run, tmp_path, capsys):
    argv = ["generate", "--run", trained_run, "--person", 0, "--person", 2, "--seed", 1, "--seed", 2,
            "--out", tmp_path]  # fmt: skip
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    names = [
        "person0_partner_seed1",
        "person2_partner_seed1",
        "person0_partner_seed2",
        "person2_partner_seed2",
    ]
    assert out.split() == [str(tmp_path / f"{n}.png") for n in names]
    for name in names:
        assert png_size(tmp_path / f"{name}.png") == (32, 32)  # the generated image itself


def test_generate_default_output_folder(run_copy, capsys):
    code, out, err = run_cli(["generate", "--run", run_copy, "--person", 5], capsys)
    assert code == 0, err
    assert out.split() == [str(run_copy / "generated" / "person5_partner_seed0.png")]


@pytest.fixture
def person_files(tmp_path) -> tuple:
    """Test person 3 of the tiny run's data as an RGB PNG and a label-map PNG (ids as pixel values)."""
    person = SyntheticMannequins(split="test", image_size=32, num_train=64, num_test=16, seed=0).get_batch(
        [3]
    )
    image, labels = tmp_path / "person.png", tmp_path / "labels.png"
    Image.fromarray(person["image"][0].permute(1, 2, 0).numpy()).save(image)
    Image.fromarray(person["labels"][0].numpy().astype(np.uint8), mode="L").save(labels)
    return image, labels


def test_generate_from_files_with_sentences(trained_run, tmp_path, person_files, capsys):
    image, labels = person_files
    argv = ["generate", "--run", trained_run, "--image", image, "--labels", labels, "--keep-identity",
            "--sentence", "the lady wore a blue sleeveless dress.",
            "--sentence", "the man wore a black long-sleeved sweater.",
            "--out", tmp_path / "out"]  # fmt: skip
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    names = ["person0_sentence0_seed0.png", "person0_sentence1_seed0.png"]
    assert out.split() == [str(tmp_path / "out" / n) for n in names]
    for name in names:
        assert png_size(tmp_path / "out" / name) == (32, 32)


def write_labels(path, array) -> None:
    Image.fromarray(np.asarray(array, dtype=np.uint8), mode="L").save(path)


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        ("unknown-word", ("words not in the 539-word vocabulary", "'zorblax'")),
        ("labels-wrong-size", ("labels.png: expected a 32x32 label map, got 16x16",)),
        ("labels-id-too-large", ("labels.png: expected label ids 0..6, got a pixel value 9",)),
        ("image-wrong-size", ("person.png: expected a 32x32 image for this run, got 48x48",)),
        ("image-without-labels", ("--image and --labels go together",)),
        ("missing-image-file", ("file not found:", "nobody.png")),
        ("missing-checkpoint", ("no checkpoint for model 'render_ih1'", "train it first")),
        ("missing-run-folder", ("--run: no run folder at", "no-such-run")),
        ("folder-without-config", ("has no config.json",)),
        ("person-out-of-range", ("--person: expected test-split indices in [0, 15], got [99]",)),
        ("keep-identity-and-identity-none", ("--keep-identity means --identity structural",)),
        ("files-without-sentence", ("--sentence: give at least one sentence",)),
        (
            "sweep-of-two-people",
            ("--sweep: expected one person (one --person, or --image and --labels), got 2",),
        ),
        ("sweep-and-grid", ("--sweep and --grid: expected one of them",)),
    ],
)
def test_generate_bad_input_is_one_clear_line(trained_run, tmp_path, person_files, case, fragments, capsys):
    image, labels = person_files
    run = ["generate", "--run", trained_run]
    say = ["--sentence", "the lady wore a blue sleeveless dress."]
    if case == "labels-wrong-size":
        write_labels(labels, np.zeros((16, 16)))
    elif case == "labels-id-too-large":
        write_labels(labels, np.full((32, 32), 9))
    elif case == "image-wrong-size":
        Image.new("RGB", (48, 48)).save(image)
    from_files = [*say, "--image", image, "--labels", labels]
    argv = {
        "unknown-word": [*run, "--sentence", "the lady wore a zorblax dress."],
        "labels-wrong-size": [*run, *from_files],
        "labels-id-too-large": [*run, *from_files],
        "image-wrong-size": [*run, *from_files],
        "image-without-labels": [*run, *say, "--image", image],
        "missing-image-file": [*run, *say, "--image", tmp_path / "nobody.png", "--labels", labels],
        "missing-checkpoint": [*run, "--model", "ih1"],
        "missing-run-folder": ["generate", "--run", tmp_path / "no-such-run"],
        "folder-without-config": ["generate", "--run", tmp_path],
        "person-out-of-range": [*run, "--person", 99],
        "keep-identity-and-identity-none": [*run, "--keep-identity", "--identity", "none"],
        "files-without-sentence": [*run, "--image", image, "--labels", labels],
        "sweep-of-two-people": [*run, "--sweep", "--person", 0, "--person", 1, "--seed", 0, "--seed", 1],
        "sweep-and-grid": [*run, "--sweep", "--grid", "--person", 0],
    }[case]
    out_dir = tmp_path / "out"
    code, _, err = run_cli([*argv, "--out", out_dir], capsys)
    assert code == 2
    assert_one_line_error(err, "generate", *fragments)
    assert not out_dir.exists()  # nothing written


# ------------------------------------------------------------------------------------------------------------
# evaluate


def test_evaluate_writes_one_row_per_trained_model(run_copy, capsys):
    argv = [
        "evaluate",
        "--run",
        run_copy,
        "--num-test",
        8,
        "--detector-steps",
        2,
        "--parser-steps",
        2,
        "--no-progress",
    ]
    threads = torch.get_num_threads()
    try:
        code, out, err = run_cli(argv, capsys)
    finally:
        torch.set_num_threads(threads)
    assert code == 0, err
    result = json.loads((run_copy / "evaluation.json").read_text())
    names = [(row["model"], row["identity"]) for row in result["rows"]]
    # The real images' ceiling, then each trained model in each identity mode (One-Step: no structural mode);
    # not ih1 and 8-4, which this run did not train.
    assert names == [
        ("Real test images (ceiling)", "-"),
        ("FashionGAN (compositional)", "structural"),
        ("FashionGAN (compositional)", "none"),
        ("FashionGAN (compositional)", "official"),
        ("Two-stage, official ih1_skip", "structural"),
        ("Two-stage, official ih1_skip", "none"),
        ("Two-stage, official ih1_skip", "official"),
        ("One-Step GAN (8-7)", "none"),
        ("One-Step GAN (8-7)", "official"),
    ]
    assert result["num_test"] == 8 and (result["detector_steps"], result["parser_steps"]) == (2, 2)
    for row in result["rows"][1:]:
        for key in ("acc_color", "acc_sleeve", "acc_category", "gender_kept", "structure", "hair_face_iou"):
            assert 0.0 <= row[key] <= 1.0, (row["model"], key)
        assert np.isfinite(row["frechet_detector"]) and row["diversity_l1"] >= 0
        assert "acc_gender" not in row  # gender is the person's, scored as kept, not as text control
    by = {name: row for name, row in zip(names, result["rows"], strict=True)}
    structural = by[("FashionGAN (compositional)", "structural")]
    assert structural["hair_face_iou"] == 1.0 and structural["hair_delta_e"] == 0.0  # the input's own
    assert (
        structural["stage1_structure"] is not None
        and by[("One-Step GAN (8-7)", "none")]["stage1_structure"] is None
    )
    table = (run_copy / "evaluation.md").read_text()
    table_rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    model_lines = [r for r in table_rows if not r.startswith("| model ")]
    assert len(model_lines) == 2 * len(names)  # the control table, then the identity table
    assert [tuple(c.strip() for c in r.split("|")[1:3]) for r in model_lines[: len(names)]] == names
    assert table in out


def test_evaluate_one_identity_mode(run_copy, capsys):
    argv = ["evaluate", "--run", run_copy, "--num-test", 4, "--detector-steps", 1, "--parser-steps", 1]
    threads = torch.get_num_threads()
    try:
        code, _, err = run_cli([*argv, "--no-progress", "--identity", "none"], capsys)
    finally:
        torch.set_num_threads(threads)
    assert code == 0, err
    rows = json.loads((run_copy / "evaluation.json").read_text())["rows"]
    assert {row["identity"] for row in rows[1:]} == {"none"}


def test_evaluate_judges_on_more_people_and_refuses_to_rejudge_silently(run_copy, capsys):
    argv = ["evaluate", "--run", run_copy, "--num-test", 4, "--parser-steps", 1, "--identity", "none"]
    threads = torch.get_num_threads()
    try:
        code, out, err = run_cli(
            [*argv, "--no-progress", "--detector-steps", 1, "--detector-people", 96], capsys
        )
        assert code == 0, err
        result = json.loads((run_copy / "evaluation.json").read_text())
        assert (result["detector_steps"], result["detector_people"]) == (1, 96)
        assert "(1 steps, 96 distinct people; the first row" in (run_copy / "evaluation.md").read_text()
        # The run now holds a 1-step judge: asking for 2 steps names both instead of reusing it.
        code, _, err = run_cli(
            [*argv, "--no-progress", "--detector-steps", 2, "--detector-people", 96], capsys
        )
    finally:
        torch.set_num_threads(threads)
    assert code == 2
    assert_one_line_error(err, "evaluate", "trained with steps 1 (asked 2)", "delete it")


def test_a_judge_without_a_record_is_used_but_not_described_as_the_one_asked_for(run_copy, capsys):
    """Judges saved before records were kept are used as they are; the table claims no training for them."""
    argv = ["evaluate", "--run", run_copy, "--num-test", 4, "--parser-steps", 1, "--identity", "none"]
    threads = torch.get_num_threads()
    try:
        code, _, err = run_cli([*argv, "--no-progress", "--detector-steps", 1], capsys)
        assert code == 0, err
        (run_copy / "detector" / "attributes" / "training.json").unlink()
        code, _, err = run_cli([*argv, "--no-progress", "--detector-steps", 2], capsys)
    finally:
        torch.set_num_threads(threads)
    assert code == 0, err
    result = json.loads((run_copy / "evaluation.json").read_text())
    assert (result["detector_steps"], result["detector_people"]) == (None, None)
    footnote = (run_copy / "evaluation.md").read_text()
    assert "trained on real training images (the first row is their ceiling" in footnote
    assert "2 steps" not in footnote


def test_evaluate_missing_run_folder(tmp_path, capsys):
    code, _, err = run_cli(["evaluate", "--run", tmp_path / "nothing-here"], capsys)
    assert code == 2
    assert_one_line_error(err, "evaluate", "--run: no run folder at")


def test_demo_on_a_trained_run_writes_its_pictures_and_table(run_copy, tiny_options, capsys):
    threads = torch.get_num_threads()
    try:
        code, out, err = run_cli(["demo", "--out", run_copy, *SMALL_EVALUATION, *tiny_options], capsys)
    finally:
        torch.set_num_threads(threads)
    assert code == 0, err
    assert "shape: already trained" in out and "render_compositional: already trained" in out
    assert not (run_copy / "render_plain").exists()  # the demo trains only what its pictures need
    for name in ("redress_grid", "redress_grid_networks_only", "redress_grid_segmentations", "loss_curves"):
        with Image.open(run_copy / f"{name}.png") as im:
            assert im.width > 32 and im.height > 32, name
    rows = json.loads((run_copy / "evaluation.json").read_text())["rows"]
    assert rows[0]["model"] == "Real test images (ceiling)" and len(rows) > 1
    assert "demo finished in" in out


def test_ablation_trains_the_rest_of_the_comparison_and_evaluates(run_copy, tiny_options, capsys):
    threads = torch.get_num_threads()
    try:
        argv = ["ablation", "--out", run_copy, *SMALL_EVALUATION, *tiny_options]
        code, out, err = run_cli(argv, capsys)
    finally:
        torch.set_num_threads(threads)
    assert code == 0, err
    for model in ("render_plain", "onestep_84"):  # the run lacked these two of the paper's comparison
        assert latest_checkpoint(run_copy / model / "checkpoints").name == f"step-{STEPS:08d}"
    assert "shape: already trained" in out and "render_compositional: already trained" in out
    rows = {row["model"] for row in json.loads((run_copy / "evaluation.json").read_text())["rows"]}
    assert {"Non-Compositional", "One-Step GAN (8-4)", "FashionGAN (compositional)"} <= rows
