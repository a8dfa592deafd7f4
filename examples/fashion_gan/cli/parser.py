"""The ``fashion-gan`` command line: its options, and how they become a RunConfig.

The choices of ``--stage``, ``--render``, ``--onestep-constraint`` and ``--model`` are views of the stage
registry ([`STAGES`][fashion_gan.modeling.stage.STAGES]).
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

from ..config import PRESETS, RunConfig, preset
from ..evaluation.evaluate import CPU_JUDGE_STEPS, DEFAULT_JUDGE_STEPS
from ..inference.identity import IDENTITY_MODES
from ..inference.redress import redress_models
from ..modeling import KINDS, variants

__all__ = ["build_parser", "config_from_args", "STAGE_CHOICES"]

STAGE_CHOICES = ("text", *KINDS, "all")


def _add_config_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("configuration (preset, then --config file, then the options below, then --set)")
    g.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="faithful: official sizes and schedule (128x128, batch 4, 25k steps); demo: small, CPU "
        "minutes. Default: the run's saved config, else faithful.",
    )
    g.add_argument("--config", type=Path, help="a config.json to start from (e.g. another run's)")
    g.add_argument(
        "--data-source", choices=("synthetic", "official"), help="embedded synthetic data or the release"
    )
    g.add_argument(
        "--data-root", help="official release: the data_release folder (benchmark/, supervision_signals/)"
    )
    g.add_argument("--data-cache", help="official release: a uint8 cache made by 'fashion-gan prepare-data'")
    g.add_argument("--image-size", type=int, help="image size (synthetic: 64 or 128; official: 128)")
    g.add_argument(
        "--text-encoder", help="'train' (fit on the training sentences) or a path to rnn_latest.pth"
    )
    g.add_argument(
        "--render", choices=variants("render", "render"), help="stage-2 model (default compositional)"
    )
    g.add_argument(
        "--onestep-constraint",
        type=int,
        choices=variants("onestep", "onestep_constraint"),
        help="One-Step baseline: 8-4 or 8-7",
    )
    g.add_argument("--width", type=float, help="channel multiplier (1.0 = official sizes)")
    g.add_argument(
        "--steps",
        type=int,
        help="training steps of every model (clears train.render_steps; demo: 1200, the render 1800)",
    )
    g.add_argument("--batch-size", type=int, help="batch size per process")
    g.add_argument("--precision", choices=("fp32", "bf16", "fp16"), help="autocast (fp16 needs CUDA)")
    g.add_argument("--device", help="auto, cpu, cuda, cuda:1 ...")
    g.add_argument("--seed", type=int, help="seed of batches, noise and initialisation")
    g.add_argument(
        "--tensorboard",
        action="store_const",
        const=True,
        default=None,
        help="also log losses, learning rates, images/s, sample sheets and the config for TensorBoard "
        "(<run>/<model>/tensorboard)",
    )
    g.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="override any config field, e.g. --set train.channels_last=True --set train.lr=1e-4",
    )


_SHORTCUTS = {
    "data_source": ("data", "source"),
    "data_root": ("data", "root"),
    "data_cache": ("data", "cache"),
    "image_size": ("data", "image_size"),
    "text_encoder": ("text", "encoder"),
    "render": ("model", "render"),
    "onestep_constraint": ("model", "onestep_constraint"),
    "width": ("model", "width"),
    "steps": ("train", "steps"),
    "batch_size": ("train", "batch_size"),
    "precision": ("train", "precision"),
    "device": ("train", "device"),
    "seed": ("train", "seed"),
    "tensorboard": ("train", "tensorboard"),
}


def config_from_args(
    args: argparse.Namespace, *, run_dir: Path | None = None, default_preset: str = "faithful"
) -> RunConfig:
    """Preset -> --config -> the run's saved config.json (when no preset/config given) -> options -> --set.

    Without ``--preset``, ``--config`` or a saved config, the run starts from ``default_preset``. A preset's
    ``train.shape_garment_twins`` is switched off for any data source but the synthetic one (only its people
    have twins); ``--set train.shape_garment_twins=True`` with the release stays an error.
    """
    if args.config is not None:
        cfg = RunConfig.load(args.config)
        if args.preset:
            cfg = preset(args.preset).replace(**{k: v for k, v in cfg.to_dict().items() if k != "preset"})
    elif args.preset:
        cfg = preset(args.preset)
    elif run_dir is not None and (run_dir / "config.json").is_file():
        cfg = RunConfig.load(run_dir / "config.json")
    else:
        cfg = preset(default_preset)
    updates: dict[str, dict] = {}
    for attr, (section, field) in _SHORTCUTS.items():
        value = getattr(args, attr, None)
        if value is not None:
            updates.setdefault(section, {})[field] = value
    if getattr(args, "steps", None) is not None:
        updates["train"]["render_steps"] = 0  # --steps N: N steps for every model (a --set may still differ)
    for item in args.overrides:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise ValueError(f"--set: expected SECTION.FIELD=VALUE (e.g. train.lr=1e-4), got {item!r}")
        key, raw = item.split("=", 1)
        section, field = key.split(".", 1)
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        updates.setdefault(section, {})[field] = value
    unknown = sorted(set(updates) - {"data", "text", "model", "train"})
    if unknown:
        raise ValueError(f"--set: unknown sections {unknown}; expected data, text, model or train")
    cfg = cfg.replace(**updates) if updates else cfg
    if (
        cfg.train.shape_garment_twins
        and cfg.data.source != "synthetic"
        and "shape_garment_twins" not in updates.get("train", {})
    ):
        # A preset's garment twins are for its synthetic people: the photographs of the release have none,
        # so on them stage 1 reads the person's own constraint. Asked for by name, they stay an error.
        cfg = cfg.replace(train={"shape_garment_twins": False})
    return cfg.validate()


def build_parser() -> argparse.ArgumentParser:
    """The ``fashion-gan`` parser: one subcommand per ``add_*`` function below."""
    parser = argparse.ArgumentParser(
        prog="fashion-gan",
        description="FashionGAN (Be Your Own Prada, ICCV 2017) built from condgan: train the two stages and "
        "the paper's baselines, redress people with sentences, evaluate as the paper did.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        _add_train,
        _add_generate,
        _add_evaluate,
        _add_demo,
        _add_ablation,
        _add_teacher,
        _add_prepare_data,
        _add_serve,
        _add_plot,
    ):
        add(sub)
    return parser


def _add_train(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a stage (or all of them) into a run folder",
        description="Train FashionGAN models. Stages: text (the sentence encoder), shape (stage 1), "
        "render (stage 2, --render picks the variant), onestep (the One-Step baseline, "
        "--onestep-constraint 7 or 4), all (text, shape, every render variant of the "
        "evaluation, both One-Step baselines). Progress bars, sample PNGs, metrics.jsonl "
        "and atomic checkpoints go to the run folder. Works under torchrun.",
    )
    p.add_argument("--out", type=Path, required=True, help="the run folder (created if needed)")
    p.add_argument("--stage", choices=STAGE_CHOICES, default="all", help="what to train (default all)")
    p.add_argument("--resume", action="store_true", help="continue from the last complete checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_config_options(p)


def _add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--device", default="cpu", help="where to run the models: cpu, cuda, cuda:1 ... (default cpu)"
    )


def _add_generate(sub) -> None:
    p = sub.add_parser(
        "generate",
        help="redress people with sentences",
        description="Redress people: stage 1 draws a new segmentation from the person's 8x8 "
        "spatial constraint and the sentence, stage 2 renders it.",
    )
    p.add_argument("--run", type=Path, required=True, help="a trained run folder")
    who = p.add_argument_group("people (test-split indices, or your own files)")
    who.add_argument("--person", type=int, action="append", default=[], help="test-split index (repeatable)")
    who.add_argument("--image", type=Path, help="an RGB image of the run's size")
    who.add_argument("--labels", type=Path, help="its label map: a PNG whose pixel values are the ids 0..6")
    p.add_argument(
        "--sentence",
        action="append",
        default=[],
        help="a sentence (repeatable); default: the test redress partners' sentences",
    )
    p.add_argument("--grid", action="store_true", help="one PNG: rows people, columns sentences")
    p.add_argument(
        "--sweep",
        action="store_true",
        help="one PNG for one person: rows seeds (--seed, repeatable), columns sentences",
    )
    p.add_argument("--seed", type=int, action="append", default=[], help="noise seed (repeatable; default 0)")
    p.add_argument(
        "--identity",
        choices=IDENTITY_MODES,
        default=None,
        help="how the person is kept: structural (default: hair and face are the input's own, through the "
        "layers), none (the networks alone), official (the released post processing)",
    )
    p.add_argument(
        "--keep-identity",
        action="store_true",
        help="the same as --identity structural (kept for older scripts; structural is the default)",
    )
    p.add_argument(
        "--model",
        default="compositional",
        choices=tuple(redress_models()),
        help="stage-2 model, or a One-Step baseline",
    )
    p.add_argument("--out", type=Path, help="output PNG (grid) or folder (default: <run>/generated)")
    _add_device(p)


def _add_evaluation_sizes(p) -> None:
    """``--num-test``, ``--detector-steps``, ``--detector-people``, ``--parser-steps``: how much evaluation to
    do."""
    p.add_argument(
        "--num-test", type=int, default=None, help="test people to use (default: all of the split)"
    )
    p.add_argument(
        "--detector-steps",
        type=int,
        default=None,
        help="training steps of the attribute detectors (default "
        + ", ".join(f"{steps[0]} {name}" for name, steps in CPU_JUDGE_STEPS.items())
        + f", {DEFAULT_JUDGE_STEPS[0]} otherwise)",
    )
    p.add_argument(
        "--detector-people",
        type=int,
        default=None,
        help="distinct people the attribute detectors learn from (synthetic data only; default the run's "
        "training split, and 1000000 for the demo and quality presets, whose judge is shipped with the "
        "recipe)",
    )
    p.add_argument(
        "--parser-steps",
        type=int,
        default=None,
        help="training steps of the segmentation parser (default "
        + ", ".join(f"{steps[1]} {name}" for name, steps in CPU_JUDGE_STEPS.items())
        + f", {DEFAULT_JUDGE_STEPS[1]} otherwise)",
    )


def _add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="the paper's protocol: attribute accuracy, structure, realism, diversity",
        description="Evaluate every trained model of a run on the test split with the redress pairs "
        "and write one table (markdown + JSON).",
    )
    p.add_argument("--run", type=Path, required=True, help="a trained run folder")
    _add_evaluation_sizes(p)
    p.add_argument(
        "--identity",
        choices=IDENTITY_MODES,
        action="append",
        default=[],
        help="identity mode to evaluate (repeatable; default: all three)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_device(p)


def _add_demo_run_options(p) -> None:
    """What ``demo`` and ``ablation`` share: the run folder, the evaluation sizes, progress, the config."""
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="the run folder (default runs/demo)")
    _add_evaluation_sizes(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_config_options(p)


def _add_demo(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="train, generate and evaluate the demo preset on the synthetic data",
        description="The README's main job: stage 1 and the compositional model of the demo preset on "
        "the embedded synthetic data, then the redress grids, the loss curves and the evaluation table. "
        "'fashion-gan ablation' adds the rest of the paper's comparison to the same run.",
    )
    _add_demo_run_options(p)
    p.add_argument("--resume", action="store_true", help="continue an interrupted demo")


def _add_ablation(sub) -> None:
    p = sub.add_parser(
        "ablation",
        help="the paper's comparison: train the remaining models of a run and evaluate them all",
        description="Train every model of the paper's comparison that a run lacks (Non-Compositional, "
        "One-Step 8-7 and 8-4, and stage 1 and the compositional model if missing) with the run's "
        "configuration, then evaluate all of them. Run it on the demo's run folder after 'fashion-gan demo'.",
    )
    _add_demo_run_options(p)


def _add_teacher(sub) -> None:
    p = sub.add_parser(
        "teacher",
        help="train the image models' attribute classifier once, for train.classifier_init",
        description="Train a fresh image classifier of the configuration alone on real training samples "
        "(the classifier warm-up of train.classifier_warmup), report its accuracy on the test people, and "
        "write it as one safetensors file. A run loads it before step 0 with --set "
        "train.classifier_init=PATH; the demo and quality presets load the teachers shipped with the "
        "recipe, made by this command.",
    )
    p.add_argument("--out", type=Path, required=True, help="the .safetensors file to write")
    p.add_argument("--warmup-steps", type=int, default=6400, help="steps of 64 real samples (default 6400)")
    p.add_argument(
        "--people",
        type=int,
        default=0,
        help="distinct synthetic training people to draw from (default 0: the configuration's training "
        "split)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_config_options(p)


def _add_prepare_data(sub) -> None:
    p = sub.add_parser(
        "prepare-data", help="convert the official G2.h5 into a compact uint8 cache (one time)"
    )
    p.add_argument("--data-root", required=True, help="the data_release folder")
    p.add_argument("--out", required=True, help="the cache folder")


def _add_serve(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="a local web demo of a trained run: redress people in the browser",
        description="Serve a web page on this machine: pick a test person or upload a picture and its "
        "label map, type a sentence (unknown words are flagged as you type), choose the model, identity "
        "mode and seed, and see the input, stage 1's segmentation and the rendered person; the 8-sentence "
        "grid and the loss curves too. The models are loaded once, at start. Needs the serve extra "
        "(pip install 'condgan[serve]').",
    )
    p.add_argument("--run", type=Path, required=True, help="a trained run folder")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    p.add_argument("--people", type=int, default=12, help="test people in the gallery (default 12)")
    _add_device(p)


def _add_plot(sub) -> None:
    p = sub.add_parser(
        "plot",
        help="loss curves of every model of a run, as a PNG",
        description="Draw the losses each model of a run logged in its metrics.jsonl against the step, one "
        "panel per model: the discriminator's (total, real, mismatched, fake), the generator's adversarial "
        "loss, and its reconstruction loss on a second axis.",
    )
    p.add_argument("--run", type=Path, required=True, help="a run folder")
    p.add_argument("--out", type=Path, help="the PNG to write (default <run>/loss_curves.png)")
    p.add_argument(
        "--smooth",
        type=float,
        default=0.0,
        help="exponential smoothing weight in [0, 1), e.g. 0.9 (default 0: the logged values)",
    )
