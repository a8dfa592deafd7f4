"""The CLI's commands (argument parsing lives in :mod:`fashion_gan.cli`)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch
from PIL import Image

from condgan.train import latest_checkpoint

from . import runs
from .cli import config_from_args
from .config import RunConfig, resolve_device
from .train import train_stage
from .visualize import captioned_grid, colorize_labels, save_png

__all__ = [
    "train",
    "generate",
    "evaluate",
    "demo",
    "prepare_data",
    "train_models",
    "redress_grid",
    "EVALUATION_MODELS",
    "DEMO_SENTENCES",
]

# What `train --stage all` and the demo train: stage 1, the two stage-2 models of the paper's table, the
# baselines.
EVALUATION_MODELS = (
    ("shape", {}),
    ("render", {"render": "compositional"}),
    ("render", {"render": "plain"}),
    ("onestep", {"onestep_constraint": 7}),
    ("onestep", {"onestep_constraint": 4}),
)

# Columns of the demo's redress grid: sentences in the official style and vocabulary.
DEMO_SENTENCES = (
    "the lady was wearing a red long-sleeved blouse.",
    "the lady wore a blue sleeveless dress.",
    "the lady was wearing a yellow short-sleeved tee.",
    "the man wore a black long-sleeved sweater.",
    "the lady was wearing a white sleeveless tank.",
    "the man was wearing a green short-sleeved tee.",
    "the lady wore a purple long-sleeved dress.",
    "the lady was wearing a pink short-sleeved blouse.",
)


def train_models(cfg: RunConfig, run_dir: Path, *, stage: str, resume: bool, progress: bool = True) -> None:
    """Train one stage, or (``stage="all"``) every model of the evaluation table, skipping finished ones.

    Under torchrun only rank 0 writes the run folder's config and text encoder (``train_stage`` makes the
    other ranks wait for them).
    """
    main_rank = int(os.environ.get("RANK", "0")) == 0
    if main_rank:
        runs.prepare_run_dir(run_dir, cfg)
    if stage == "text":
        if main_rank:
            runs.ensure_text_encoder(run_dir, cfg)
            print(f"text encoder: {run_dir / runs.TEXT_ENCODER_FILE}")
        return
    todo = EVALUATION_MODELS if stage == "all" else ((stage, {}),)
    for kind, overrides in todo:
        model_cfg = cfg.replace(model=overrides) if overrides else cfg
        name = runs.model_dir_name(kind, model_cfg.model)
        latest = latest_checkpoint(run_dir / name / "checkpoints")
        done = latest is not None and int(latest.name.split("-")[1]) >= model_cfg.train.steps
        if done and stage == "all":
            print(f"{name}: already trained ({latest.name}), skipping")
            continue
        if latest is not None and (resume or stage == "all"):
            # Before building anything: a checkpoint of another configuration is an error naming the fields
            # (model.width: checkpoint 0.25, requested 0.5), not a list of mismatched tensor shapes.
            saved = runs.read_checkpoint_meta(latest).get("config", {})
            runs.check_same_config(saved, model_cfg, path=latest)
        t0 = time.perf_counter()
        # `all` (and the demo) continue a model that has checkpoints and start the others fresh.
        resume_this = resume if stage != "all" else latest is not None
        train_stage(model_cfg, stage=kind, run_dir=run_dir, resume=resume_this, progress=progress)
        print(f"{name}: trained in {time.perf_counter() - t0:.0f} s -> {run_dir / name}")


def train(args) -> int:
    cfg = config_from_args(args, run_dir=args.out)
    train_models(cfg, args.out, stage=args.stage, resume=args.resume, progress=not args.no_progress)
    return 0


def redress_grid(redresser, people: dict, sentences, *, seed: int = 0, keep=()):
    """The paper's figure: rows people (first column: the person), columns sentences."""
    out = redresser.redress(people, sentences, seed=seed, keep=keep)
    p = people["image"].shape[0]
    cells = torch.cat([people["image"].unsqueeze(1), out["images"]], dim=1).flatten(0, 1)
    scale = 2 if cells.shape[-1] <= 64 else 1
    return captioned_grid(cells, rows=p, column_titles=["person", *sentences], scale=scale), out


def _people(args, cfg: RunConfig) -> tuple[dict, list[str], list[int]]:
    from .generate import read_person_files

    if args.image or args.labels:
        if not (args.image and args.labels):
            raise ValueError("--image and --labels go together: give both files of the person")
        people = read_person_files(args.image, args.labels, image_size=cfg.data.image_size)
        return people, [], []
    test_set = runs.make_dataset(cfg.data, "test")
    indices = args.person or list(range(4))
    bad = [i for i in indices if not 0 <= i < len(test_set)]
    if bad:
        raise ValueError(f"--person: expected test-split indices in [0, {len(test_set) - 1}], got {bad}")
    people = test_set.get_batch(indices)
    partners = test_set.get_batch(test_set.redress_pairs[indices].tolist())
    return people, list(partners["sentence"]), indices


def _run_folder(path: Path) -> Path:
    """``--run``: an existing run folder (with its config.json), or an error that says what is missing."""
    if not path.is_dir():
        raise FileNotFoundError(f"--run: no run folder at {path}")
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"--run: {path} has no config.json; expected a run folder made by 'fashion-gan train'"
        )
    return path


def generate(args) -> int:
    from .generate import HAIR_AND_FACE, Redresser

    cfg = RunConfig.load(_run_folder(args.run) / "config.json")
    if args.keep_identity and args.model != "compositional":
        raise ValueError(
            f"--keep-identity: only the compositional model keeps regions, got --model {args.model}"
        )
    redresser = Redresser(args.run, render=args.model, device=resolve_device(args.device, what="--device"))
    people, partner_sentences, indices = _people(args, cfg)
    sentences = args.sentence or partner_sentences
    if not sentences:
        raise ValueError("--sentence: give at least one sentence for a person from files")
    keep = HAIR_AND_FACE if args.keep_identity else ()
    seeds = args.seed or [0]
    redresser.encode(sentences)  # unknown words: one clear error before any work
    written = []
    if args.grid:
        for seed in seeds:
            image, _ = redress_grid(redresser, people, sentences, seed=seed, keep=keep)
            path = args.out or args.run / "generated" / f"grid_seed{seed}.png"
            if len(seeds) > 1 and args.out:
                path = args.out.with_name(f"{args.out.stem}_seed{seed}{args.out.suffix or '.png'}")
            written.append(save_png(image, path))
    else:
        folder = args.out or args.run / "generated"
        for seed in seeds:
            if args.sentence:  # every person in every given sentence
                out = redresser.redress(people, sentences, seed=seed, keep=keep)
                images = out["images"].flatten(0, 1)
                who = indices or [0]  # a person from files is person0
                names = [
                    f"person{who[i // len(sentences)]}_sentence{i % len(sentences)}"
                    for i in range(images.shape[0])
                ]
            else:  # each person with their redress partner's sentence
                images = redresser.generate(people, redresser.encode(sentences), seed=seed, keep=keep)[
                    "images"
                ]
                names = [f"person{i}_partner" for i in indices]
            for img, name in zip(images, names, strict=True):  # the generated image itself, H x W
                picture = Image.fromarray(img.permute(1, 2, 0).contiguous().numpy())
                written.append(save_png(picture, Path(folder) / f"{name}_seed{seed}.png"))
    for path in written:
        print(path)
    return 0


def evaluate(args) -> int:
    from .evaluate import evaluate_run, format_table

    result = evaluate_run(
        _run_folder(args.run),
        num_test=args.num_test,
        detector_steps=args.detector_steps,
        parser_steps=args.parser_steps,
        device=resolve_device(args.device, what="--device"),
        progress=not args.no_progress,
    )
    print(format_table(result))
    return 0


def demo(args) -> int:
    from .evaluate import evaluate_run, format_table
    from .generate import HAIR_AND_FACE, Redresser

    t0 = time.perf_counter()
    if args.preset is None and args.config is None:
        args.preset = "demo"
    cfg = config_from_args(args)
    run_dir = args.out
    print(
        f"FashionGAN demo: {cfg.data.source} data at {cfg.data.image_size}x{cfg.data.image_size}, "
        f"{cfg.train.steps} steps per model, into {run_dir}"
    )
    train_models(cfg, run_dir, stage="all", resume=True)
    test_set = runs.make_dataset(cfg.data, "test")
    people = test_set.get_batch(list(range(8)))
    redresser = Redresser(run_dir, render="compositional")
    grid, _ = redress_grid(redresser, people, DEMO_SENTENCES, seed=0)
    print(f"redress grid: {save_png(grid, run_dir / 'redress_grid.png')}")
    grid, _ = redress_grid(redresser, people, DEMO_SENTENCES, seed=0, keep=HAIR_AND_FACE)
    print(f"redress grid keeping hair and face: {save_png(grid, run_dir / 'redress_grid_keep_identity.png')}")
    seg_cells = torch.cat(
        [
            colorize_labels(people["labels"]).unsqueeze(1),
            colorize_labels(
                redresser.redress(people, DEMO_SENTENCES)["labels"].flatten(0, 1).clamp_min(0)
            ).reshape(8, len(DEMO_SENTENCES), 3, *people["labels"].shape[-2:]),
        ],
        1,
    ).flatten(0, 1)
    seg_grid = captioned_grid(
        seg_cells,
        rows=8,
        column_titles=["person", *DEMO_SENTENCES],
        scale=2 if seg_cells.shape[-1] <= 64 else 1,
    )
    print(f"stage-1 segmentations: {save_png(seg_grid, run_dir / 'redress_grid_segmentations.png')}")
    result = evaluate_run(run_dir)
    print(format_table(result))
    print(f"demo finished in {(time.perf_counter() - t0) / 60:.1f} min; table: {run_dir / 'evaluation.md'}")
    return 0


def prepare_data(args) -> int:
    from .data.cache import prepare_cache

    out = prepare_cache(args.data_root, args.out)
    print(json.dumps({"cache": str(out)}))
    return 0
