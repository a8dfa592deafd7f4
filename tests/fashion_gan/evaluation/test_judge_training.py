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
