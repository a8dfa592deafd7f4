"""Shared fixtures of the FashionGAN recipe tests: ONE tiny run, trained once through the CLI.

``trained_run`` is a run folder made by ``fashion-gan train`` on a tiny configuration (32x32 synthetic people,
channels x 1/16, batch 4, fp32, ``data.workers=0``): the text encoder, stage 1 (``shape``), the compositional
and the non-compositional (``ih1_skip``) stage 2, and the One-Step 8-7 baseline, ``TINY_STEPS`` steps each.
Under ``pytest -n 2`` the xdist workers share it: the first one to get the file lock trains, the other waits
and reuses it. Tests that write into a run take ``run_copy`` (a private copy) and leave ``trained_run`` as it
is.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from filelock import FileLock

#: Training steps of every model of the shared run.
TINY_STEPS = 6

#: The tiny configuration as CLI options (``--set`` comes last, so it wins over the demo preset).
TINY_OPTIONS = (
    "--preset", "demo", "--image-size", "32", "--width", "0.0625", "--batch-size", "4", "--precision", "fp32",
    "--steps", str(TINY_STEPS), "--no-progress",
    "--set", "text.steps=20", "--set", "text.batch_size=32",
    "--set", "data.workers=0", "--set", "data.num_train=64", "--set", "data.num_test=16",
    "--set", "train.log_every=1", "--set", "train.sample_every=1000", "--set", "train.checkpoint_every=1000",
    # The demo's shipped teacher is for 64x64 and width 0.25 (tests of teachers make their own).
    "--set", "train.classifier_init=''",
    # The demo's render reads stage 1's maps; tests that train a render alone have none (test_generated_maps
    # covers the option).
    "--set", "train.render_generated_maps=0",
)  # fmt: skip

#: The models of the shared run: (``train`` options, model folder).
TINY_MODELS = (
    (("--stage", "shape"), "shape"),
    (("--stage", "render"), "render_compositional"),
    (("--stage", "render", "--render", "ih1_skip"), "render_ih1_skip"),
    (("--stage", "onestep", "--onestep-constraint", "7"), "onestep_87"),
)


@pytest.fixture(scope="session")
def tiny_options() -> tuple[str, ...]:
    """The tiny configuration as ``fashion-gan train`` options."""
    return TINY_OPTIONS


@pytest.fixture(scope="session")
def tiny_cfg() -> Callable[..., object]:
    """``tiny_cfg(**sections)``: the tiny configuration as a RunConfig (parsed from the same CLI options).

    Keyword arguments override fields per section, e.g.
    ``tiny_cfg(train={"steps": 4}, model={"render": "ih1"})``.
    """
    from fashion_gan import cli

    args = cli.build_parser().parse_args(["train", "--out", "unused", *TINY_OPTIONS])
    base = cli.config_from_args(args)

    def make(**sections):
        return base.replace(**sections) if sections else base

    return make


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """The shared tiny run folder (read-only for tests: copy it with ``run_copy`` to write into it)."""
    from fashion_gan import cli

    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's basetemp is <session folder>/popen-gwN: share the session folder.
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    run = root / "fashion_gan_tiny_run"
    done = root / "fashion_gan_tiny_run.done"
    with FileLock(str(root / "fashion_gan_tiny_run.lock")):
        if not done.exists():
            shutil.rmtree(run, ignore_errors=True)
            log = io.StringIO()
            threads = torch.get_num_threads()
            try:
                with contextlib.redirect_stdout(log):
                    for options, _ in TINY_MODELS:
                        code = cli.main(["train", "--out", str(run), *options, *TINY_OPTIONS])
                        assert code == 0, f"fashion-gan train {' '.join(options)} exited with {code}"
            finally:
                torch.set_num_threads(threads)
            (run / "train_stdout.txt").write_text(log.getvalue())
            done.write_text("ok\n")
    return run


@pytest.fixture
def run_copy(trained_run, tmp_path) -> Path:
    """A private copy of the shared run, for tests that write into it (evaluate, resume)."""
    out = tmp_path / "run"
    shutil.copytree(trained_run, out)
    return out


@pytest.fixture
def fresh_run(trained_run, tmp_path) -> Path:
    """An empty run folder holding only the shared run's text encoder (no need to train one again)."""
    out = tmp_path / "fresh"
    out.mkdir()
    for name in ("text_encoder.safetensors", "text_encoder.json"):
        shutil.copy2(trained_run / name, out / name)
    return out
