"""``fashion-gan teacher`` and ``train.classifier_init``: the image models' classifier trained once, loaded
before step 0.

Tiny configuration of ``conftest.py`` (32x32, channels x 1/16, fp32) for the teachers made here; the shipped
demo teacher is read as it is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import safetensors.torch
import torch
from fashion_gan import cli
from fashion_gan.config import SHIPPED_TEACHERS, TEACHERS_DIR, preset, teacher_path
from fashion_gan.modeling import all_stages, get_stage
from fashion_gan.training.loop import train_stage
from fashion_gan.training.teacher import TEACHER_MATCH, load_teacher, teacher_accuracy, train_teacher

from condgan.nets import AttributeClassifier
from condgan.train import latest_checkpoint, load_checkpoint

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tiny_teacher(tmp_path_factory, tiny_cfg) -> tuple[Path, dict]:
    """A 3-step teacher of the tiny configuration and its metadata."""
    out = tmp_path_factory.mktemp("teacher") / "tiny.safetensors"
    lines = []
    meta = train_teacher(tiny_cfg(), out, steps=3, say=lines.append)
    assert len(lines) == 1 and lines[0].startswith("teacher: 3 steps in ") and str(out) in lines[0]
    return out, meta


def with_teacher(cfg, path: Path):
    return cfg.replace(train={"classifier_init": str(path)}).validate()


def fresh_classifier(cfg) -> AttributeClassifier:
    stage = get_stage("render_compositional")
    return stage.build(stage.configure(cfg))[1].classifier


def test_writes_the_warmed_classifier_and_its_recipe(tiny_teacher, tiny_cfg):
    path, meta = tiny_teacher
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # atomic: no temporary left
    cfg = tiny_cfg()
    assert meta["config"] == {"data.source": "synthetic", "data.image_size": 32, "model.width": 0.0625}
    assert meta["recipe"] == {
        "steps": 3, "people": 0, "lr": 2e-3, "seed": 0, "precision": "fp32", "preset": "demo"
    }  # fmt: skip
    assert sorted(meta["test_accuracy"]) == ["category", "color", "sleeve"]
    assert meta["test_people"] == cfg.data.num_test
    stored = safetensors.torch.load_file(str(path))
    loaded = load_teacher(with_teacher(cfg, path)).state_dict()
    assert stored.keys() == loaded.keys()
    assert all(torch.equal(stored[k], loaded[k]) for k in stored)
    torch.manual_seed(123)
    untrained = fresh_classifier(cfg).state_dict()
    assert any(not torch.equal(stored[k], untrained[k]) for k in stored)
    # The accuracy written is the loaded classifier's on the test people.
    again = teacher_accuracy(load_teacher(with_teacher(cfg, path)), cfg, device=CPU)
    assert again == pytest.approx(meta["test_accuracy"], abs=1e-4)


def test_the_same_seed_makes_the_same_teacher(tiny_teacher, tiny_cfg, tmp_path):
    path, _ = tiny_teacher
    rng = torch.get_rng_state()
    train_teacher(tiny_cfg(), tmp_path / "twin.safetensors", steps=3, say=lambda _: None)
    assert torch.equal(torch.get_rng_state(), rng)  # the caller's global RNG is left alone
    a = safetensors.torch.load_file(str(path))
    b = safetensors.torch.load_file(str(tmp_path / "twin.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_loads_into_a_discriminator_or_a_classifier(tiny_teacher, tiny_cfg):
    path, _ = tiny_teacher
    cfg = with_teacher(tiny_cfg(), path)
    stage = get_stage("render_ih1_skip")  # every image model has the same classifier
    _, discriminator = stage.build(stage.configure(cfg))
    before = {k: v.clone() for k, v in discriminator.discriminator.state_dict().items()}
    load_teacher(cfg, discriminator)
    stored = safetensors.torch.load_file(str(path))
    got = discriminator.classifier.state_dict()
    assert all(torch.equal(stored[k], got[k]) for k in stored)
    after = discriminator.discriminator.state_dict()  # D itself untouched
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_a_run_starts_from_the_teacher_and_resumes_without_it(tiny_teacher, tiny_cfg, new_run, capsys):
    """The render's classifier is the teacher at step 0: two Adam steps at lr 1e-3 move each weight by a few
    thousandths, a fresh classifier differs by tenths. Stage 1 never loads it; a resume does not again."""
    path, _ = tiny_teacher
    cfg = with_teacher(tiny_cfg(train={"steps": 2, "lr": 1e-3}, data={"workers": 0}), path)
    run = new_run("taught")
    train_stage(cfg, stage="shape", run_dir=run, progress=False)
    assert "starts from the teacher" not in capsys.readouterr().out
    train_stage(cfg, stage="render", run_dir=run, progress=False, max_steps=1)
    assert capsys.readouterr().out.count(f"classifier: starts from the teacher {path}") == 1
    path.rename(path.with_suffix(".moved"))  # the resumed model has its classifier in its checkpoint
    try:
        model = train_stage(cfg, stage="render", run_dir=run, progress=False, resume=True)
    finally:
        path.with_suffix(".moved").rename(path)
    assert "starts from the teacher" not in capsys.readouterr().out
    plain = train_stage(
        cfg.replace(train={"classifier_init": ""}), stage="render", run_dir=new_run("plain"), progress=False
    )
    stored = safetensors.torch.load_file(str(path))

    def distance(model_dir: Path) -> float:
        stage = get_stage("render_compositional")
        _, d = stage.build(stage.configure(cfg))
        load_checkpoint(latest_checkpoint(model_dir / "checkpoints"), modules={"discriminator": d})
        params = dict(d.classifier.named_parameters())
        return max((params[k].detach() - stored[k]).abs().max().item() for k in params)

    assert distance(model) < 0.01
    assert distance(plain) > 0.05


def test_the_cli_checks_the_teacher_before_training(tiny_options, tiny_cfg, tmp_path, capsys):
    """A teacher of another configuration stops ``train`` before anything is written; ``teacher`` itself."""
    out = tmp_path / "t64.safetensors"
    code = cli.main(
        ["teacher", "--out", str(out), "--warmup-steps", "2", *tiny_options, "--image-size", "64"]
    )
    captured = capsys.readouterr()
    assert code == 0 and out.is_file() and captured.out.startswith("teacher: 2 steps in ")
    run = tmp_path / "run"
    argv = ["train", "--out", str(run), "--stage", "render", *tiny_options]
    code = cli.main([*argv, "--set", f"train.classifier_init={out}"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not run.exists()
    assert err == (
        f"fashion-gan train: error: train.classifier_init: {out} is a teacher for data.image_size=64, but "
        "the run has data.image_size=32; train one for this configuration with 'fashion-gan teacher' (the "
        "same options) or train without: --set train.classifier_init=''"
    )
    missing = tmp_path / "none.safetensors"
    assert cli.main([*argv, "--set", f"train.classifier_init={missing}"]) == 2
    assert f"teacher file not found: {missing}" in capsys.readouterr().err
    assert not run.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "t.pt"], "--out: expected a path ending in .safetensors, got 't.pt'"),
        (["--out", "t.safetensors", "--warmup-steps", "0"], "--warmup-steps: expected an int >= 1, got 0"),
        (["--out", "t.safetensors", "--set", "model.classifier=False"], "model.classifier: expected True"),
    ],
)
def test_the_teacher_command_names_bad_options(argv, message, tiny_options, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["teacher", *argv, *tiny_options]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fashion-gan teacher: error: ") and message in err[0]
    assert list(tmp_path.iterdir()) == []


def test_bad_teacher_files_are_named(tiny_teacher, tiny_cfg, tmp_path):
    path, meta = tiny_teacher
    cfg = tiny_cfg()
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="garbage.safetensors: not a valid teacher safetensors file"):
        load_teacher(with_teacher(cfg, garbage))
    bare = tmp_path / "bare.safetensors"
    safetensors.torch.save_file({"w": torch.zeros(2)}, str(bare))
    with pytest.raises(ValueError, match="bare.safetensors: not a teacher file"):
        load_teacher(with_teacher(cfg, bare))
    # The right configuration, the wrong tensors (written by hand): nothing is loaded.
    wrong = tmp_path / "wrong.safetensors"
    stored = safetensors.torch.load_file(str(path))
    name = next(k for k, v in stored.items() if v.ndim == 4)
    stored[name] = torch.zeros(1, 1, 1, 1)
    safetensors.torch.save_file(stored, str(wrong), metadata={"teacher": json.dumps(meta)})
    classifier = fresh_classifier(cfg)
    before = {k: v.clone() for k, v in classifier.state_dict().items()}
    with pytest.raises(ValueError, match=rf"tensor '{name}': expected shape \(\d+, \d+, \d+, \d+\), got "):
        load_teacher(with_teacher(cfg, wrong), classifier)
    assert all(torch.equal(before[k], v) for k, v in classifier.state_dict().items())
    del stored[name]
    safetensors.torch.save_file(stored, str(wrong), metadata={"teacher": json.dumps(meta)})
    with pytest.raises(ValueError, match="expected the tensors .* of the run's classifier"):
        load_teacher(with_teacher(cfg, wrong))
    for field in TEACHER_MATCH:
        section, key = field.split(".")
        other = {"data.source": "official", "data.image_size": 64, "model.width": 0.125}[field]
        forged = json.loads(json.dumps(meta))
        forged["config"][field] = other
        fake = tmp_path / f"forged_{key}.safetensors"
        safetensors.torch.save_file(
            safetensors.torch.load_file(str(path)), str(fake), {"teacher": json.dumps(forged)}
        )
        with pytest.raises(
            ValueError, match=rf"is a teacher for {field}={other!r}, but the run has {field}="
        ):
            load_teacher(with_teacher(cfg, fake))


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (
            "nope",
            ValueError,
            r"train.classifier_init: expected a shipped teacher \(demo, quality\) or a path ending in",
        ),
        ("t.pt", ValueError, r"path ending in .safetensors written by 'fashion-gan teacher', got 't.pt'"),
        (3, TypeError, r"train.classifier_init: expected a str \(''"),
    ],
)
def test_the_config_names_bad_values(tiny_cfg, value, error, message):
    with pytest.raises(error, match=message):
        tiny_cfg(train={"classifier_init": value}).validate()
    with pytest.raises(ValueError, match="classifier_init: expected '' without model.classifier"):
        tiny_cfg(model={"classifier": False}, train={"classifier_init": "demo"}).validate()


def test_teacher_path():
    assert teacher_path("demo") == TEACHERS_DIR / "render_demo.safetensors"
    assert teacher_path("a/b.safetensors") == Path("a/b.safetensors")
    with pytest.raises(ValueError, match="got 'a/b'"):
        teacher_path("a/b")


def test_presets_use_their_shipped_teachers():
    demo, quality = preset("demo"), preset("quality")
    assert (demo.train.classifier_init, demo.train.class_weight) == ("demo", 0.3)
    assert (quality.train.classifier_init, quality.train.class_weight) == ("quality", 0.1)
    for cfg in (demo, quality):  # stage 1 keeps its classifier weight
        assert {s.name: s.configure(cfg).train.class_weight for s in all_stages()}["shape"] == 1.0
    assert preset("faithful").train.classifier_init == ""


@pytest.mark.parametrize("name", ["demo", "quality"])
def test_the_shipped_teachers_read_test_people(name):
    """The file in the package loads into its preset's classifier and reads real test people as recorded."""
    path = teacher_path(name)
    assert path.is_file(), f"{path} missing: make it with {SHIPPED_TEACHERS[name][1]}"
    cfg = preset(name).replace(data={"num_test": 128}, train={"classifier_init": name})
    classifier = load_teacher(cfg)
    with safetensors.safe_open(str(path), "pt") as handle:
        meta = json.loads(handle.metadata()["teacher"])
    assert meta["recipe"]["steps"] == 6400 and meta["recipe"]["people"] == 1_000_000
    assert meta["config"]["data.image_size"] == cfg.data.image_size
    assert SHIPPED_TEACHERS[name][1].startswith(f"fashion-gan teacher --preset {name} --warmup-steps 6400 ")
    got = teacher_accuracy(classifier, cfg, device=CPU)
    # 128 of the 512 people the metadata's accuracy was measured on: close to it, far above chance.
    for name, value in meta["test_accuracy"].items():
        assert abs(got[name] - value) < 0.12, (name, got[name], value)
    assert got["category"] > 0.4 and got["color"] > 0.8 and got["sleeve"] > 0.8
