"""FashionGAN training iteration: condgan's step against the plain baseline, same settings, one run.

For each model (stage 1 ``shape``; stage 2 ``render_compositional`` and ``render_ih1_skip``) and batch size,
every variant trains the same networks from the same seed on the same uint8 batch. The variants run
interleaved (round-robin, order reversed every round) and each row reports the median:

    images/s, ms per iteration, GFLOP per iteration (FlopCounterMode), achieved TFLOP/s, peak memory,
    speed-up over ``plain`` at the same batch, and over ``plain`` at the official batch 4 (``vs_official``).

Variants (``--variants``, comma separated):

    plain            fp32, eager, three D calls, per-parameter Adam, NCHW, D not frozen (plain_baseline.py)
    condgan          condgan's step with the device's speed settings: bf16 autocast, channels_last,
                     one D call, fused Adam (make_adam(fused=True)), D frozen in the G step
    condgan_foreach  the same with make_adam's default Adam (foreach on the CPU, fused on CUDA)
    condgan_compile  condgan + torch.compile of G and D (only at --compile-batches)
    fp32             condgan's step in fp32 NCHW (one D call, make_adam's default Adam)
    fp32_separate    the same with three D calls
    fp32_fused       fp32 with fused Adam
    fp32_cl          fp32 + channels_last
    bf16             condgan's step, bf16 autocast, NCHW (make_adam's default Adam)
    bf16_separate    bf16 with three D calls
    bf16_cl          bf16 + channels_last (= condgan_foreach on the CPU)

Examples::

    python benchmarks/bench_train.py                                   # CPU, official size, batch 4
    python benchmarks/bench_train.py --variants plain,fp32,bf16,condgan # CPU ablation
    python benchmarks/bench_train.py --device cuda --batch-sizes 4,64,256 \\
        --variants plain,condgan,condgan_compile --compile-batches 256

Writes ``benchmarks/results/train_<device>.json`` (``--out``) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as bc  # noqa: E402
import torch  # noqa: E402

COLUMNS = [
    "model",
    "batch",
    "variant",
    "img_s",
    "ms_iter",
    "gflop_iter",
    "tflop_s",
    "peak_pct",
    "peak_mb",
    "speedup",
    "vs_official",
]


def variant_by_name(name: str, device: torch.device) -> bc.Variant:
    """The :class:`bench_common.Variant` called ``name`` on ``device`` (see the module docstring)."""
    table = {
        "plain": bc.PLAIN,
        "condgan": bc.condgan_variant(device, compile=False, name="condgan"),
        "condgan_foreach": dataclasses.replace(
            bc.condgan_variant(device, compile=False), name="condgan_foreach", adam="auto"
        ),
        "condgan_compile": bc.condgan_variant(device, compile=True, name="condgan_compile"),
        "fp32": bc.Variant("fp32", adam="auto"),
        "fp32_separate": bc.Variant("fp32_separate", single_d_call=False, adam="auto"),
        "fp32_fused": bc.Variant("fp32_fused"),
        "fp32_cl": bc.Variant("fp32_cl", channels_last=True, adam="auto"),
        "bf16": bc.Variant("bf16", precision="bf16", adam="auto"),
        "bf16_separate": bc.Variant("bf16_separate", precision="bf16", single_d_call=False, adam="auto"),
        "bf16_cl": bc.Variant("bf16_cl", precision="bf16", channels_last=True, adam="auto"),
    }
    if name not in table:
        raise ValueError(f"--variants: expected names from {sorted(table)}, got {name!r}")
    return table[name]


def _int_list(text: str, flag: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"{flag}: expected comma-separated positive ints, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise ValueError(f"{flag}: expected comma-separated positive ints, got {text!r}")
    return values


def _name_list(text: str, flag: str, allowed: list[str] | None = None) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    if not names:
        raise ValueError(f"{flag}: expected at least one name, got {text!r}")
    if allowed is not None:
        bad = [n for n in names if n not in allowed]
        if bad:
            raise ValueError(f"{flag}: expected names from {allowed}, got {bad}")
    return names


def measure(
    model: str,
    batch_size: int,
    variants: list[bc.Variant],
    *,
    cfg: Any,
    device: torch.device,
    warmup: int,
    iters: int,
    min_seconds: float = 0.0,
    flops: bool = True,
    memory: bool = True,
) -> list[dict[str, Any]]:
    """Rows for ``model`` at ``batch_size``: every variant built and timed together; FLOPs, memory."""
    batch = bc.synthetic_batch(cfg.data.image_size, batch_size)
    rows: list[dict[str, Any]] = []
    its: dict[str, bc.Iteration] = {}
    for v in variants:
        try:
            its[v.name] = bc.build_iteration(model, v, cfg=cfg, device=device, batch=batch)
            if v.compile:  # compile errors surface at the first call: keep them to this variant
                its[v.name].run()
        except Exception as err:  # noqa: BLE001 - one failing variant must not stop the suite
            rows.append(_error_row(model, batch_size, v, err))
            its.pop(v.name, None)
    if not its:
        return rows
    timing = dict(device=device, warmup=warmup, iters=iters, min_seconds=min_seconds)
    try:
        times = bc.time_interleaved({name: it.run for name, it in its.items()}, **timing)
    except Exception:  # noqa: BLE001 - find the variant that fails (an OOM, a recompilation), time the others
        times = {}
        for name, it in list(its.items()):
            try:
                times.update(bc.time_interleaved({name: it.run}, **timing))
            except Exception as err:  # noqa: BLE001
                rows.append(_error_row(model, batch_size, it.variant, err))
                del its[name]
    for name, it in its.items():
        med = bc.median(times[name])
        row: dict[str, Any] = {
            "model": model,
            "batch": batch_size,
            "variant": name,
            "settings": _settings(it.variant),
            "img_s": batch_size / med,
            "ms_iter": med * 1e3,
            "seconds": times[name],
        }
        try:
            if flops:
                n = bc.count_flops(it.run_eager)
                row["gflop_iter"] = n / 1e9
                row["tflop_s"] = n / med / 1e12
            if memory:
                mem = bc.peak_memory(it.run, device)
                row["peak_mb"] = mem["bytes"] / 2**20
                row["memory_kind"] = mem["kind"]
                if mem.get("before_bytes"):
                    row["rss_before_mb"] = mem["before_bytes"] / 2**20
        except Exception as err:  # noqa: BLE001 - keep the timing
            row["flops_or_memory_error"] = _error_row(model, batch_size, it.variant, err)["error"]
        rows.append(row)
    plain = next((r for r in rows if r["variant"] == "plain" and "img_s" in r), None)
    for r in rows:
        if plain is not None and "img_s" in r:
            r["speedup"] = r["img_s"] / plain["img_s"]
    del its
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return rows


def _settings(v: bc.Variant) -> dict[str, Any]:
    if v.plain:
        return {
            "precision": "fp32",
            "channels_last": False,
            "compile": False,
            "single_d_call": False,
            "adam": "for-loop",
            "freeze_d_in_g_step": False,
        }
    return {
        "precision": v.precision,
        "channels_last": v.channels_last,
        "compile": v.compile,
        "single_d_call": v.single_d_call,
        "adam": v.adam,
        "freeze_d_in_g_step": True,
        "check_finite": v.check_finite,
    }


def _error_row(model: str, batch: int, v: bc.Variant, err: BaseException) -> dict[str, Any]:
    tail = traceback.format_exception_only(type(err), err)[-1].strip()
    print(f"[bench_train] {model} batch {batch} {v.name}: FAILED: {tail}", file=sys.stderr)
    return {"model": model, "batch": batch, "variant": v.name, "settings": _settings(v), "error": tail[:500]}


def _result(
    rows: list[dict[str, Any]],
    args: argparse.Namespace,
    env: dict[str, Any],
    command: str,
    device: torch.device,
) -> dict[str, Any]:
    """The JSON document: rows with the ratios filled in, the target checks, settings and environment."""
    base = args.baseline_batch or 4
    official = {
        r["model"]: r["img_s"]
        for r in rows
        if r["variant"] == "plain" and r["batch"] == base and "img_s" in r
    }
    for r in rows:
        if r["model"] in official and "img_s" in r:
            r["vs_official"] = r["img_s"] / official[r["model"]]
        if args.peak_tflops and "tflop_s" in r:
            r["peak_pct"] = 100.0 * r["tflop_s"] / args.peak_tflops
    checks = []
    if args.target:
        for r in rows:
            if r["variant"] == "condgan" and "speedup" in r:
                checks.append(
                    {
                        "model": r["model"],
                        "batch": r["batch"],
                        "speedup": r["speedup"],
                        "target": args.target,
                        "passed": r["speedup"] >= args.target,
                    }
                )
    return {
        "benchmark": "train",
        "command": command,
        "environment": env,
        "settings": {
            "device": str(device),
            "image_size": args.image_size,
            "width": args.width,
            "warmup": args.warmup,
            "iters": args.iters,
            "timing": "median of interleaved rounds",
            "official_baseline": f"plain at batch {base}",
            "peak_tflops": args.peak_tflops or None,
        },
        "rows": rows,
        "target_checks": checks,
    }


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse ``argv``, run the benchmark, write the JSON and return the result."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (cuda when available)")
    p.add_argument("--models", default=",".join(bc.MODELS), help=f"comma-separated from {list(bc.MODELS)}")
    p.add_argument("--batch-sizes", default="4", help="comma-separated batch sizes (official: 4)")
    p.add_argument("--image-size", type=int, default=128, help="official 128")
    p.add_argument("--width", type=float, default=1.0, help="channel multiplier (official 1.0)")
    p.add_argument(
        "--variants", default="plain,condgan", help="comma-separated variant names (see the docstring)"
    )
    p.add_argument("--compile-batches", default="", help="batch sizes for *_compile variants (default: all)")
    p.add_argument("--warmup", type=int, default=2, help="untimed calls of each variant first")
    p.add_argument("--iters", type=int, default=5, help="timed rounds (median reported)")
    p.add_argument("--min-seconds", type=float, default=0.0, help="more rounds (up to 4x) until this long")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--no-flops", action="store_true", help="skip FLOP counting")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory iteration")
    p.add_argument(
        "--target", type=float, default=0.0, help="report whether condgan/plain >= this (e.g. 1.5)"
    )
    p.add_argument(
        "--baseline-batch", type=int, default=4, help="also time plain at this batch (official 4; 0: no)"
    )
    p.add_argument("--peak-tflops", type=float, default=0.0, help="report achieved TFLOP/s as %% of this")
    p.add_argument("--out", type=Path, default=None, help="JSON path (default results/train_<device>.json)")
    args = p.parse_args(argv)

    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    if args.threads:
        torch.set_num_threads(args.threads)
    models = _name_list(args.models, "--models", list(bc.MODELS))
    batches = _int_list(args.batch_sizes, "--batch-sizes")
    compile_batches = (
        set(_int_list(args.compile_batches, "--compile-batches")) if args.compile_batches else None
    )
    variants = [variant_by_name(n, device) for n in _name_list(args.variants, "--variants")]
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    torch._dynamo.config.cache_size_limit = max(64, torch._dynamo.config.cache_size_limit)
    cfg = bc.run_config(image_size=args.image_size, width=args.width)
    env = bc.environment(device)
    print(f"[bench_train] {env}", flush=True)

    out = args.out or bc.RESULTS / f"train_{device.type}.json"
    command = "python benchmarks/bench_train.py " + " ".join(sys.argv[1:] if argv is None else argv)
    rows: list[dict[str, Any]] = []
    result: dict[str, Any] = {}
    for model in models:
        plan = list(batches)
        if args.baseline_batch and args.baseline_batch not in plan:
            plan.insert(0, args.baseline_batch)
        for b in plan:
            if b in batches:
                vs = [v for v in variants if not v.compile or compile_batches is None or b in compile_batches]
            else:  # only the official-config baseline at this batch
                vs = [bc.PLAIN]
            rows += measure(
                model,
                b,
                vs,
                cfg=cfg,
                device=device,
                warmup=args.warmup,
                iters=args.iters,
                min_seconds=args.min_seconds,
                flops=not args.no_flops,
                memory=not args.no_memory,
            )
            result = _result(rows, args, env, command, device)
            bc.write_json(out, result)  # after every measurement: a run cut short keeps what it measured
            print(
                bc.format_table([r for r in rows if r["model"] == model and r["batch"] == b], COLUMNS),
                flush=True,
            )
    env["load_average_after"] = bc.environment(device).get("load_average")
    result = _result(rows, args, env, command, device)
    bc.write_json(out, result)
    checks = result["target_checks"]
    print("\n" + bc.format_table(rows, COLUMNS))
    for c in checks:
        verdict = "PASS" if c["passed"] else "FAIL"
        print(
            f"{verdict}: {c['model']} batch {c['batch']}: condgan {c['speedup']:.2f}x plain "
            f"(target {c['target']}x)"
        )
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    run()
