"""The training input path at training batch sizes: from sampled indices to the conditions on the device.

``bench_data.py`` measures the datasets themselves (samples/s of synthetic drawing, HDF5 streaming, the uint8
cache). This script measures what one training step waits for, end to end, in samples/s:

- ``loader``: the training loop's ``DataLoader`` over ``StepBatches`` (worker processes
  build whole step batches of synthetic people, uint8), pinned memory on CUDA, the copy to the device and
  ``build_conditions`` (float images, one-hot, the 4x8x8 and 7x8x8 constraints, the colour code, appearance).
- ``device_cache``: the same steps from :class:`fashion_gan.data.device_cache.DeviceCache` (the whole uint8
  set on the device, ``index_select`` per step): the rate the GPU path can feed.

    python benchmarks/bench_input.py                                   # CPU, 128 px, batch 4 and 64
    python benchmarks/bench_input.py --device cuda --batch-sizes 64,256 --workers 0,4,8

Writes ``benchmarks/results/input_<device>.json`` (``--out``) and prints a table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as bc  # noqa: E402
import torch  # noqa: E402
from fashion_gan.data.device_cache import DeviceCache  # noqa: E402
from fashion_gan.data.synthetic import SyntheticMannequins  # noqa: E402
from fashion_gan.modeling.conditions import build_conditions  # noqa: E402
from fashion_gan.training.sampling import StepBatches, step_indices  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

COLUMNS = ["path", "batch", "workers", "samples_s", "ms_step"]


def _conditions(batch: dict[str, torch.Tensor], device: torch.device) -> Any:
    return build_conditions(
        batch["image"].to(device, non_blocking=True), batch["labels"].to(device, non_blocking=True)
    )


def loader_rate(
    data: SyntheticMannequins, device: torch.device, *, batch_size: int, workers: int, steps: int
) -> dict[str, Any]:
    """Samples/s of the DataLoader path (after the workers delivered their first batches)."""
    warm = max(1, workers) * 2
    loader = DataLoader(
        StepBatches(data, start_step=0, num_steps=steps + warm, global_batch=batch_size, seed=0),
        batch_size=None,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        prefetch_factor=4 if workers > 0 else None,
    )
    it = iter(loader)
    for _ in range(warm):
        _conditions(next(it), device)
    bc.sync(device)
    t0 = time.perf_counter()
    n = 0
    for batch in it:
        cond = _conditions(batch, device)
        n += cond.images.shape[0]
    bc.sync(device)
    seconds = time.perf_counter() - t0
    return {
        "path": "loader",
        "batch": batch_size,
        "workers": workers,
        "samples_s": n / seconds,
        "ms_step": seconds / steps * 1e3,
        "steps": steps,
    }


def device_cache_rate(cache: DeviceCache, *, batch_size: int, steps: int) -> dict[str, Any]:
    """Samples/s of the device-cache path: CPU-drawn step indices, on-device gather and conditions."""
    device = cache.device

    def one(step: int) -> Any:
        idx = step_indices(step, num_items=len(cache), global_batch=batch_size, seed=0)
        return _conditions(cache.get_batch(idx, check=False), device)

    for s in range(3):
        one(s)
    bc.sync(device)
    t0 = time.perf_counter()
    for s in range(steps):
        one(3 + s)
    bc.sync(device)
    seconds = time.perf_counter() - t0
    rate = batch_size * steps / seconds
    return {
        "path": "device_cache",
        "batch": batch_size,
        "workers": 0,
        "samples_s": rate,
        "ms_step": seconds / steps * 1e3,
        "steps": steps,
    }


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse ``argv``, run the benchmark, write the JSON and return the result."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--batch-sizes", default="4,64", help="comma-separated step batch sizes")
    p.add_argument("--workers", default="0,1,2", help="comma-separated DataLoader worker counts")
    p.add_argument("--steps", type=int, default=10, help="timed steps per measurement")
    p.add_argument("--cache-items", type=int, default=1024, help="people drawn into the device cache")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--out", type=Path, default=None, help="JSON path (default results/input_<device>.json)")
    args = p.parse_args(argv)

    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    if args.threads:
        torch.set_num_threads(args.threads)
    batches = [int(x) for x in args.batch_sizes.split(",") if x.strip()]
    workers = [int(x) for x in args.workers.split(",") if x.strip()]
    if not batches or any(b <= 0 for b in batches):
        raise ValueError(f"--batch-sizes: expected positive ints, got {args.batch_sizes!r}")
    if any(w < 0 for w in workers):
        raise ValueError(f"--workers: expected ints >= 0, got {args.workers!r}")
    if args.steps <= 0 or args.cache_items < max(batches):
        raise ValueError(
            f"--steps, --cache-items: expected steps > 0 and cache items >= the largest batch "
            f"{max(batches)}, got {args.steps} and {args.cache_items}"
        )
    env = bc.environment(device)
    print(f"[bench_input] {env}", flush=True)
    data = SyntheticMannequins(
        split="train", image_size=args.image_size, num_train=max(args.cache_items, 4096)
    )
    rows = []
    for b in batches:
        for w in workers:
            rows.append(loader_rate(data, device, batch_size=b, workers=w, steps=args.steps))
            print(bc.format_table(rows[-1:], COLUMNS), flush=True)
    t0 = time.perf_counter()
    cache = DeviceCache.from_dataset(data, device=device, indices=range(args.cache_items))
    fill_s = time.perf_counter() - t0
    for b in batches:
        rows.append(device_cache_rate(cache, batch_size=b, steps=args.steps))
        print(bc.format_table(rows[-1:], COLUMNS), flush=True)
    env["load_average_after"] = bc.environment(device).get("load_average")
    result = {
        "benchmark": "input",
        "command": "python benchmarks/bench_input.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "environment": env,
        "image_size": args.image_size,
        "device_cache": {"items": len(cache), "mib": cache.nbytes / 2**20, "fill_s": fill_s},
        "rows": rows,
    }
    out = args.out or bc.RESULTS / f"input_{device.type}.json"
    bc.write_json(out, result)
    print("\n" + bc.format_table(rows, COLUMNS))
    print(f"device cache: {len(cache)} people, {cache.nbytes / 2**20:.1f} MiB, filled in {fill_s:.1f} s")
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    run()
