"""A run folder: its config, its frozen text encoder, its datasets, and the names of its model folders.

Layout of ``<run>/``::

    config.json                  the RunConfig (each checkpoint holds a copy too)
    text_encoder.safetensors     the frozen sentence encoder whose code feeds every model (+ .json)
    shape/                       stage 1           (checkpoints/, metrics.jsonl, samples/)
    render_compositional/        stage 2, the paper's compositional render generator
    render_plain/                stage 2, the same U-Net with a plain output (Non-Compositional)
    render_ih1_skip/, render_ih1/  stage 2, the official U-Net / original generators
    onestep_87/, onestep_84/     the One-Step GAN baselines
    detector/                    attribute detectors and parser used by the evaluation

A model's folder is its stage's name ([`STAGES`][fashion_gan.modeling.stage.STAGES]).
"""

from __future__ import annotations

import json
from pathlib import Path

import safetensors
import safetensors.torch
import torch

from condgan.text import RNNTextEncoder
from condgan.train import latest_checkpoint, list_checkpoints, load_checkpoint, make_ema, read_checkpoint_meta
from condgan.train.distributed import barrier

from .config import DataConfig, RunConfig
from .modeling import Stage, all_stages, get_stage, stage_for

__all__ = [
    "prepare_run_dir",
    "ensure_text_encoder",
    "load_text_encoder",
    "make_dataset",
    "check_same_config",
    "fixed_test_batch",
    "load_model",
    "TEXT_ENCODER_FILE",
]

TEXT_ENCODER_FILE = "text_encoder.safetensors"
_TEXT_SAMPLES = 6000  # training sentences used to fit the encoder on synthetic data (a few seconds to draw)


# Fields that change how a run executes, not what it computes: they may differ between a run and its resume.
RUNTIME_FIELDS = frozenset({"data.workers", "data.cache", "train.tensorboard"})


def config_differences(
    saved: dict, cfg: RunConfig, sections: tuple[str, ...], *, saved_name: str = "checkpoint"
) -> list[str]:
    """``section.field: checkpoint X, requested Y`` for each differing field (runtime-only fields aside)."""
    current = cfg.to_dict()
    diffs = []
    for section in sections:
        old, new = saved.get(section, {}), current[section]
        for key in sorted(set(old) | set(new)):
            o, n = old.get(key), new.get(key)
            o, n = (tuple(o) if isinstance(o, list) else o), (tuple(n) if isinstance(n, list) else n)
            if o != n and f"{section}.{key}" not in RUNTIME_FIELDS:
                diffs.append(f"{section}.{key}: {saved_name} {o!r}, requested {n!r}")
    return diffs


def prepare_run_dir(run_dir: Path, cfg: RunConfig) -> None:
    """Create the run folder and write ``config.json``; an existing one must hold a compatible config.

    Stage-specific fields (render kind, steps) may differ between the models of one run; the data and the text
    encoder may not, or the models would not fit together. Call it on the main process only.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "config.json"
    if path.exists():
        diffs = config_differences(RunConfig.load(path).to_dict(), cfg, ("data", "text"), saved_name="run")
        if diffs:
            raise ValueError(
                f"{path}: this run was made with a different configuration ({'; '.join(diffs)}); "
                "use another --out"
            )
        return
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(cfg.to_json())
    tmp.replace(path)


def check_same_config(saved: dict, cfg: RunConfig, *, path: Path) -> None:
    """Refuse to resume a checkpoint written with another model/data configuration (names the fields)."""
    diffs = config_differences(saved, cfg, ("data", "text", "model")) if saved else []
    if diffs:
        raise ValueError(f"checkpoint {path} is from another configuration: " + "; ".join(diffs))


def make_dataset(data: DataConfig, split: str, *, garment_twins: bool = False):
    """The dataset of ``data.source`` for ``split`` (``"train"`` or ``"test"``); with ``garment_twins`` its
    batches also carry each person's garment twin (synthetic data only)."""
    if data.source == "synthetic":
        from .data.synthetic import SyntheticMannequins

        return SyntheticMannequins(
            split=split,
            image_size=data.image_size,
            num_train=data.num_train,
            num_test=data.num_test,
            seed=data.seed,
            garment_twins=garment_twins,
        )
    if garment_twins:
        raise ValueError(
            f"garment_twins: only the synthetic people have garment twins, got data.source {data.source!r}"
        )
    if data.source == "official":
        from .data.official import OfficialFashionGAN

        if not data.root:
            raise ValueError(
                "data.root: the official source needs the data_release folder (--data-root), got none"
            )
        if data.image_size != 128:
            raise ValueError(f"data.image_size: the official release is 128x128, got {data.image_size}")
        return OfficialFashionGAN(data.root, split=split, cache=data.cache)
    raise ValueError(f"data.source: expected 'synthetic' or 'official', got {data.source!r}")


def _train_text_encoder(cfg: RunConfig) -> RNNTextEncoder:
    from .text import train_text_encoder

    dataset = make_dataset(cfg.data, "train")
    count = min(len(dataset), _TEXT_SAMPLES)
    gen = torch.Generator().manual_seed(cfg.train.seed + 17)
    indices = torch.randperm(len(dataset), generator=gen)[:count].sort().values.tolist()
    word_ids, labels = [], {k: [] for k in ("category", "color", "gender", "sleeve")}
    for start in range(0, count, 512):
        batch = dataset.get_batch(indices[start : start + 512])
        word_ids.append(batch["word_ids"])
        for key in labels:
            labels[key].append(torch.as_tensor(batch[key]))
    steps_per_epoch = max(1, count // cfg.text.batch_size)
    return train_text_encoder(
        torch.cat(word_ids),
        {k: torch.cat(v) for k, v in labels.items()},
        epochs=max(1, cfg.text.steps // steps_per_epoch),
        batch_size=cfg.text.batch_size,
        lr=cfg.text.lr,
        seed=cfg.train.seed,
        hidden_size=cfg.text.hidden_size,
    )


def load_text_encoder(run_dir: Path) -> RNNTextEncoder:
    """The run's frozen text encoder (eval mode, no gradients)."""
    path = Path(run_dir) / TEXT_ENCODER_FILE
    meta_path = path.with_suffix(".json")
    if not path.is_file() or not meta_path.is_file():
        raise FileNotFoundError(f"text encoder not found: {path} (+ .json); train a stage first to create it")
    try:
        meta = json.loads(meta_path.read_text())
        encoder = RNNTextEncoder(**meta["kwargs"])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{meta_path}: not a valid text-encoder description ({err})") from None
    try:  # safetensors only: a crafted or damaged file is an error naming it, never executed
        safetensors.torch.load_model(encoder, str(path), strict=True)
    except (safetensors.SafetensorError, RuntimeError, OSError) as err:
        raise ValueError(f"{path}: not a valid text-encoder safetensors file ({err})") from None
    encoder.eval().requires_grad_(False)
    return encoder


def ensure_text_encoder(run_dir: Path, cfg: RunConfig, *, dist_is_main: bool = True) -> RNNTextEncoder:
    """Load the run's text encoder, creating it first (main process only) if the run has none.

    ``cfg.text.encoder == "train"`` fits one on the training sentences; otherwise it is a path to the official
    ``rnn_latest.pth``, loaded without executing pickled code.
    """
    path = Path(run_dir) / TEXT_ENCODER_FILE
    if dist_is_main and not path.is_file():
        if cfg.text.encoder == "train":
            encoder = _train_text_encoder(cfg)
        else:
            from .text import load_official_text_encoder

            encoder = load_official_text_encoder(cfg.text.encoder)
        kwargs = {
            "vocab_size": encoder.vocab_size,
            "hidden_size": encoder.hidden_size,
            "num_layers": encoder.num_layers,
            "heads": dict(encoder.head_sizes),
        }
        tmp = path.with_suffix(".tmp")
        safetensors.torch.save_model(encoder, str(tmp))
        path.with_suffix(".json").write_text(
            json.dumps({"kwargs": kwargs, "source": cfg.text.encoder}, indent=2)
        )
        tmp.replace(path)
    barrier()
    return load_text_encoder(run_dir)


def fixed_test_batch(test_set, *, count: int = 8) -> dict:
    """The first ``count`` test people and the sentences of their redress partners (for sample grids)."""
    count = min(count, len(test_set))
    people = test_set.get_batch(list(range(count)))
    partners = test_set.redress_pairs[:count].tolist()
    partner = test_set.get_batch(partners)
    people["partner_word_ids"] = partner["word_ids"]
    people["partner_sentence"] = partner["sentence"]
    return people


def _stage_of(meta: dict, cfg: RunConfig) -> Stage:
    extra = meta.get("extra_state", {})
    if isinstance(extra, dict) and extra.get("model") in {s.name for s in all_stages()}:
        return get_stage(extra["model"])
    return stage_for(extra.get("stage") if isinstance(extra, dict) else None, cfg.model)


def load_model(
    run_dir: str | Path, model_name: str, *, device="cpu"
) -> tuple[Stage, torch.nn.Module, RunConfig]:
    """One trained model of a run: its stage, its generator (the EMA copy when the run kept one) in eval
    mode on ``device``, and the configuration it was trained with (from its latest checkpoint).

    Used by generation (both stages) and by a render trained on stage 1's maps
    (``train.render_generated_maps``).

    Raises:
        FileNotFoundError: the model has no checkpoint (the message says how to train it).
        condgan.train.CheckpointError: every checkpoint is damaged (the damaged file is named).
    """
    model_dir = Path(run_dir) / model_name
    ckpt = latest_checkpoint(model_dir / "checkpoints")
    if ckpt is None:
        folders = list_checkpoints(model_dir / "checkpoints")
        if not folders:
            raise FileNotFoundError(
                f"no checkpoint for model '{model_name}' under {model_dir / 'checkpoints'}; "
                f"train it first (fashion-gan train --out {run_dir} --stage ...)"
            )
        # Every checkpoint is damaged somewhere: load the newest anyway, so that a damaged generator file is
        # an error naming it (the hashes are checked) rather than "train it first".
        ckpt = folders[-1]
    meta = read_checkpoint_meta(ckpt)
    cfg = RunConfig.from_dict(meta.get("config", {}))
    stage = _stage_of(meta, cfg)
    generator, _ = stage.build(cfg)
    names = set(meta.get("modules", [])) if isinstance(meta.get("modules"), list) else set()
    key = "generator_ema" if "generator_ema" in names else "generator"
    if key == "generator_ema":
        ema = make_ema(generator, cfg.train.ema_decay or 0.999)
        load_checkpoint(ckpt, modules={key: ema}, restore_rng=False)
        generator = ema.module
    else:
        load_checkpoint(ckpt, modules={key: generator}, restore_rng=False)
    return stage, generator.to(device).eval(), cfg
