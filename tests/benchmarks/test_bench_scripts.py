"""Tiny-size smoke runs of every benchmark script on the CPU.

bench_train, bench_generate, bench_input, run_all and run_cuda.sh, plus their argument errors and the summary
logic. Timings at toy sizes mean nothing: these tests check that the scripts run end to end and write complete
JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest
import torch

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


def test_bench_train_smoke(bench, tiny_args, tmp_path):
    train = bench("bench_train")
    out = tmp_path / "train.json"
    argv = [
        *tiny_args,
        "--device",
        "cpu",
        "--models",
        "shape,render_compositional",
        "--batch-sizes",
        "2",
        "--variants",
        "plain,condgan,bf16_separate",
        "--baseline-batch",
        "3",
        "--target",
        "1.5",
        "--peak-tflops",
        "1",
        "--out",
        str(out),
    ]
    result = train.run(argv)
    doc = json.loads(out.read_text())
    assert doc["rows"] == json.loads(json.dumps(result["rows"]))
    rows = {(r["model"], r["batch"], r["variant"]): r for r in doc["rows"]}
    assert set(rows) == {
        (m, b, v)
        for m in ("shape", "render_compositional")
        for b, v in [(3, "plain"), (2, "plain"), (2, "condgan"), (2, "bf16_separate")]
    }
    for r in doc["rows"]:
        assert "error" not in r, r
        assert r["img_s"] > 0 and r["ms_iter"] > 0 and r["gflop_iter"] > 0 and r["peak_mb"] > 0
        assert r["tflop_s"] == pytest.approx(r["gflop_iter"] / r["ms_iter"])
        assert r["peak_pct"] == pytest.approx(100 * r["tflop_s"])
        assert r["vs_official"] == pytest.approx(r["img_s"] / rows[(r["model"], 3, "plain")]["img_s"])
    assert rows[("shape", 2, "plain")]["speedup"] == 1.0
    assert rows[("shape", 2, "condgan")]["settings"]["precision"] == "bf16"
    assert rows[("shape", 2, "condgan")]["settings"]["adam"] == "fused"
    assert rows[("shape", 2, "plain")]["settings"]["single_d_call"] is False
    # the baseline computes D's weight gradients in its G step (D not frozen): more FLOPs than condgan
    assert rows[("shape", 2, "plain")]["gflop_iter"] > rows[("shape", 2, "condgan")]["gflop_iter"]
    assert {(c["model"], c["batch"]) for c in doc["target_checks"]} == {
        ("shape", 2),
        ("render_compositional", 2),
    }
    assert all(isinstance(c["passed"], bool) for c in doc["target_checks"])
    assert doc["environment"]["torch"] == torch.__version__ and "load_average_after" in doc["environment"]


def test_bench_train_keeps_going_when_a_variant_fails(bench, monkeypatch):
    train = bench("bench_train")
    bc = bench("bench_common")
    real = bc.build_iteration

    def broken(model, variant, **kwargs):
        if variant.name == "fp32":
            raise RuntimeError("inductor said no")
        return real(model, variant, **kwargs)

    monkeypatch.setattr(bc, "build_iteration", broken)
    cfg = bc.run_config(image_size=32, width=0.0625)
    variants = [train.variant_by_name(n, torch.device("cpu")) for n in ("plain", "fp32")]
    rows = train.measure(
        "shape", 2, variants, cfg=cfg, device=torch.device("cpu"), warmup=0, iters=1, flops=False
    )
    by = {r["variant"]: r for r in rows}
    assert by["fp32"]["error"] == "RuntimeError: inductor said no"
    assert by["plain"]["img_s"] > 0 and "gflop_iter" not in by["plain"]


def test_bench_train_isolates_a_variant_that_fails_while_timed(bench, monkeypatch):
    train = bench("bench_train")
    bc = bench("bench_common")
    real = bc.build_iteration

    def failing_later(model, variant, **kwargs):
        it = real(model, variant, **kwargs)
        if variant.name == "fp32":
            calls = {"n": 0}

            def run():
                calls["n"] += 1
                if calls["n"] > 1:
                    raise MemoryError("out of memory in round 2")
                return it.step_fn(it.noisy_batch(), 1)

            it.run = run
        return it

    monkeypatch.setattr(bc, "build_iteration", failing_later)
    cfg = bc.run_config(image_size=32, width=0.0625)
    variants = [train.variant_by_name(n, torch.device("cpu")) for n in ("plain", "fp32")]
    rows = train.measure("shape", 2, variants, cfg=cfg, device=torch.device("cpu"), warmup=1, iters=1)
    by = {r["variant"]: r for r in rows}
    assert by["fp32"]["error"] == "MemoryError: out of memory in round 2"
    assert by["plain"]["img_s"] > 0 and by["plain"]["gflop_iter"] > 0 and by["plain"]["speedup"] == 1.0


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--variants", "plain,turbo"], r"--variants: expected names from \[.*'condgan'.*\], got 'turbo'"),
        (["--batch-sizes", "4,0"], r"--batch-sizes: expected comma-separated positive ints, got '4,0'"),
        (["--batch-sizes", "four"], r"--batch-sizes: expected comma-separated positive ints, got 'four'"),
        (["--models", "shape,onestep"], r"--models: expected names from \[.*\], got \['onestep'\]"),
    ],
)
def test_bench_train_argument_errors(bench, argv, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        bench("bench_train").run([*argv, "--device", "cpu", "--out", str(tmp_path / "x.json")])


def test_bench_generate_smoke(bench, tiny_args, tmp_path):
    gen = bench("bench_generate")
    out = tmp_path / "gen.json"
    gen.run(
        [
            *tiny_args,
            "--device",
            "cpu",
            "--models",
            "shape,two_stage",
            "--modes",
            "fp32,fast",
            "--large-batch",
            "2",
            "--grid-image-size",
            "32",
            "--grid-width",
            "0.0625",
            "--grid-repeats",
            "1",
            "--out",
            str(out),
        ]
    )
    doc = json.loads(out.read_text())
    rows = doc["generators"]["rows"]
    assert [(r["model"], r["mode"]) for r in rows] == [
        ("shape", "fp32"),
        ("shape", "fast"),
        ("two_stage", "fp32"),
        ("two_stage", "fast"),
    ]
    for r in rows:
        assert "error" not in r, r
        assert r["latency_ms_b1"] > 0 and r["img_s"] > 0 and r["gflop_img"] > 0 and r["batch"] == 2
    grid = doc["grid"]
    assert (grid["people"], grid["sentences"], grid["images"]) == (8, 8, 64)
    assert grid["grid_s"] > 0 and grid["load_s"] > 0 and len(grid["grid_png_size"]) == 2


def test_two_stage_runner_output_and_random_run(bench, tmp_path):
    gen = bench("bench_generate")
    bc = bench("bench_common")
    cfg = bc.run_config(image_size=32, width=0.0625)
    runner = gen.GeneratorRunner("two_stage", cfg, torch.device("cpu"), "fp32")
    image = runner(runner.prepare(3))
    assert image.shape == (3, 3, 32, 32) and image.min() >= -1 and image.max() <= 1
    run = gen.write_random_run(tmp_path / "run", cfg)
    from fashion_gan.inference.redress import Redresser

    redresser = Redresser(run, render="compositional")
    people = bc.synthetic_batch(32, 2)
    out = redresser.redress(
        {"image": people["image"], "labels": people["labels"]}, ["the man wore a red tee."]
    )
    assert out["images"].shape == (2, 1, 3, 32, 32) and out["images"].dtype == torch.uint8
    with pytest.raises(ValueError, match=r"name: expected one of \('shape'.*\), got 'render'"):
        gen.GeneratorRunner("render", cfg, torch.device("cpu"), "fp32")
    with pytest.raises(ValueError, match="mode: expected 'fp32' or 'fast', got 'fp16'"):
        gen.GeneratorRunner("shape", cfg, torch.device("cpu"), "fp16")
    with pytest.raises(ValueError, match="--modes: expected 'fp32' and/or 'fast', got 'int8'"):
        gen.run(["--device", "cpu", "--modes", "int8", "--out", str(tmp_path / "x.json")])


def test_bench_input_smoke(bench, tmp_path):
    inp = bench("bench_input")
    out = tmp_path / "input.json"
    inp.run(
        [
            "--device",
            "cpu",
            "--image-size",
            "32",
            "--batch-sizes",
            "2,4",
            "--workers",
            "0",
            "--steps",
            "2",
            "--cache-items",
            "8",
            "--out",
            str(out),
        ]
    )
    doc = json.loads(out.read_text())
    assert [(r["path"], r["batch"]) for r in doc["rows"]] == [
        ("loader", 2),
        ("loader", 4),
        ("device_cache", 2),
        ("device_cache", 4),
    ]
    assert all(r["samples_s"] > 0 for r in doc["rows"])
    assert doc["device_cache"]["items"] == 8
    with pytest.raises(ValueError, match="--steps, --cache-items: expected steps > 0 and cache items >= the"):
        inp.run(["--device", "cpu", "--batch-sizes", "16", "--cache-items", "8", "--out", str(out)])


def _args(**kw):
    base = dict(
        device="cpu",
        tiny=False,
        parts=["train", "compile", "generate", "data", "input"],
        out_dir=Path("/r"),
        image_size=128,
        width=1.0,
        batch_sizes="",
        models="",
        compile_batches="",
        compile_models="",
        warmup=2,
        iters=7,
        threads=0,
        target=1.5,
        peak_tflops=800.0,
        part_timeout=60.0,
        compile_timeout=30.0,
        data_official_images=0,
        data_workdir=Path("/w"),
    )
    base.update(kw)
    return Namespace(**base)


def test_run_all_plans(bench):
    run_all = bench("run_all")
    cpu = {name: argv for name, argv, _, _ in run_all.plan(_args())}
    assert list(cpu) == ["train", "generate", "data", "input"]  # no compile part on the CPU
    train = cpu["train"]
    assert train[train.index("--batch-sizes") + 1] == "4" and train[train.index("--image-size") + 1] == "128"
    assert train[train.index("--variants") + 1] == "plain,condgan,condgan_foreach"
    assert train[train.index("--target") + 1] == "1.5"
    assert "--skip-official" in cpu["data"]
    cuda = run_all.plan(_args(device="cuda"))
    names = [name for name, *_ in cuda]
    assert names == [
        "train",
        "generate",
        "data",
        "input",
        "compile:render_compositional",
        "compile:render_ih1_skip",
        "compile:shape",
    ]
    by = {name: (argv, timeout, path) for name, argv, timeout, path in cuda}
    assert by["train"][0][by["train"][0].index("--batch-sizes") + 1] == "4,64,256"
    compile_argv, timeout, path = by["compile:shape"]
    assert compile_argv[compile_argv.index("--batch-sizes") + 1] == "256" and timeout == 30.0
    assert path == Path("/r/train_cuda_compile_shape.json")
    assert (
        "--no-grid" in by["generate"][0]
        and by["generate"][0][by["generate"][0].index("--large-batch") + 1] == "256"
    )
    tiny = {name: argv for name, argv, _, _ in run_all.plan(_args(tiny=True))}
    assert tiny["train"][tiny["train"].index("--target") + 1] == "0"
    assert tiny["train"][tiny["train"].index("--image-size") + 1] == "32"
    official = {n: a for n, a, _, _ in run_all.plan(_args(data_official_images=500))}
    assert "--skip-official" not in official["data"] and "500" in official["data"]


def test_run_all_summary():
    import importlib

    run_all = importlib.import_module("run_all")
    rows = [
        {"model": "shape", "batch": 4, "variant": "plain", "img_s": 2.0, "tflop_s": 0.1, "speedup": 1.0},
        {"model": "shape", "batch": 4, "variant": "condgan", "img_s": 4.0, "tflop_s": 0.2, "speedup": 2.0},
    ]
    compiled = [{"model": "shape", "batch": 4, "variant": "condgan_compile", "img_s": 6.0}]
    failed = [{"model": "render_ih1_skip", "batch": 256, "variant": "condgan_compile", "error": "boom"}]
    checks = [{"model": "shape", "batch": 4, "speedup": 2.0, "target": 1.5, "passed": True}]
    results = {
        "train": {"rows": rows, "target_checks": checks},
        "train_compile_shape": {"rows": compiled + failed},
        "generate": {
            "grid": {
                "images": 64,
                "image_size": 64,
                "width": 0.25,
                "load_s": 0.1,
                "grid_s": 1.5,
                "redress_s": 1.4,
            }
        },
        "data": None,
    }
    summary, text = run_all.summarize(results)
    assert summary["train"][2]["speedup"] == 3.0  # vs the eager part's plain at the same batch
    assert "PASS: shape batch 4: condgan 2.00x plain (target 1.5x)" in text
    assert "FAILED: boom" in text and "redress grid on the CPU: 64 images" in text and "1.50 s" in text


def test_run_all_deadline_skips_parts(bench, tmp_path, capsys):
    run_all = bench("run_all")
    doc = run_all.run(
        ["--tiny", "--device", "cpu", "--parts", "input", "--deadline", "1", "--out-dir", str(tmp_path)]
    )
    assert doc["parts"] == [{"part": "input", "status": "skipped: the 1 s deadline", "seconds": 0}]
    assert "part input: skipped: the 1 s deadline" in capsys.readouterr().out
    assert json.loads((tmp_path / "summary_cpu.json").read_text())["parts"] == doc["parts"]


def test_merge_compile_files(bench, tmp_path):
    run_all = bench("run_all")
    paths, results = {}, {}
    for model in ("shape", "render_ih1_skip"):
        path = tmp_path / f"train_cuda_compile_{model}.json"
        doc = {"rows": [{"model": model, "batch": 256, "variant": "condgan_compile", "img_s": 1.0}]}
        path.write_text(json.dumps(doc))
        paths[f"train_compile_{model}"], results[f"train_compile_{model}"] = path, doc
    paths["train"] = tmp_path / "train_cuda.json"
    run_all.merge_compile_files(results, paths, tmp_path / "train_cuda_compile.json")
    merged = json.loads((tmp_path / "train_cuda_compile.json").read_text())
    assert [r["model"] for r in merged["rows"]] == ["shape", "render_ih1_skip"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train_cuda_compile.json"]
    assert paths["train_compile_shape"] == tmp_path / "train_cuda_compile.json"


def test_run_part_reports_exit_codes_and_timeouts(bench, tmp_path):
    run_all = bench("run_all")
    ok = tmp_path / "ok.py"
    ok.write_text("print('fine')\n")
    bad = tmp_path / "bad.py"
    bad.write_text("raise SystemExit(3)\n")
    slow = tmp_path / "slow.py"
    slow.write_text("import time\ntime.sleep(30)\n")
    assert run_all.run_part("ok", [str(ok)], 30)["status"] == "ok"
    assert run_all.run_part("bad", [str(bad)], 30)["status"] == "exit 3"
    assert run_all.run_part("slow", [str(slow)], 0.5)["status"] == "timed out after 0 s"


def test_run_all_tiny_runs_the_input_part_end_to_end(tmp_path):
    """run_all.py as a script: a part in its own process, its JSON, the summary written and printed last."""
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH_DIR / "run_all.py"),
            "--tiny",
            "--device",
            "cpu",
            "--parts",
            "input",
            "--out-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((tmp_path / "summary_cpu.json").read_text())
    assert doc["parts"][0]["status"] == "ok" and doc["tiny"] is True
    assert any(r["path"] == "device_cache" for r in doc["input"])
    assert proc.stdout.rstrip().splitlines()[-1].startswith("input path (to conditions on the device):")


def test_run_cuda_script_syntax_and_refusal_without_cuda(tmp_path):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    script = BENCH_DIR / "run_cuda.sh"
    assert subprocess.run([bash, "-n", str(script)], check=False).returncode == 0
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the refusal path is not reachable")
    env = {**os.environ, "PYTHON": sys.executable, "BENCH_NO_WHEELS": "1", "BENCH_OUT": str(tmp_path)}
    proc = subprocess.run(
        [bash, str(script)], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "no CUDA device here (set BENCH_TINY=1 for a CPU smoke run)" in proc.stderr
    assert (tmp_path / "log_cuda.txt").is_file()
