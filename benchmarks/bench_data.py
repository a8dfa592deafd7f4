"""FashionGAN data speed and memory: synthetic mannequins, the official G2.h5 streamed, the uint8 cache.

Synthetic: samples/s at 64 and 128 px for single items, ``get_batch`` and a DataLoader with 1 and 2 workers.
Official layout: writes a G2.h5 of the release's full shape (78,979 x 3 x 128 x 128 float32 /ih plus float32
/b_, about 20.7 GB; ``--num-images`` makes it smaller) with ``export_official_layout`` from a pool of
synthetic people, drops it from the page cache, then measures, each in a fresh process: random batches
streamed from G2.h5 (samples/s, peak RSS), the one-time ``prepare_cache`` conversion, and random batches from
the cache, cold (dropped from the page cache) and warm (read once before, as after a first epoch).

    python benchmarks/bench_data.py                      # everything, full-size G2.h5 in /tmp
    python benchmarks/bench_data.py --num-images 5000    # a smaller file
    python benchmarks/bench_data.py --skip-official      # synthetic only

Prints a table and writes ``benchmarks/results/data.json`` (load averages included: the numbers depend on what
else runs); a partial run (``--skip-...``) replaces only its own section of an existing file.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from fashion_gan.data.cache import prepare_cache
from fashion_gan.data.export import export_official_layout
from fashion_gan.data.official import G2_PATH, OfficialFashionGAN
from fashion_gan.data.synthetic import SyntheticMannequins
from torch.utils.data import DataLoader, RandomSampler

RESULTS = Path(__file__).resolve().parent / "results" / "data.json"
OFFICIAL_TRAIN, OFFICIAL_TEST = 70000, 8979


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM; ru_maxrss would include a parent's peak inherited through fork)."""
    peak = _status_mb("VmHWM")
    return peak if peak == peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------------------------------------
# synthetic
# ------------------------------------------------------------------------------------------------------------


def _row(size: int, mode: str, workers: int, rate: float, cpu_rate: float | None = None) -> dict[str, Any]:
    return dict(
        source="synthetic",
        size=size,
        mode=mode,
        workers=workers,
        samples_per_s=rate,
        cpu_samples_per_s=cpu_rate,
    )


def bench_synthetic(size: int, batch_size: int, batches: int, items: int) -> list[dict[str, Any]]:
    """Wall-clock samples/s, and for the in-process modes samples per CPU-second of this process (what one
    core delivers when other programs compete for the CPUs)."""
    ds = SyntheticMannequins(image_size=size, num_train=1_000_000)
    rng = np.random.default_rng(0)
    rows = []
    ds.get_batch(rng.integers(0, len(ds), batch_size))  # warm-up
    start, cpu = time.perf_counter(), time.process_time()
    for i in rng.integers(0, len(ds), items):
        ds[int(i)]
    rows.append(
        _row(size, "item", 0, items / (time.perf_counter() - start), items / (time.process_time() - cpu))
    )
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(batches):
        ds.get_batch(rng.integers(0, len(ds), batch_size))
    n = batches * batch_size
    rows.append(
        _row(
            size,
            f"get_batch({batch_size})",
            0,
            n / (time.perf_counter() - start),
            n / (time.process_time() - cpu),
        )
    )
    for workers in (1, 2):
        sampler = RandomSampler(ds, replacement=True, num_samples=(batches + 2) * workers * batch_size)
        loader = DataLoader(
            ds, batch_size=batch_size, sampler=sampler, num_workers=workers, prefetch_factor=2
        )
        it = iter(loader)
        for _ in range(workers):  # wait until every worker has started and delivered
            next(it)
        start = time.perf_counter()
        count = sum(batch["image"].shape[0] for batch in it)
        rows.append(_row(size, f"DataLoader({batch_size})", workers, count / (time.perf_counter() - start)))
    return rows


# ------------------------------------------------------------------------------------------------------------
# official layout
# ------------------------------------------------------------------------------------------------------------


class _Tiled:
    """A split of ``length`` people repeating a pool of synthetic people (their pictures, sentences and
    attributes): drawing 78,979 distinct people would add minutes and nothing to an I/O benchmark."""

    def __init__(self, pool: SyntheticMannequins, length: int, redress: bool = False):
        self.pool, self.length, self.image_size = pool, length, pool.image_size
        self._batch = pool.get_batch(np.arange(len(pool)))
        if redress:
            rng = np.random.default_rng(1)
            perm = np.arange(length)
            for i in range(length - 1, 0, -1):  # Sattolo: a derangement
                j = int(rng.integers(0, i))
                perm[i], perm[j] = perm[j], perm[i]
            self.redress_pairs = torch.from_numpy(perm)

    def __len__(self) -> int:
        return self.length

    def get_batch(self, indices):
        idx = np.asarray(indices) % len(self.pool)
        out = {
            k: ([v[i] for i in idx] if k == "sentence" else v[torch.from_numpy(idx)])
            for k, v in self._batch.items()
        }
        out["index"] = torch.as_tensor(np.asarray(indices), dtype=torch.int64)
        return out


def _drop_page_cache(path: Path) -> None:
    """Evict one file's pages from the page cache (that file only), so its reads come from the disk."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def _warm_page_cache(paths: list[Path]) -> None:
    """Read files once so their pages are in the page cache (as after a first epoch)."""
    for path in paths:
        with open(path, "rb") as f:
            while f.read(64 << 20):
                pass


def _measure_reads(root: str, cache: str | None, batch_size: int, batches: int, queue) -> None:
    """In a fresh process: random training batches from G2.h5 (or the cache); samples/s and memory.

    Peak RSS counts the pages of memory-mapped cache files that were read (shared, reclaimable page cache).
    """
    rss_imports = _rss_mb()
    ds = OfficialFashionGAN(root, split="train", cache=cache)
    rss_open = _rss_mb()
    rng = np.random.default_rng(0)
    ds.get_batch(rng.integers(0, len(ds), batch_size))
    start = time.perf_counter()
    for _ in range(batches):
        ds.get_batch(rng.integers(0, len(ds), batch_size))
    rate = batches * batch_size / (time.perf_counter() - start)
    queue.put(
        dict(
            samples_per_s=rate,
            rss_after_imports_mb=rss_imports,
            rss_after_open_mb=rss_open,
            peak_rss_mb=_peak_rss_mb(),
            rss_anon_end_mb=_status_mb("RssAnon"),  # the process's own memory
            rss_file_end_mb=_status_mb("RssFile"),  # mapped file pages (libraries, the cache's memory maps)
        )
    )


def _prepare_in_child(root: str, out: str, queue) -> None:
    start = time.perf_counter()
    prepare_cache(root, out, batch_size=512, overwrite=True)
    queue.put(dict(seconds=time.perf_counter() - start, peak_rss_mb=_peak_rss_mb()))


def _in_child(fn, *args) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=fn, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def bench_official(
    workdir: Path, num_images: int, batch_size: int, batches: int, keep: bool
) -> dict[str, Any]:
    n_test = round(num_images * OFFICIAL_TEST / (OFFICIAL_TRAIN + OFFICIAL_TEST))
    n_train = num_images - n_test
    root, cache = workdir / "data_release", workdir / "cache"
    out: dict[str, Any] = dict(num_images=num_images, num_train=n_train, num_test=n_test, image_size=128)
    free = shutil.disk_usage(workdir).free / 1e9
    need = num_images * 4 * 128 * 128 * 5 / 1e9 * 1.05  # float32 /ih + /b_, then the uint8 cache
    if free < need:
        raise SystemExit(
            f"--workdir {workdir}: needs about {need:.1f} GB free, has {free:.1f} GB (--num-images)"
        )
    pool = SyntheticMannequins(split="train", image_size=128, num_train=2000)
    start = time.perf_counter()
    train, test = _Tiled(pool, n_train), _Tiled(pool, n_test, redress=True)
    export_official_layout(train, test, root, batch_size=512, mean_samples=1000)
    out["export_seconds"] = time.perf_counter() - start
    g2 = root / G2_PATH
    out["g2_gb"] = g2.stat().st_size / 1e9
    _drop_page_cache(g2)
    out["stream"] = _in_child(_measure_reads, str(root), None, batch_size, batches)
    out["prepare_cache"] = _in_child(_prepare_in_child, str(root), str(cache))
    out["cache_gb"] = sum(p.stat().st_size for p in cache.iterdir()) / 1e9
    for name in ("images.npy", "labels.npy"):
        _drop_page_cache(cache / name)
    out["cache"] = _in_child(_measure_reads, str(root), str(cache), batch_size, batches)
    _warm_page_cache([cache / "images.npy", cache / "labels.npy"])
    out["cache_warm"] = _in_child(_measure_reads, str(root), str(cache), batch_size, batches * 5)
    if not keep:
        shutil.rmtree(root)
        shutil.rmtree(cache)
    return out


def _print_official(off: dict[str, Any], batch_size: int) -> None:
    print(f"\nofficial layout, {off['num_images']} images: G2.h5 {off['g2_gb']:.1f} GB, "
          f"written in {off['export_seconds']:.0f} s")  # fmt: skip
    print(f"{'random ' + str(batch_size) + '-batches':20} {'samples/s':>10} {'RSS imports MB':>15} "
          f"{'RSS opened MB':>14} {'peak RSS MB':>12} {'anon/file at end MB':>20}")  # fmt: skip
    for name in ("stream", "cache", "cache_warm"):
        r = off[name]
        print(f"{name:20} {r['samples_per_s']:>10.0f} {r['rss_after_imports_mb']:>15.0f} "
              f"{r['rss_after_open_mb']:>14.0f} {r['peak_rss_mb']:>12.0f} "
              f"{r['rss_anon_end_mb']:>10.0f}/{r['rss_file_end_mb']:<9.0f}")  # fmt: skip
    p = off["prepare_cache"]
    print(f"prepare_cache: {p['seconds']:.0f} s, peak RSS {p['peak_rss_mb']:.0f} MB, "
          f"cache {off['cache_gb']:.1f} GB")  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--num-images", type=int, default=OFFICIAL_TRAIN + OFFICIAL_TEST, help="rows of G2.h5"
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fashiongan_bench"))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=40, help="timed batches per measurement")
    parser.add_argument("--items", type=int, default=200, help="timed single items (synthetic)")
    parser.add_argument("--skip-official", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the generated G2.h5 and cache")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    command = "python benchmarks/bench_data.py " + " ".join(sys.argv[1:] if argv is None else argv)
    machine = dict(
        cpus=os.cpu_count(),
        platform=platform.platform(),
        python=platform.python_version(),
        torch=torch.__version__,
    )
    result: dict[str, Any] = {}
    if not args.skip_synthetic:
        load, rows = os.getloadavg(), []
        for size in (64, 128):
            rows += bench_synthetic(size, args.batch_size, args.batches, args.items)
        result["synthetic"] = dict(
            command=command, machine=machine, load_average=[load, os.getloadavg()], rows=rows
        )
        print(f"{'source':10} {'size':>4} {'mode':>16} {'workers':>7} {'samples/s':>10} {'per CPU-s':>10}")
        for r in rows:
            cpu = "" if r["cpu_samples_per_s"] is None else f"{r['cpu_samples_per_s']:.0f}"
            print(f"{r['source']:10} {r['size']:>4} {r['mode']:>16} {r['workers']:>7} "
                  f"{r['samples_per_s']:>10.0f} {cpu:>10}")  # fmt: skip
    if not args.skip_official:
        args.workdir.mkdir(parents=True, exist_ok=True)
        load = os.getloadavg()
        off = bench_official(args.workdir, args.num_images, args.batch_size, args.batches, args.keep)
        result["official"] = dict(
            command=command, machine=machine, load_average=[load, os.getloadavg()], **off
        )
        _print_official(off, args.batch_size)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.is_file():  # a partial run keeps the other section of the file
        result = {**json.loads(args.out.read_text()), **result}
    args.out.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.out}")
    return result


if __name__ == "__main__":
    main()
