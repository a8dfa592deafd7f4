"""The evaluation table and the size the CPU presets' detectors judge at."""

from __future__ import annotations

from fashion_gan.evaluation.tables import format_table


def test_detector_size_caps_the_cpu_presets_and_reaches_the_table():
    from fashion_gan.config import preset
    from fashion_gan.evaluation.evaluate import detector_size

    assert detector_size(preset("demo")) == 64
    assert detector_size(preset("quality")) == 64  # 128x128 runs, judged at the demo's size
    assert detector_size(preset("faithful")) == 128
    assert detector_size(preset("demo").replace(data={"image_size": 32})) == 32
    result = {
        "run": "r",
        "preset": "quality",
        "data": "synthetic",
        "num_test": 2,
        "rows": [],
        "detector_size": 64,
    }
    assert "which see every image at 64x64" in format_table(result)
    assert "which see every image" not in format_table({**result, "detector_size": None})


def test_judge_steps_per_preset():
    from fashion_gan.config import preset
    from fashion_gan.evaluation.evaluate import _judge_steps

    assert _judge_steps(preset("demo"), None, None) == (400, 300)
    assert _judge_steps(preset("quality"), None, None) == (1600, 300)  # a detector that can read category
    assert _judge_steps(preset("faithful"), None, None) == (4000, 3000)
    assert _judge_steps(preset("quality"), 7, 5) == (7, 5)  # --detector-steps / --parser-steps win


def test_the_detector_of_a_128_cpu_run_trains_on_people_painted_at_64():
    from fashion_gan import runs
    from fashion_gan.config import preset
    from fashion_gan.evaluation.evaluate import detector_train_set

    quality = preset("quality").replace(data={"num_train": 8, "num_test": 2})
    train_set = runs.make_dataset(quality.data, "train")
    painted = detector_train_set(quality, train_set)
    assert train_set.image_size == 128 and painted.image_size == 64 and len(painted) == len(train_set)
    small, large = painted.get_batch([0, 3]), train_set.get_batch([0, 3])
    for name in ("category", "color", "sleeve", "gender"):  # the same people, only smaller
        assert small[name].tolist() == large[name].tolist()
    assert small["image"].shape == (2, 3, 64, 64)
    demo = preset("demo").replace(data={"num_train": 8, "num_test": 2})
    demo_set = runs.make_dataset(demo.data, "train")
    assert detector_train_set(demo, demo_set) is demo_set  # already at the detector's size
