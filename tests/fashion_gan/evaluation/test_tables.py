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

    assert _judge_steps(preset("demo"), None, None) == (6400, 300)  # the shipped judge's
    assert _judge_steps(preset("quality"), None, None) == (6400, 300)  # the same
    assert _judge_steps(preset("faithful"), None, None) == (4000, 3000)
    assert _judge_steps(preset("quality"), 7, 5) == (7, 5)  # --detector-steps / --parser-steps win


def test_judge_people_per_preset():
    """The CPU presets' detector is the shipped judge (1,000,000 people); the others keep the run's split."""
    from fashion_gan.config import preset
    from fashion_gan.evaluation.evaluate import _judge_people

    for name in ("demo", "quality"):
        assert _judge_people(preset(name), None) == 1_000_000
        assert _judge_people(preset(name), 500) == 500  # --detector-people wins
    assert _judge_people(preset("faithful"), None) is None
    official = preset("quality").replace(data={"source": "official", "root": "/x", "image_size": 128})
    assert _judge_people(official, None) is None  # a fixed training split
