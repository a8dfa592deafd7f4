"""benchmarks/render_ablation.sh on the shared tiny run: one arm trained and evaluated, and its input errors.

It lives beside the CLI tests because it needs their trained run (tests/fashion_gan/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[3] / "benchmarks"


def test_render_ablation_script_runs_one_arm_and_refuses_bad_input(trained_run, tmp_path):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    script = BENCH_DIR / "render_ablation.sh"
    demo = tmp_path / "demo"
    shutil.copytree(trained_run, demo)
    env = {
        **os.environ,
        "FASHION_GAN": str(Path(sys.executable).with_name("fashion-gan")),
        "ABLATION_EVALUATE_OPTIONS": "--num-test 8 --detector-steps 2 --parser-steps 2",
        "ABLATION_TRAIN_OPTIONS": "--steps 2",  # after the arm's --steps 600
    }

    def run(*args):
        return subprocess.run(
            [bash, str(script), *args], env=env, capture_output=True, text=True, timeout=600, check=False
        )

    missing = run(str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "has no trained stage 1: run 'make demo' first" in missing.stdout
    unknown = run(str(demo), "bogus")
    assert unknown.returncode == 2 and "unknown arm bogus" in unknown.stdout
    done = run(str(demo), "l1_10")
    assert done.returncode == 0, done.stdout + done.stderr
    arm = tmp_path / "ablation-l1_10"
    assert "FashionGAN (compositional) | none" in done.stdout
    from condgan.train import read_checkpoint_meta

    last = sorted((arm / "render_compositional" / "checkpoints").glob("step-*"))[-1]
    meta = read_checkpoint_meta(last)
    assert meta["config"]["train"]["l1_weight"] == 10.0  # the arm's change reached the trained model
    assert meta["config"]["train"]["steps"] == 2  # ABLATION_TRAIN_OPTIONS came after the arm's options
    assert (arm / "evaluation.json").is_file()
