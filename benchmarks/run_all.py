"""Run the whole benchmark suite (training iteration, generation, data, input path) and print a short summary.

Each part runs as its own process (``bench_train.py``, ``bench_generate.py``, ``bench_data.py``,
``bench_input.py``) with a time limit, so a part that fails or hangs (a ``torch.compile`` error, say) costs
only its own results. Every part writes its JSON into ``--out-dir``; this script then writes
``summary_<device>.json`` and prints the short table LAST.

Profiles:

- CPU (``make bench``): the official size (128x128, width 1.0) at batch 4, ``plain`` against ``condgan``
  (and ``condgan_foreach``: make_adam's default Adam), with the 1.5x target checked; generation at 128 and the
  8x8 redress grid with the demo preset's model size; synthetic data speed; the input path.
- CUDA (``--device cuda``, what ``run_cuda.sh`` runs): batch 4, 64 and 256 eager (plain and condgan), then
  ``condgan_compile`` at the ``--compile-batches`` (each compiled model in its own time-limited process) with
  the official-config baseline (plain, batch 4) in the same process; generation at batch 1 and 256; data and
  the device cache. Achieved TFLOP/s are also given as a percentage of ``--peak-tflops`` (800: the measured
  bf16 matrix rate of an H100/H200).
- ``--tiny``: every part at toy sizes (32x32, width 1/16, a round or two): a smoke test of the scripts that
  runs in well under a minute on a CPU.

    python benchmarks/run_all.py                 # CPU suite (about 5-10 minutes on 2 idle cores)
    python benchmarks/run_all.py --tiny          # smoke run
    python benchmarks/run_all.py --device cuda   # see run_cuda.sh
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PARTS = ("train", "compile", "generate", "data", "input")


def _python_env() -> dict[str, str]:
    """The environment of the parts: the checkout and its examples importable without an install."""
    env = dict(os.environ)
    extra = [str(HERE.parent), str(HERE.parent / "examples")]
    env["PYTHONPATH"] = os.pathsep.join([*filter(None, env.get("PYTHONPATH", "").split(os.pathsep)), *extra])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def plan(args: argparse.Namespace) -> list[tuple[str, list[str], float, Path]]:
    """The parts to run: ``(name, argv, time limit in seconds, JSON path)``."""
    out = args.out_dir
    dev = args.device
    cuda = dev == "cuda"
    parts: list[tuple[str, list[str], float, Path]] = []
    compiled: list[tuple[str, list[str], float, Path]] = []  # last: the slowest and most fragile part
    if args.tiny:
        size, width, warm, iters = ["--image-size", "32"], ["--width", "0.0625"], "1", "1"
        train_batches = "2"
    else:
        size, width = ["--image-size", str(args.image_size)], ["--width", str(args.width)]
        warm, iters = str(args.warmup), str(args.iters)
        train_batches = args.batch_sizes or ("4,64,256" if cuda else "4")
    common = ["--device", dev, "--warmup", warm, "--iters", iters]
    if args.threads:
        common += ["--threads", str(args.threads)]
    if "train" in args.parts:
        variants = "plain,condgan" if cuda else "plain,condgan,condgan_foreach"
        argv = [
            *common,
            *size,
            *width,
            "--batch-sizes",
            train_batches,
            "--variants",
            variants,
            "--target",
            "0" if args.tiny else str(args.target),  # toy sizes say nothing about the target
            "--peak-tflops",
            str(args.peak_tflops),
            "--out",
            str(out / f"train_{dev}.json"),
        ]
        if args.models:
            argv += ["--models", args.models]
        parts.append(
            ("train", [str(HERE / "bench_train.py"), *argv], args.part_timeout, out / f"train_{dev}.json")
        )
    if "compile" in args.parts and cuda:
        batches = args.compile_batches or ("2" if args.tiny else "256")
        for model in (args.compile_models or "render_compositional,render_ih1_skip,shape").split(","):
            path = out / f"train_{dev}_compile_{model}.json"
            argv = [
                *common,
                *size,
                *width,
                "--batch-sizes",
                batches,
                "--variants",
                "condgan_compile",
                "--models",
                model,
                "--peak-tflops",
                str(args.peak_tflops),
                "--out",
                str(path),
            ]
            compiled.append(
                (f"compile:{model}", [str(HERE / "bench_train.py"), *argv], args.compile_timeout, path)
            )
    if "generate" in args.parts:
        path = out / f"generate_{dev}.json"
        argv = [*common, *size, *width, "--out", str(path)]
        if args.tiny:
            argv += [
                "--large-batch",
                "4",
                "--grid-image-size",
                "32",
                "--grid-width",
                "0.0625",
                "--grid-repeats",
                "1",
            ]
        else:
            argv += ["--large-batch", "256" if cuda else "16"]
        if cuda:
            argv += ["--no-grid"]  # the grid is a CPU measurement
        parts.append(("generate", [str(HERE / "bench_generate.py"), *argv], args.part_timeout, path))
    if "data" in args.parts:
        path = out / f"data_{dev}.json"  # not bench_data's default data.json: never touch its results
        if args.tiny:
            argv = ["--skip-official", "--batch-size", "4", "--batches", "1", "--items", "2"]
        else:
            argv = ["--skip-official", "--batches", "10" if not cuda else "20", "--items", "50"]
            if args.data_official_images:
                argv = [a for a in argv if a != "--skip-official"]
                argv += ["--num-images", str(args.data_official_images), "--workdir", str(args.data_workdir)]
        parts.append(
            ("data", [str(HERE / "bench_data.py"), *argv, "--out", str(path)], args.part_timeout, path)
        )
    if "input" in args.parts:
        path = out / f"input_{dev}.json"
        if args.tiny:
            argv = [
                "--image-size",
                "32",
                "--batch-sizes",
                "4",
                "--workers",
                "0,1",
                "--steps",
                "2",
                "--cache-items",
                "16",
            ]
        elif cuda:
            argv = ["--batch-sizes", "64,256", "--workers", "0,4,8", "--steps", "20", "--cache-items", "4096"]
        else:
            argv = ["--batch-sizes", "4,64", "--workers", "0,1,2", "--steps", "5", "--cache-items", "512"]
        argv = ["--device", dev, *argv, "--out", str(path)]
        parts.append(("input", [str(HERE / "bench_input.py"), *argv], args.part_timeout, path))
    return parts + compiled


def run_part(name: str, argv: list[str], timeout: float) -> dict[str, Any]:
    """Run one part in a fresh process; its output streams through. Returns its status."""
    print(f"\n===== {name}: {' '.join(Path(a).name if a.endswith('.py') else a for a in argv)}", flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, *argv], env=_python_env(), timeout=timeout, check=False)
        status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
    except subprocess.TimeoutExpired:
        status = f"timed out after {timeout:.0f} s"
    seconds = time.perf_counter() - t0
    print(f"===== {name}: {status} in {seconds:.0f} s", flush=True)
    return {"part": name, "status": status, "seconds": seconds}


def _load(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.{digits}g}"
    return str(v)


def summarize(results: dict[str, dict[str, Any] | None]) -> tuple[dict[str, Any], str]:
    """The short summary (a dict for JSON, and the printed text) of the parts' JSON documents."""
    lines: list[str] = []
    summary: dict[str, Any] = {}
    train_rows = []
    for key, doc in results.items():
        if key.startswith("train") and doc:
            train_rows += doc.get("rows", [])
    plain = {
        (r["model"], r["batch"]): r["img_s"] for r in train_rows if r["variant"] == "plain" and "img_s" in r
    }
    for r in train_rows:  # compiled runs measure plain only at batch 4: compare with the eager run's plain
        if "speedup" not in r and "img_s" in r and (r["model"], r["batch"]) in plain:
            r["speedup"] = r["img_s"] / plain[(r["model"], r["batch"])]
            r["speedup_note"] = "plain measured in the eager part (another process)"
    if train_rows:
        summary["train"] = [
            {
                k: r.get(k)
                for k in (
                    "model",
                    "batch",
                    "variant",
                    "img_s",
                    "tflop_s",
                    "peak_pct",
                    "speedup",
                    "vs_official",
                    "peak_mb",
                    "error",
                )
            }
            for r in train_rows
        ]
        lines.append(
            "training iteration (median; speedup: vs plain, same batch; vs official: vs plain at batch 4)"
        )
        lines.append(
            "| model | batch | variant | img/s | TFLOP/s | % peak | speedup | vs official | peak MB |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for r in train_rows:
            if "error" in r:
                lines.append(
                    f"| {r['model']} | {r['batch']} | {r['variant']} | FAILED: {r['error'][:60]} | | | | | |"
                )
                continue
            lines.append(
                f"| {r['model']} | {r['batch']} | {r['variant']} | {_fmt(r.get('img_s'))} | "
                f"{_fmt(r.get('tflop_s'))} | {_fmt(r.get('peak_pct'))} | {_fmt(r.get('speedup'))} | "
                f"{_fmt(r.get('vs_official'))} | {_fmt(r.get('peak_mb'))} |"
            )
        checks = [
            c
            for key, doc in results.items()
            if key.startswith("train") and doc
            for c in doc.get("target_checks", [])
        ]
        if checks:
            summary["target_checks"] = checks
            for c in checks:
                verdict = "PASS" if c["passed"] else "FAIL"
                lines.append(
                    f"{verdict}: {c['model']} batch {c['batch']}: condgan {c['speedup']:.2f}x plain "
                    f"(target {c['target']}x)"
                )
    gen = results.get("generate")
    if gen and "generators" in gen:
        rows = gen["generators"]["rows"]
        summary["generate"] = rows
        lines.append("\ngeneration (eval, inference_mode): batch-1 latency and throughput")
        lines.append("| model | mode | batch-1 ms | batch | img/s |")
        lines.append("|---|---|---|---|---|")
        for r in rows:
            if "error" in r:
                lines.append(f"| {r['model']} | {r['mode']} | FAILED: {r['error'][:60]} | | |")
                continue
            lines.append(
                f"| {r['model']} | {r['mode']} | {_fmt(r['latency_ms_b1'])} | {r['batch']} | "
                f"{_fmt(r['img_s'])} |"
            )
    if gen and "grid" in gen:
        g = gen["grid"]
        summary["grid"] = {
            k: g[k] for k in ("images", "image_size", "width", "load_s", "grid_s", "redress_s")
        }
        lines.append(
            f"redress grid on the CPU: {g['images']} images ({g['image_size']} px, width {g['width']}): "
            f"{g['grid_s']:.2f} s (load {g['load_s']:.2f} s)"
        )
    data = results.get("data")
    if data and "synthetic" in data:
        rows = data["synthetic"]["rows"]
        summary["data"] = rows
        best = {}
        for r in rows:
            best[r["size"]] = max(best.get(r["size"], 0.0), r["samples_per_s"])
        lines.append(
            "synthetic data, best samples/s: " + ", ".join(f"{s} px {v:,.0f}" for s, v in best.items())
        )
    inp = results.get("input")
    if inp:
        summary["input"] = inp["rows"]
        parts = []
        for r in inp["rows"]:
            parts.append(f"{r['path']} b{r['batch']} w{r['workers']}: {r['samples_s']:,.0f}/s")
        lines.append("input path (to conditions on the device): " + "; ".join(parts))
    return summary, "\n".join(lines)


def merge_compile_files(results: dict[str, Any], paths: dict[str, Path], merged: Path) -> None:
    """Merge the per-model compile JSONs into ``merged`` and delete them (fewer files to carry back)."""
    keys = [k for k in paths if k.startswith("train_compile_")]
    if not keys:
        return
    doc = {
        "benchmark": "train_compile",
        "models": {k.removeprefix("train_compile_"): results.get(k) for k in keys},
        "rows": [r for k in keys if results.get(k) for r in results[k].get("rows", [])],
    }
    merged.write_text(json.dumps(doc, indent=2) + "\n")
    for k in keys:
        paths[k].unlink(missing_ok=True)
        paths[k] = merged


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse ``argv``, run the parts, write ``summary_<device>.json``, print the summary last."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    p.add_argument("--tiny", action="store_true", help="toy sizes: a smoke test of every script")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated from {list(PARTS)}")
    p.add_argument("--out-dir", type=Path, default=HERE / "results")
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument(
        "--batch-sizes", default="", help="training batch sizes (default: 4 on CPU, 4,64,256 CUDA)"
    )
    p.add_argument("--models", default="", help="training models (default: all three)")
    p.add_argument(
        "--compile-batches", default="", help="batch sizes of the compiled runs (CUDA; default 256)"
    )
    p.add_argument("--compile-models", default="", help="models compiled (CUDA; default all three)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=7)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--target", type=float, default=1.5, help="condgan vs plain target (checked)")
    p.add_argument("--peak-tflops", type=float, default=800.0, help="the chip's bf16 matrix rate")
    p.add_argument("--part-timeout", type=float, default=3600.0, help="seconds per part")
    p.add_argument("--compile-timeout", type=float, default=420.0, help="seconds per compiled model")
    p.add_argument("--deadline", type=float, default=0.0, help="seconds for the whole run (0: none)")
    p.add_argument(
        "--data-official-images", type=int, default=0, help="bench_data's official layout rows (0: skip)"
    )
    p.add_argument("--data-workdir", type=Path, default=Path("/tmp/fashiongan_bench"))
    args = p.parse_args(argv)
    if args.device == "auto":
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.device not in ("cpu", "cuda"):
        raise SystemExit(f"--device: expected cpu, cuda or auto, got {args.device!r}")
    args.parts = [x.strip() for x in args.parts.split(",") if x.strip()]
    bad = [x for x in args.parts if x not in PARTS]
    if bad:
        raise SystemExit(f"--parts: expected names from {list(PARTS)}, got {bad}")
    args.out_dir.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    statuses, paths = [], {}
    for name, part_argv, timeout, path in plan(args):
        if path.exists():
            path.unlink()  # never summarise a stale file from an earlier run
        left = args.deadline - (time.perf_counter() - t0) if args.deadline else timeout
        if left < 30:
            statuses.append(
                {"part": name, "status": f"skipped: the {args.deadline:.0f} s deadline", "seconds": 0}
            )
            print(f"===== {name}: skipped (deadline)", flush=True)
        else:
            statuses.append(run_part(name, part_argv, min(timeout, left)))
        key = "train_compile_" + name.split(":", 1)[1] if name.startswith("compile:") else name
        paths[key] = path
    results = {key: _load(path) for key, path in paths.items()}
    merge_compile_files(results, paths, args.out_dir / f"train_{args.device}_compile.json")
    summary, text = summarize(results)
    doc = {
        "device": args.device,
        "tiny": args.tiny,
        "command": "python benchmarks/run_all.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "seconds": time.perf_counter() - t0,
        "parts": statuses,
        "files": {k: str(v) for k, v in paths.items()},
        **summary,
    }
    out = args.out_dir / f"summary_{args.device}.json"
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print("\n" + "=" * 100)
    print(
        f"SUMMARY ({args.device}{', tiny' if args.tiny else ''}; {doc['seconds']:.0f} s; "
        f"JSON in {args.out_dir})"
    )
    for s in statuses:
        if s["status"] != "ok":
            print(f"part {s['part']}: {s['status']}")
    print(text)
    return doc


if __name__ == "__main__":
    run()
