"""What the ``fashion-gan`` commands do, callable from Python: each takes a RunConfig and paths.

The command line ([`fashion_gan.cli`][fashion_gan.cli]) only parses options and calls these; nothing here
reads an ``argparse.Namespace``, and nothing changes its arguments.

Examples:
    >>> from fashion_gan.cli.commands import DEMO_SENTENCES
    >>> len(DEMO_SENTENCES)
    8
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image

from condgan.train import checkpoint_step, latest_checkpoint, read_checkpoint_meta

from .. import runs
from ..config import RunConfig, resolve_device
from ..inference.redress import Redresser
from ..modeling import Stage, demo_stages, evaluation_stages, stage_for
from ..training.loop import train_stage
from ..training.teacher import load_teacher
from ..visualize import captioned_grid, colorize_labels, save_png

__all__ = [
    "train_models",
    "generate_images",
    "evaluate",
    "demo",
    "ablation",
    "prepare_data",
    "redress_grid",
    "run_folder",
    "DEMO_SENTENCES",
]

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


def _train_one(
    cfg: RunConfig, run_dir: Path, stage: Stage, *, all_models: bool, resume: bool, progress: bool
):
    """Train one model; ``all_models`` continues a model that has checkpoints and skips a finished one."""
    model_cfg = stage.configure(cfg)
    latest = latest_checkpoint(run_dir / stage.name / "checkpoints")
    if all_models and latest is not None and checkpoint_step(latest) >= model_cfg.train.steps:
        print(f"{stage.name}: already trained ({latest.name}), skipping")
        return
    if latest is not None and (resume or all_models):
        # Before building anything: a checkpoint of another configuration is an error naming the fields
        # (model.width: checkpoint 0.25, requested 0.5), not a list of mismatched tensor shapes.
        runs.check_same_config(read_checkpoint_meta(latest).get("config", {}), model_cfg, path=latest)
    t0 = time.perf_counter()
    resume_this = resume if not all_models else latest is not None
    train_stage(model_cfg, stage=stage, run_dir=run_dir, resume=resume_this, progress=progress)
    print(f"{stage.name}: trained in {time.perf_counter() - t0:.0f} s -> {run_dir / stage.name}")


def train_models(
    cfg: RunConfig, run_dir: str | Path, *, stage: str = "all", resume: bool = False, progress: bool = True
) -> None:
    """Train ``text``, one ``--stage`` word's model, every model of the paper's comparison (``"all"``) or the
    demo's models (``"demo"``: stage 1 and the compositional render).

    ``"all"`` and ``"demo"`` skip finished models and continue interrupted ones. Under torchrun only rank 0
    writes the run folder's config and text encoder (``train_stage`` makes the other ranks wait for them).
    """
    run_dir = Path(run_dir)
    main_rank = int(os.environ.get("RANK", "0")) == 0
    many = {"all": evaluation_stages, "demo": demo_stages}
    todo = () if stage == "text" else many[stage]() if stage in many else (stage_for(stage, cfg.model),)
    # A missing or mismatched teacher fails here, before anything is trained (a model that has checkpoints
    # already holds its classifier: resuming it needs no teacher).
    starts = [m for m in todo if latest_checkpoint(run_dir / m.name / "checkpoints", verify=False) is None]
    if cfg.train.classifier_init and any(not m.reads_maps for m in starts):
        load_teacher(cfg)
    if main_rank:
        runs.prepare_run_dir(run_dir, cfg)
    if stage == "text":
        if main_rank:
            runs.ensure_text_encoder(run_dir, cfg)
            print(f"text encoder: {run_dir / runs.TEXT_ENCODER_FILE}")
        return
    for model in todo:
        _train_one(cfg, run_dir, model, all_models=stage in many, resume=resume, progress=progress)


def redress_grid(
    redresser: Redresser,
    people: dict,
    sentences: Sequence[str],
    *,
    seed: int = 0,
    identity: str | None = None,
):
    """The paper's figure: rows people (first column: the person), columns sentences; and the raw output."""
    out = redresser.redress(people, sentences, seed=seed, identity=identity)
    p = people["image"].shape[0]
    cells = torch.cat([people["image"].unsqueeze(1), out["images"]], dim=1).flatten(0, 1)
    scale = 2 if cells.shape[-1] <= 64 else 1
    return captioned_grid(cells, rows=p, column_titles=["person", *sentences], scale=scale), out


def seed_sweep_grid(
    redresser: Redresser,
    person: dict,
    sentences: Sequence[str],
    seeds: Sequence[int],
    *,
    identity: str | None = None,
):
    """One person in every sentence under every seed: rows seeds (first column: the person), columns
    sentences.

    What the noise z changes, and what it does not: ``person`` holds one person (``image`` (1, 3, H, W),
    ``labels`` (1, H, W)).
    """
    count = person["image"].shape[0]
    if count != 1:
        raise ValueError(f"--sweep: expected one person (one --person, or --image and --labels), got {count}")
    seeds = list(seeds) or [0]
    rows = [redresser.redress(person, sentences, seed=s, identity=identity)["images"][0] for s in seeds]
    cells = torch.cat([torch.cat([person["image"], row]) for row in rows])
    scale = 2 if cells.shape[-1] <= 64 else 1
    titles = ["person", *sentences]
    return captioned_grid(
        cells, rows=len(seeds), column_titles=titles, row_titles=[f"seed {s}" for s in seeds], scale=scale
    )


def segmentation_grid(people: dict, labels: torch.Tensor, sentences: Sequence[str]):
    """Stage 1's label maps (P, S, H, W) in colour, rows people (first column: the person's own map)."""
    p, s = labels.shape[:2]
    generated = colorize_labels(labels.flatten(0, 1).clamp_min(0)).reshape(p, s, 3, *labels.shape[-2:])
    cells = torch.cat([colorize_labels(people["labels"]).unsqueeze(1), generated], 1).flatten(0, 1)
    scale = 2 if cells.shape[-1] <= 64 else 1
    return captioned_grid(cells, rows=p, column_titles=["person", *sentences], scale=scale)


def run_folder(path: str | Path) -> Path:
    """An existing run folder (with its config.json), or an error that says what is missing."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"--run: no run folder at {path}")
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"--run: {path} has no config.json; expected a run folder made by 'fashion-gan train'"
        )
    return path


def _people(cfg: RunConfig, indices: Sequence[int], image: Path | None, labels: Path | None):
    """(people, their partners' sentences, their indices): test people, or one person from files."""
    from ..inference.person_files import read_person_files

    if image or labels:
        if not (image and labels):
            raise ValueError("--image and --labels go together: give both files of the person")
        return read_person_files(image, labels, image_size=cfg.data.image_size), [], []
    test_set = runs.make_dataset(cfg.data, "test")
    indices = list(indices) or list(range(4))
    bad = [i for i in indices if not 0 <= i < len(test_set)]
    if bad:
        raise ValueError(f"--person: expected test-split indices in [0, {len(test_set) - 1}], got {bad}")
    partners = test_set.get_batch(test_set.redress_pairs[indices].tolist())
    return test_set.get_batch(indices), list(partners["sentence"]), indices


def _grid_path(run_dir: Path, out: Path | None, seed: int, many: bool) -> Path:
    if out is None:
        return run_dir / "generated" / f"grid_seed{seed}.png"
    return out.with_name(f"{out.stem}_seed{seed}{out.suffix or '.png'}") if many else out


def _single_images(redresser, people, sentences, indices, *, given: bool, seed: int):
    """(image, file name) of each generated person: every person in every given sentence, or with partners."""
    if given:
        images = redresser.redress(people, sentences, seed=seed)["images"].flatten(0, 1)
        who = indices or [0]  # a person from files is person0
        names = [f"person{who[i // len(sentences)]}_sentence{i % len(sentences)}" for i in range(len(images))]
    else:
        images = redresser.generate(people, redresser.encode(sentences), seed=seed)["images"]
        names = [f"person{i}_partner" for i in indices]
    return zip(images, names, strict=True)


def generate_images(
    run_dir: str | Path,
    *,
    model: str = "compositional",
    people: Sequence[int] = (),
    image: Path | None = None,
    labels: Path | None = None,
    sentences: Sequence[str] = (),
    grid: bool = False,
    sweep: bool = False,
    seeds: Sequence[int] = (0,),
    identity: str = "structural",
    out: Path | None = None,
    device: str = "cpu",
) -> list[Path]:
    """Redress test people (or one person from files) with sentences; return the PNGs written.

    Without ``sentences`` each test person wears their redress partner's sentence. ``grid`` writes one
    picture per seed (rows people, columns sentences); ``sweep`` one picture of one person (rows seeds,
    columns sentences); otherwise one PNG per generated image. ``identity``
    is the identity mode (``structural``, ``none`` or ``official``; see ``fashion_gan.inference.identity``).
    """
    if sweep and grid:
        raise ValueError("--sweep and --grid: expected one of them (a sweep is one person's grid), got both")
    run_dir = run_folder(run_dir)
    cfg = RunConfig.load(run_dir / "config.json")
    device = resolve_device(device, what="--device")
    redresser = Redresser(run_dir, render=model, identity=identity, device=device)
    chosen, partner_sentences, indices = _people(cfg, people, image, labels)
    given = bool(sentences)  # every person in every given sentence; else each with their partner's
    sentences = list(sentences) or partner_sentences
    if not sentences:
        raise ValueError("--sentence: give at least one sentence for a person from files")
    seeds = list(seeds) or [0]
    redresser.encode(sentences)  # unknown words: one clear error before any work
    if sweep:
        picture = seed_sweep_grid(redresser, chosen, sentences, seeds)
        return [save_png(picture, out or run_dir / "generated" / "seed_sweep.png")]
    written = []
    for seed in seeds:
        if grid:
            picture, _ = redress_grid(redresser, chosen, sentences, seed=seed)
            written.append(save_png(picture, _grid_path(run_dir, out, seed, len(seeds) > 1)))
            continue
        folder = out or run_dir / "generated"
        for img, name in _single_images(redresser, chosen, sentences, indices, given=given, seed=seed):
            picture = Image.fromarray(img.permute(1, 2, 0).contiguous().numpy())
            written.append(save_png(picture, Path(folder) / f"{name}_seed{seed}.png"))
    return written


def evaluate(
    run_dir: str | Path,
    *,
    num_test: int | None = None,
    detector_steps: int | None = None,
    parser_steps: int | None = None,
    detector_people: int | None = None,
    identities: Sequence[str] = (),
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """The paper's evaluation of every trained model of a run in the identity modes ``identities`` (default
    all); writes evaluation.md / .json there."""
    from ..evaluation.evaluate import evaluate_run
    from ..inference.identity import IDENTITY_MODES, check_identity_mode

    return evaluate_run(
        run_folder(run_dir),
        num_test=num_test,
        detector_steps=detector_steps,
        parser_steps=parser_steps,
        detector_people=detector_people,
        modes=tuple(check_identity_mode(m) for m in identities) or IDENTITY_MODES,
        device=resolve_device(device, what="--device"),
        progress=progress,
    )


def demo(
    cfg: RunConfig,
    run_dir: str | Path,
    *,
    num_test: int | None = None,
    detector_steps: int | None = None,
    parser_steps: int | None = None,
    detector_people: int | None = None,
    progress: bool = True,
) -> dict:
    """The README's main job: stage 1 and the compositional render of ``cfg``, the redress grids, the loss
    curves, the evaluation table (its sizes as in [`evaluate`][fashion_gan.cli.commands.evaluate]). The rest
    of the paper's comparison is [`ablation`][fashion_gan.cli.commands.ablation].
    """
    from ..plots import plot_run

    t0 = time.perf_counter()
    run_dir = Path(run_dir)
    print(
        f"FashionGAN demo: {cfg.data.source} data at {cfg.data.image_size}x{cfg.data.image_size}, "
        f"stage 1 {cfg.train.steps} steps, the render {cfg.train.render_steps or cfg.train.steps} steps, "
        f"into {run_dir}"
    )
    train_models(cfg, run_dir, stage="demo", resume=True, progress=progress)
    people = runs.make_dataset(cfg.data, "test").get_batch(list(range(8)))
    redresser = Redresser(run_dir, render="compositional")
    grid, out = redress_grid(redresser, people, DEMO_SENTENCES, seed=0)
    print(f"redress grid (the person kept, structurally): {save_png(grid, run_dir / 'redress_grid.png')}")
    grid, _ = redress_grid(redresser, people, DEMO_SENTENCES, seed=0, identity="none")
    print(f"redress grid of the networks alone: {save_png(grid, run_dir / 'redress_grid_networks_only.png')}")
    seg_grid = segmentation_grid(people, out["labels"], DEMO_SENTENCES)
    print(f"stage-1 segmentations: {save_png(seg_grid, run_dir / 'redress_grid_segmentations.png')}")
    print(f"loss curves: {plot_run(run_dir)}")
    sizes = {
        "num_test": num_test,
        "detector_steps": detector_steps,
        "parser_steps": parser_steps,
        "detector_people": detector_people,
    }
    result = _evaluate_and_print(cfg, run_dir, sizes, progress=progress)
    print(f"demo finished in {(time.perf_counter() - t0) / 60:.1f} min; table: {run_dir / 'evaluation.md'}")
    return result


def _evaluate_and_print(cfg: RunConfig, run_dir: Path, sizes: dict, *, progress: bool) -> dict:
    """Evaluate every model of the run on ``cfg``'s device and print the table."""
    from ..evaluation.evaluate import format_table

    result = evaluate(run_dir, **sizes, device=cfg.train.device, progress=progress)
    print(format_table(result))
    return result


def ablation(
    cfg: RunConfig,
    run_dir: str | Path,
    *,
    num_test: int | None = None,
    detector_steps: int | None = None,
    parser_steps: int | None = None,
    detector_people: int | None = None,
    progress: bool = True,
) -> dict:
    """The paper's comparison in a run: train every model of it not trained yet (Non-Compositional, the
    One-Step baselines, and the demo's models if missing), then evaluate them all (the sizes as in
    [`evaluate`][fashion_gan.cli.commands.evaluate])."""
    train_models(cfg, run_dir, stage="all", resume=True, progress=progress)
    sizes = {
        "num_test": num_test,
        "detector_steps": detector_steps,
        "parser_steps": parser_steps,
        "detector_people": detector_people,
    }
    return _evaluate_and_print(cfg, run_dir, sizes, progress=progress)


def prepare_data(data_root: str | Path, out: str | Path) -> Path:
    """Convert the official G2.h5 into the compact uint8 cache (one time); return the cache folder."""
    from ..data.cache import prepare_cache

    return prepare_cache(data_root, out)
