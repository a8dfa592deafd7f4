"""The judges' training record: a saved detector or parser trained otherwise than asked is refused, and the
detector can learn from more distinct synthetic people than the run trained on."""

from __future__ import annotations

import json

import pytest
import torch
from fashion_gan import runs
from fashion_gan.config import RunConfig
from fashion_gan.evaluation.evaluate import _detector_training_set
from fashion_gan.evaluation.judges import check_training_record, ensure_detector, write_training_record
from fashion_gan.evaluation.parser import ensure_parser


def test_a_record_round_trips_and_leaves_no_temporary_file(tmp_path):
    record = tmp_path / "training.json"
    write_training_record(record, {"steps": 3, "people": 40})
    assert json.loads(record.read_text()) == {"steps": 3, "people": 40}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["training.json"]
    check_training_record(record, {"steps": 3, "people": 40})  # the same training: accepted


def test_a_different_training_is_refused_naming_each_field(tmp_path):
    record = tmp_path / "training.json"
    write_training_record(record, {"steps": 3, "people": 40})
    with pytest.raises(ValueError, match=r"steps 3 \(asked 7\), people 40 \(asked 80\)") as info:
        check_training_record(record, {"steps": 7, "people": 80})
    assert str(tmp_path) in str(info.value) and "delete it" in str(info.value)
    with pytest.raises(ValueError, match=r"people 40 \(asked 41\)"):
        check_training_record(record, {"steps": 3, "people": 41})


def test_no_record_is_accepted_and_a_broken_one_is_a_clear_error(tmp_path):
    check_training_record(tmp_path / "missing.json", {"steps": 1})  # judges saved before records: used
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="expected the JSON record of a judge's training, got invalid JSON"):
        check_training_record(broken, {"steps": 1})
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected a JSON object, got list"):
        check_training_record(listed, {"steps": 1})


def test_more_people_keep_the_runs_own_first_and_leave_the_test_split_alone(trained_run):
    cfg = RunConfig.load(trained_run / "config.json")
    wider = _detector_training_set(cfg, cfg.data.num_train + 50)
    own = runs.make_dataset(cfg.data, "train")
    assert len(wider) == len(own) + 50
    first = [0, len(own) - 1]
    assert torch.equal(wider.get_batch(first)["image"], own.get_batch(first)["image"])
    fresh = wider.get_batch([len(own), len(own) + 49])["image"]
    assert fresh.shape[0] == 2 and not torch.equal(fresh[0], fresh[1])  # new people, not copies
    test_own = runs.make_dataset(cfg.data, "test").get_batch([0, 1])["image"]
    test_wider = runs.make_dataset(cfg.replace(data={"num_train": len(wider)}).data, "test").get_batch([0, 1])
    assert torch.equal(test_own, test_wider["image"])


def test_only_the_synthetic_painter_draws_more_people(trained_run):
    cfg = RunConfig.load(trained_run / "config.json").replace(data={"source": "official", "root": "/x"})
    with pytest.raises(ValueError, match="only the synthetic painter can draw more people, got data.source"):
        _detector_training_set(cfg, 100)


def test_the_detector_records_its_training_and_refuses_another(run_copy):
    cfg = RunConfig.load(run_copy / "config.json")
    people = runs.make_dataset(cfg.replace(data={"num_train": 96}).data, "train")
    threads = torch.get_num_threads()
    try:
        with torch.enable_grad():
            first = ensure_detector(run_copy, people, steps=2, device="cpu", progress=False, image_size=32)
            record = run_copy / "detector" / "attributes" / "training.json"
            assert json.loads(record.read_text()) == {"steps": 2, "people": 96}
            again = ensure_detector(run_copy, people, steps=2, device="cpu", progress=False, image_size=32)
            with pytest.raises(ValueError, match=r"steps 2 \(asked 3\)"):
                ensure_detector(run_copy, people, steps=3, device="cpu", progress=False)
            fewer = runs.make_dataset(cfg.replace(data={"num_train": 64}).data, "train")
            with pytest.raises(ValueError, match=r"people 96 \(asked 64\)"):
                ensure_detector(run_copy, fewer, steps=2, device="cpu", progress=False)
    finally:
        torch.set_num_threads(threads)
    for mine, loaded in zip(first.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(mine, loaded)  # the second call loaded the first one's weights


def test_the_parser_records_its_steps_and_refuses_others(run_copy):
    cfg = RunConfig.load(run_copy / "config.json")
    train_set = runs.make_dataset(cfg.data, "train")
    threads = torch.get_num_threads()
    try:
        with torch.enable_grad():
            ensure_parser(run_copy, train_set, steps=1, device="cpu", progress=False)
            assert json.loads((run_copy / "detector" / "parser_training.json").read_text()) == {"steps": 1}
            ensure_parser(run_copy, train_set, steps=1, device="cpu", progress=False)
            with pytest.raises(ValueError, match=r"steps 1 \(asked 2\)"):
                ensure_parser(run_copy, train_set, steps=2, device="cpu", progress=False)
    finally:
        torch.set_num_threads(threads)


def test_a_failed_atomic_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    from fashion_gan.evaluation.files import atomic_write, read_json

    target = tmp_path / "record.json"
    target.write_text('{"steps": 1}')

    def half_then_fail(name: str) -> None:
        with open(name, "w") as stream:
            stream.write('{"ste')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert read_json(target, "a record") == {"steps": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.json"]


def _fake_shipped(folder, detector, record: dict):
    """A shipped-judge folder: ``detector`` saved with ``record`` as its training."""
    from fashion_gan.evaluation.detectors import save_detector

    save_detector(detector, folder)
    write_training_record(folder / "training.json", record)
    return folder


def test_a_shipped_judge_is_copied_instead_of_trained_when_it_fits(run_copy, tmp_path, monkeypatch):
    """A run without a detector gets the shipped one when it was trained as asked, at the size asked, with the
    heads asked; any difference trains the run's own."""
    import fashion_gan.evaluation.judges as judges
    from fashion_gan.evaluation.detectors import AttributeDetector

    cfg = RunConfig.load(run_copy / "config.json")
    people = runs.make_dataset(cfg.data, "train")
    torch.manual_seed(0)
    heads = judges.detector_heads(people)
    shipped = _fake_shipped(
        tmp_path / "shipped",
        AttributeDetector(backbone="test_resnet", heads=heads, image_size=32),
        {"steps": 2, "people": len(people)},
    )
    trained = []
    real_train = judges.train_detector
    monkeypatch.setattr(judges, "train_detector", lambda *a, **k: trained.append(1) or real_train(*a, **k))
    kwargs = dict(device="cpu", progress=False, image_size=32, shipped=shipped)
    with torch.enable_grad():
        got = ensure_detector(run_copy, people, steps=2, **kwargs)
    assert trained == []
    folder = run_copy / "detector" / "attributes"
    assert sorted(p.name for p in folder.iterdir()) == [
        "detector.json",
        "detector.safetensors",
        "training.json",
    ]
    for name in ("detector.json", "detector.safetensors", "training.json"):
        assert (folder / name).read_bytes() == (shipped / name).read_bytes()
    assert all(
        torch.equal(a, b)
        for a, b in zip(
            got.state_dict().values(), judges.load_detector(shipped).state_dict().values(), strict=True
        )
    )  # noqa: E501
    # Trained otherwise, another size, other heads: not the shipped one.
    threads = torch.get_num_threads()
    try:
        for asked in ({"steps": 3}, {"image_size": 64}, {"heads": {"gender": 2}}):
            other = tmp_path / f"other_{next(iter(asked))}"
            _fake_shipped(
                other,
                AttributeDetector(
                    backbone="test_resnet",
                    heads=asked.get("heads", heads),
                    image_size=asked.get("image_size", 32),
                ),
                {"steps": asked.get("steps", 2), "people": len(people)},
            )
            fresh = tmp_path / f"run_{next(iter(asked))}"
            fresh.mkdir()
            with torch.enable_grad():
                ensure_detector(fresh, people, steps=2, **{**kwargs, "shipped": other})
            assert len(trained) == 1 and json.loads(
                (fresh / "detector" / "attributes" / "training.json").read_text()
            ) == {"steps": 2, "people": len(people)}  # noqa: E501
            trained.clear()
    finally:
        torch.set_num_threads(threads)


def test_the_shipped_demo_judge_reads_real_test_people():
    """The judge in the package: its record is the demo's default, and it reads real test pictures as it
    did when it was trained (category 0.857, colour 0.994, sleeve 0.977 on all 512; here the first 128)."""
    from fashion_gan.config import preset
    from fashion_gan.evaluation.detectors import evaluate_detector, load_detector
    from fashion_gan.evaluation.evaluate import _judge_people, _judge_steps
    from fashion_gan.evaluation.judges import SHIPPED_DETECTOR, WithWearerTargets

    demo = preset("demo")
    steps, _ = _judge_steps(demo, None, None)
    record = json.loads((SHIPPED_DETECTOR / "training.json").read_text())
    assert (
        record
        == {"steps": steps, "people": _judge_people(demo, None)}
        == {"steps": 6400, "people": 1_000_000}
    )
    detector = load_detector(SHIPPED_DETECTOR)
    assert detector.config["image_size"] == 64
    test = runs.make_dataset(demo.replace(data={"num_test": 128}).data, "test")
    accuracy = evaluate_detector(detector, WithWearerTargets(test), batch_size=64)
    assert accuracy["category"] > 0.78 and accuracy["color"] > 0.97 and accuracy["sleeve"] > 0.94, accuracy
