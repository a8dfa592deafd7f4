"""FashionGAN generation speed: each generator's batch-1 latency and batch throughput, and the redress grid.

Part 1 (``generators``), at the run size (official 128x128, width 1.0 by default): for the stage-1 generator
(``shape``), the stage-2 generators (``render_compositional``, composed with the one-hot segmentation, and
``render_ih1_skip``) and the chained ``two_stage`` pipeline (stage 1 -> argmax -> colour code -> compositional
stage 2, as ``fashion_gan.inference.redress.Redresser`` runs it), in eval mode under
``torch.inference_mode``:

    batch-1 latency (median ms) and images/s at ``--large-batch``, in ``fp32`` and in ``fast`` mode
    (bf16 autocast + channels_last).

Part 2 (``grid``, CPU): the 8x8 redress grid of the demo (8 test people x the 8 demo sentences = 64 images
through both stages, then the captioned PNG grid) with the ``demo`` preset's model size (64x64, width 0.25).
The run folder is written with randomly initialised weights (the cost does not depend on the weights): the
real ``Redresser`` and ``commands.redress_grid`` code paths run on it. Reports seconds to load the models and
to draw the grid.

    python benchmarks/bench_generate.py                       # CPU, both parts
    python benchmarks/bench_generate.py --device cuda --large-batch 256 --no-grid

Writes ``benchmarks/results/generate_<device>.json`` (``--out``) and prints tables.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as bc  # noqa: E402
import torch  # noqa: E402
from fashion_gan.config import RunConfig, preset  # noqa: E402
from fashion_gan.modeling import build_conditions, design_code, get_stage  # noqa: E402

#: The benchmarked stages alone, and the two-stage chain (stage 1, then the compositional render).
GEN_MODELS = (*bc.MODELS, "two_stage")
COLUMNS = ["model", "mode", "latency_ms_b1", "batch", "img_s", "gflop_img"]


def _mode_context(mode: str, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    if mode == "fast":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _to_cl(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous(memory_format=torch.channels_last) if t.ndim == 4 else t


class GeneratorRunner:
    """Calls one generator (or the two-stage chain) on a fixed batch of conditions."""

    def __init__(self, name: str, cfg: RunConfig, device: torch.device, mode: str, *, seed: int = 0) -> None:
        if name not in GEN_MODELS:
            raise ValueError(f"name: expected one of {GEN_MODELS}, got {name!r}")
        if mode not in ("fp32", "fast"):
            raise ValueError(f"mode: expected 'fp32' or 'fast', got {mode!r}")
        self.name, self.cfg, self.device, self.mode = name, cfg, device, mode
        torch.manual_seed(seed)
        self.encoder = bc.text_encoder(cfg, device, seed=seed)
        self.stages: dict[str, Any] = {}
        for key in ("shape", "render_compositional") if name == "two_stage" else (name,):
            stage = get_stage(key)
            g, _ = stage.build(stage.configure(cfg))
            g = g.to(device).eval().requires_grad_(False)
            if mode == "fast":
                g = g.to(memory_format=torch.channels_last)
            self.stages[key] = (stage, g)

    def prepare(self, batch_size: int) -> dict[str, Any]:
        """Conditions, codes and noise for ``batch_size`` people (untimed)."""
        data = bc.synthetic_batch(self.cfg.data.image_size, batch_size)
        with torch.inference_mode():
            cond = build_conditions(
                data["image"].to(self.device),
                data["labels"].to(self.device),
                constraint_size=self.cfg.model.constraint_size,
                constraint_mode=self.cfg.model.constraint_mode,
            )
            if self.mode == "fast":
                cond.seg_code, cond.one_hot, cond.images = (
                    _to_cl(cond.seg_code),
                    _to_cl(cond.one_hot),
                    _to_cl(cond.images),
                )
            code = design_code(
                self.encoder, data["word_ids"].to(self.device), cond.appearance, self.cfg.model
            )
        z1 = torch.randn(batch_size, self.cfg.model.z_dim, device=self.device)
        z2 = torch.randn(batch_size, self.cfg.model.z_dim, device=self.device)
        return {"cond": cond, "code": code, "z1": z1, "z2": z2}

    @torch.inference_mode()
    def __call__(self, inputs: dict[str, Any]) -> torch.Tensor:
        cond, code = inputs["cond"], inputs["code"]
        with _mode_context(self.mode, self.device):
            if self.name == "two_stage":
                _, shape_g = self.stages["shape"]
                render, render_g = self.stages["render_compositional"]
                labels = shape_g(inputs["z1"], code, cond.constraint4).argmax(1)
                return render.render(render_g, labels, code, inputs["z2"])
            stage, g = next(iter(self.stages.values()))
            return stage.generate(g, cond, code, inputs["z1"])


def bench_generators(
    cfg: RunConfig,
    device: torch.device,
    *,
    models: list[str],
    modes: list[str],
    large_batch: int,
    warmup: int,
    iters: int,
    flops: bool = True,
) -> list[dict[str, Any]]:
    """Batch-1 latency and large-batch throughput of every generator in every mode."""
    rows = []
    for name in models:
        for mode in modes:
            try:
                runner = GeneratorRunner(name, cfg, device, mode)
                one, big = runner.prepare(1), runner.prepare(large_batch)
                call_one, call_big = functools.partial(runner, one), functools.partial(runner, big)
                t1 = bc.time_interleaved({"b1": call_one}, device=device, warmup=warmup, iters=iters)
                tb = bc.time_interleaved({"big": call_big}, device=device, warmup=warmup, iters=iters)
                row = {
                    "model": name,
                    "mode": mode,
                    "latency_ms_b1": bc.median(t1["b1"]) * 1e3,
                    "batch": large_batch,
                    "img_s": large_batch / bc.median(tb["big"]),
                    "seconds_b1": t1["b1"],
                    "seconds_batch": tb["big"],
                }
                if flops:
                    row["gflop_img"] = bc.count_flops(call_big) / large_batch / 1e9
            except Exception as err:  # noqa: BLE001 - one failure must not stop the suite
                row = {"model": name, "mode": mode, "error": f"{type(err).__name__}: {err}"[:500]}
                print(f"[bench_generate] {name} {mode}: FAILED: {row['error']}", file=sys.stderr)
            rows.append(row)
            print(bc.format_table([row], COLUMNS), flush=True)
    return rows


def write_random_run(run_dir: Path, cfg: RunConfig, *, render: str = "compositional", seed: int = 0) -> Path:
    """A run folder holding randomly initialised models in the layout ``fashion_gan`` trains (for timing).

    Writes ``config.json``, the text encoder (``text_encoder.safetensors`` + ``.json``), and one checkpoint
    each for ``shape`` and ``render_<render>``, through condgan's ``save_checkpoint``.
    """
    import safetensors.torch
    from fashion_gan import runs

    from condgan.train import save_checkpoint

    run_dir = Path(run_dir)
    cfg = cfg.replace(model={"render": render})
    runs.prepare_run_dir(run_dir, cfg)
    encoder = bc.text_encoder(cfg, torch.device("cpu"), seed=seed)
    path = run_dir / runs.TEXT_ENCODER_FILE
    safetensors.torch.save_model(encoder, str(path))
    kwargs = {
        "vocab_size": encoder.vocab_size,
        "hidden_size": encoder.hidden_size,
        "num_layers": encoder.num_layers,
        "heads": dict(encoder.head_sizes),
    }
    path.with_suffix(".json").write_text(json.dumps({"kwargs": kwargs, "source": "random (benchmark)"}))
    torch.manual_seed(seed)
    for stage in (get_stage("shape"), get_stage(f"render_{render}")):
        g, d = stage.build(cfg)
        save_checkpoint(
            run_dir / stage.name / "checkpoints",
            step=1,
            modules={"generator": g, "discriminator": d},
            config=cfg.to_dict(),
            extra_state={"stage": stage.kind, "model": stage.name},
        )
    return run_dir


def bench_grid(
    cfg: RunConfig, *, device: torch.device, repeats: int, workdir: Path | None = None
) -> dict[str, Any]:
    """Seconds to load a run's two stages and to draw the 8x8 redress grid (64 images) on ``device``."""
    from fashion_gan import runs
    from fashion_gan.cli.commands import DEMO_SENTENCES, redress_grid
    from fashion_gan.inference.redress import Redresser

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        run_dir = write_random_run(Path(tmp) / "run", cfg)
        t0 = time.perf_counter()
        redresser = Redresser(run_dir, render="compositional", device=device)
        load_s = time.perf_counter() - t0
        test_set = runs.make_dataset(cfg.data, "test")
        people = test_set.get_batch(list(range(8)))
        sentences = list(DEMO_SENTENCES[:8])
        grid_s, redress_s = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            image, out = redress_grid(redresser, people, sentences, seed=0)
            grid_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            redresser.redress(people, sentences, seed=0)
            redress_s.append(time.perf_counter() - t0)
    return {
        "image_size": cfg.data.image_size,
        "width": cfg.model.width,
        "people": len(people["image"]),
        "sentences": len(sentences),
        "images": int(out["images"].shape[0] * out["images"].shape[1]),
        "grid_png_size": list(getattr(image, "size", ())),
        "load_s": load_s,
        "grid_s": bc.median(grid_s),
        "redress_s": bc.median(redress_s),
        "grid_s_all": grid_s,
        "redress_s_all": redress_s,
        "weights": "random (same cost as trained)",
    }


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse ``argv``, run the benchmark, write the JSON and return the result."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    p.add_argument("--models", default=",".join(GEN_MODELS), help=f"comma-separated from {list(GEN_MODELS)}")
    p.add_argument("--modes", default="fp32,fast", help="fp32 and/or fast (bf16 autocast + channels_last)")
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--large-batch", type=int, default=16, help="batch of the throughput measurement")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--no-generators", action="store_true", help="skip part 1")
    p.add_argument("--no-grid", action="store_true", help="skip the redress grid (part 2)")
    p.add_argument("--grid-image-size", type=int, default=None, help="grid model size (default: demo preset)")
    p.add_argument("--grid-width", type=float, default=None, help="grid model width (default: demo preset)")
    p.add_argument("--grid-repeats", type=int, default=3)
    p.add_argument("--no-flops", action="store_true")
    p.add_argument(
        "--out", type=Path, default=None, help="JSON path (default results/generate_<device>.json)"
    )
    args = p.parse_args(argv)

    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.large_batch <= 0:
        raise ValueError(f"--large-batch: expected a positive int, got {args.large_batch}")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = [m for m in models if m not in GEN_MODELS]
    if bad or not models:
        raise ValueError(f"--models: expected names from {list(GEN_MODELS)}, got {args.models!r}")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in ("fp32", "fast") for m in modes):
        raise ValueError(f"--modes: expected 'fp32' and/or 'fast', got {args.modes!r}")
    env = bc.environment(device)
    print(f"[bench_generate] {env}", flush=True)
    result: dict[str, Any] = {
        "benchmark": "generate",
        "command": "python benchmarks/bench_generate.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "environment": env,
    }
    if not args.no_generators:
        cfg = bc.run_config(image_size=args.image_size, width=args.width)
        result["generators"] = {
            "image_size": args.image_size,
            "width": args.width,
            "rows": bench_generators(
                cfg,
                device,
                models=models,
                modes=modes,
                large_batch=args.large_batch,
                warmup=args.warmup,
                iters=args.iters,
                flops=not args.no_flops,
            ),
        }
    if not args.no_grid:
        demo = preset("demo")
        size = args.grid_image_size or demo.data.image_size
        width = args.grid_width or demo.model.width
        grid_cfg = demo.replace(data={"image_size": size, "num_test": 64}, model={"width": width})
        result["grid"] = bench_grid(grid_cfg, device=torch.device("cpu"), repeats=args.grid_repeats)
    result["environment"]["load_average_after"] = bc.environment(device).get("load_average")
    out = args.out or bc.RESULTS / f"generate_{device.type}.json"
    bc.write_json(out, result)
    if "generators" in result:
        print("\n" + bc.format_table(result["generators"]["rows"], COLUMNS))
    if "grid" in result:
        g = result["grid"]
        print(
            f"\nredress grid (CPU, {g['people']}x{g['sentences']} = {g['images']} images, "
            f"{g['image_size']}px, "
            f"width {g['width']}): load {g['load_s']:.2f} s, grid {g['grid_s']:.2f} s, "
            f"redress only {g['redress_s']:.2f} s"
        )
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    run()
