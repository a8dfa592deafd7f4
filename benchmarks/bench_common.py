"""Shared pieces of the benchmarks: configs, batches, the two training iterations, timing, FLOPs, memory.

The scripts in ``benchmarks/`` import this module by name (their folder is put on ``sys.path``); nothing in
``condgan`` or ``fashion_gan`` imports it. Everything is measured at the same settings in one process:

- **time**: :func:`time_interleaved` runs the variants round-robin (the order alternates every round), so a
  noisy machine slows all of them alike; the median over the timed rounds is reported.
- **FLOPs**: :func:`count_flops` counts one iteration with ``torch.utils.flop_counter.FlopCounterMode``
  (convolutions and matrix products, forward and backward); achieved TFLOP/s = FLOPs / median time.
- **memory**: :func:`peak_memory` is ``torch.cuda.max_memory_allocated`` over one iteration on CUDA, and the
  process's peak resident set (``VmHWM``, reset through ``/proc/self/clear_refs``) on the CPU.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT, ROOT / "examples"):  # so the scripts run from a checkout without an install (CUDA machine)
    if str(_p) not in sys.path:
        sys.path.append(str(_p))

import torch  # noqa: E402
from fashion_gan.config import RunConfig, preset  # noqa: E402
from fashion_gan.modeling import Stage, StepInputs, all_stages, get_stage  # noqa: E402
from fashion_gan.training.step import make_step, prepare_inputs  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from condgan.text import RNNTextEncoder  # noqa: E402
from condgan.train import make_adam, make_precision, to_channels_last  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plain_baseline import PlainStep  # noqa: E402

__all__ = [
    "RESULTS",
    "MODELS",
    "Variant",
    "PLAIN",
    "condgan_variant",
    "run_config",
    "synthetic_batch",
    "text_encoder",
    "Iteration",
    "build_iteration",
    "time_interleaved",
    "count_flops",
    "peak_memory",
    "environment",
    "write_json",
    "format_table",
    "sync",
]

RESULTS = ROOT / "benchmarks" / "results"

#: The benchmarked models (stage names): stage 1, the paper's render model and the official released one.
MODELS: tuple[str, ...] = tuple(s.name for s in all_stages() if s.benchmarked)


@dataclass(frozen=True)
class Variant:
    """How an iteration computes.

    ``plain`` selects :class:`plain_baseline.PlainStep` (and ignores the other fields); otherwise condgan's
    :func:`~condgan.train.conditional_gan_step` with the given switches. ``adam``: ``"auto"``
    (:func:`~condgan.train.make_adam`'s default: fused on CUDA, foreach on the CPU), ``"fused"``
    (``make_adam(..., fused=True)``), ``"foreach"`` or ``"loop"`` (``torch.optim.Adam(foreach=False)``).
    """

    name: str
    plain: bool = False
    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    single_d_call: bool = True
    adam: str = "fused"
    check_finite: bool = True
    compile_backend: str = "inductor"


PLAIN = Variant("plain", plain=True)


def condgan_variant(
    device: torch.device | str, *, compile: bool | None = None, name: str = "condgan"
) -> Variant:
    """condgan's recommended speed settings for ``device``.

    CPU: bf16 autocast, channels_last, one D call, fused Adam (torch.compile gains nothing here).
    CUDA: the same, and ``torch.compile`` unless ``compile=False``.
    """
    dev = torch.device(device)
    if dev.type == "cuda":
        return Variant(
            name, precision="bf16", channels_last=True, compile=True if compile is None else compile
        )
    return Variant(name, precision="bf16", channels_last=True, compile=bool(compile))


def run_config(*, image_size: int = 128, width: float = 1.0, batch_size: int = 4) -> RunConfig:
    """The ``faithful`` preset (official networks) at ``image_size``, ``width`` and ``batch_size``."""
    return preset("faithful").replace(
        data={"image_size": image_size}, model={"width": width}, train={"batch_size": batch_size}
    )


def synthetic_batch(image_size: int, batch_size: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
    """A uint8 synthetic batch: ``image (B, 3, H, W)``, ``labels (B, H, W)``, ``word_ids (B, L)``."""
    from fashion_gan.data.synthetic import SyntheticMannequins

    num = max(batch_size, 64)
    data = SyntheticMannequins(split="train", image_size=image_size, num_train=num, num_test=8, seed=seed)
    batch = data.get_batch(list(range(batch_size)))
    return {k: batch[k] for k in ("image", "labels", "word_ids")}


def text_encoder(cfg: RunConfig, device: torch.device, *, seed: int = 0) -> RNNTextEncoder:
    """A frozen, randomly initialised official-size text encoder (its cost does not depend on its weights)."""
    torch.manual_seed(seed)
    enc = RNNTextEncoder(hidden_size=cfg.text.hidden_size)
    return enc.to(device).eval().requires_grad_(False)


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA); a no-op on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class Iteration:
    """One model's training iteration in one :class:`Variant`, on a fixed uint8 batch already on the device.

    ``run()`` is exactly a training step of ``fashion-gan train`` once the batch is on the device
    ([`make_step`][fashion_gan.training.step.make_step]: the conditions from the uint8 batch, the frozen text
    code, the stage's inputs, the D step and the G step), with fresh noise each call; or, for the plain
    variant, the baseline's step on the same inputs.
    """

    model: str
    variant: Variant
    cfg: RunConfig
    device: torch.device
    batch: dict[str, torch.Tensor]
    stage: Stage
    encoder: RNNTextEncoder
    step_fn: Callable[[dict, int], dict[str, float]]
    generator: torch.nn.Module
    discriminator: torch.nn.Module
    eager_generator: torch.nn.Module
    eager_discriminator: torch.nn.Module
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        return int(self.batch["image"].shape[0])

    def noisy_batch(self) -> dict[str, torch.Tensor]:
        """The fixed batch with fresh noise ``z`` (drawn from the global RNG, as the baseline draws it)."""
        z = torch.randn(self.batch_size, self.cfg.model.z_dim, device=self.device)
        return {**self.batch, "noise": z}

    def inputs(self) -> tuple[StepInputs, Any]:
        """The step's inputs (and conditions) for a noisy batch, as ``make_step`` builds them."""
        return prepare_inputs(
            self.stage, self.noisy_batch(), cfg=self.cfg, text_encoder=self.encoder, device=self.device
        )

    def run(self) -> dict[str, float]:
        """One iteration."""
        return self.step_fn(self.noisy_batch(), 1)

    def run_eager(self) -> dict[str, float]:
        """One iteration with the uncompiled modules (the same math; what FLOP counting sees)."""
        return (self.extra.get("eager_step") or self.step_fn)(self.noisy_batch(), 1)


def _variant_config(cfg: RunConfig, variant: Variant) -> RunConfig:
    """``cfg`` with the variant's switches as the run's ``train`` fields (what ``make_step`` reads)."""
    return cfg.replace(
        train={
            "precision": variant.precision,
            "channels_last": variant.channels_last and not variant.plain,
            "single_d_call": variant.single_d_call,
            "on_nonfinite": "stop",  # as training does: a NaN raises (and no buffer copies per step)
        }
    )


def build_iteration(
    model: str,
    variant: Variant,
    *,
    cfg: RunConfig,
    device: torch.device | str,
    batch: Mapping[str, torch.Tensor],
    seed: int = 0,
) -> Iteration:
    """Build ``model`` (a name in ``MODELS``) with fresh weights (seeded) for ``variant`` on ``device``."""
    if model not in MODELS:
        raise ValueError(f"model: expected one of {sorted(MODELS)}, got {model!r}")
    if not isinstance(variant, Variant):
        raise TypeError(f"variant: expected a Variant, got {type(variant).__name__}")
    dev = torch.device(device)
    stage = get_stage(model)
    cfg = _variant_config(stage.configure(cfg), variant)
    torch.manual_seed(seed)
    g, d = (net.to(dev) for net in stage.build(cfg))
    on_dev = {k: v.to(dev) for k, v in batch.items()}
    encoder = text_encoder(cfg, dev, seed=seed)
    parts = (model, variant, cfg, dev, on_dev, stage, encoder)

    if variant.plain:
        plain = PlainStep(
            stage, g, d, reconstruction_weight=stage.reconstruction_weight(cfg), lr=cfg.train.lr
        )

        def plain_step(batch: dict, step: int) -> dict[str, float]:
            inputs, cond = prepare_inputs(stage, batch, cfg=cfg, text_encoder=encoder, device=dev)
            return plain(inputs, cond.labels, cond.images)

        return Iteration(*parts, plain_step, g, d, g, d, {"plain": plain})

    if variant.channels_last:
        to_channels_last(g, d)
    g_opt, d_opt = (_adam(variant.adam, m.parameters(), cfg, dev) for m in (g, d))
    precision = make_precision(dev, variant.precision)
    if variant.compile:
        g_run = torch.compile(g, dynamic=False, backend=variant.compile_backend)
        d_run = torch.compile(d, dynamic=False, backend=variant.compile_backend)
    else:
        g_run, d_run = g, d

    def step_with(gm: torch.nn.Module, dm: torch.nn.Module) -> Callable[[dict, int], dict[str, float]]:
        return make_step(
            stage,
            cfg=cfg,
            generator=g,
            discriminator=d,
            g_optimizer=g_opt,
            d_optimizer=d_opt,
            text_encoder=encoder,
            precision=precision,
            device=dev,
            g_train=gm,
            d_train=dm,
            check_finite=variant.check_finite,
        )

    it = Iteration(*parts, step_with(g_run, d_run), g_run, d_run, g, d)
    it.extra["eager_step"] = step_with(g, d) if variant.compile else it.step_fn
    return it


def _adam(kind: str, params: Any, cfg: RunConfig, device: torch.device) -> torch.optim.Optimizer:
    lr, betas = cfg.train.lr, cfg.train.betas
    if kind == "loop":
        return torch.optim.Adam(params, lr=lr, betas=betas, foreach=False, fused=False)
    choice = {"auto": None, "fused": True, "foreach": False}
    if kind not in choice:
        raise ValueError(f"variant.adam: expected 'auto', 'fused', 'foreach' or 'loop', got {kind!r}")
    return make_adam(params, lr=lr, betas=betas, device=device, fused=choice[kind])


def time_interleaved(
    fns: Mapping[str, Callable[[], Any]],
    *,
    device: torch.device | str = "cpu",
    warmup: int = 2,
    iters: int = 5,
    min_seconds: float = 0.0,
) -> dict[str, list[float]]:
    """Seconds per call of each function, measured round-robin.

    Each function is called ``warmup`` times first (compilation, allocator and oneDNN caches), then ``iters``
    rounds (more while the timed rounds total less than ``min_seconds``, at most ``4 * iters``) call every
    function once, in an order that reverses every round, with a device sync before and after each call.

    Returns:
        ``name -> list of seconds`` (one per timed round).
    """
    if not fns:
        raise ValueError("fns: expected at least one function to time, got none")
    for name, fn in fns.items():
        if not callable(fn):
            raise TypeError(f"fns[{name!r}]: expected a callable, got {type(fn).__name__}")
    for name, value in (("warmup", warmup), ("iters", iters)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "warmup" else 1):
            raise ValueError(f"{name}: expected an int >= {0 if name == 'warmup' else 1}, got {value!r}")
    dev = torch.device(device)
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    sync(dev)
    times: dict[str, list[float]] = {name: [] for name in names}
    rounds = 0
    while rounds < iters or (sum(times[names[0]]) < min_seconds and rounds < 4 * iters):
        order = names if rounds % 2 == 0 else names[::-1]
        for name in order:
            sync(dev)
            t0 = time.perf_counter()
            fns[name]()
            sync(dev)
            times[name].append(time.perf_counter() - t0)
        rounds += 1
    return times


def count_flops(fn: Callable[[], Any]) -> int:
    """Floating-point operations of one call of ``fn`` (FlopCounterMode; 2 per multiply-add)."""
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return int(counter.get_total_flops())


def _rss_peak_reset() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets the peak RSS (VmHWM) to the current RSS
        return True
    except OSError:
        return False


def _vm_value(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def peak_memory(fn: Callable[[], Any], device: torch.device | str) -> dict[str, Any]:
    """Peak memory of one call of ``fn``.

    Returns:
        CUDA: ``{"kind": "cuda_max_allocated", "bytes": ...}``; CPU: ``{"kind": "cpu_peak_rss", "bytes": ...,
        "before_bytes": RSS before the call, "reset": bool}`` (``reset`` False when the peak could not be
        reset, i.e. it is the process's lifetime peak).
    """
    dev = torch.device(device)
    if dev.type == "cuda":
        sync(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        fn()
        sync(dev)
        return {"kind": "cuda_max_allocated", "bytes": int(torch.cuda.max_memory_allocated(dev))}
    before = _vm_value("VmRSS")
    reset = _rss_peak_reset()
    fn()
    peak = _vm_value("VmHWM")
    if peak is None:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        reset = False
    return {"kind": "cpu_peak_rss", "bytes": int(peak), "before_bytes": before, "reset": reset}


def environment(device: torch.device | str) -> dict[str, Any]:
    """Where and when: date, host, torch, threads, load average, device name."""
    dev = torch.device(device)
    info: dict[str, Any] = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "device": str(dev),
    }
    with contextlib.suppress(OSError):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    if dev.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(dev)
        info["cuda"] = torch.version.cuda
    return info


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` (dataclasses allowed) as indented JSON, atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def default(o: Any) -> Any:
        if hasattr(o, "__dataclass_fields__"):
            return asdict(o)
        if isinstance(o, (torch.device, torch.dtype, Path)):
            return str(o)
        raise TypeError(f"not JSON serialisable: {type(o).__name__}")

    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=default) + "\n")
    tmp.replace(path)
    return path


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A Markdown table of ``rows`` (dicts) with ``columns``; floats get 3 significant digits or more."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            if v == 0 or abs(v) >= 100:
                return f"{v:,.0f}"
            return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)
