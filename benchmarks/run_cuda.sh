#!/usr/bin/env bash
# The whole FashionGAN benchmark suite on one CUDA machine, in ONE call, with no network.
#
# Runs (through benchmarks/run_all.py, each part in its own time-limited process):
#   train     shape, render_compositional, render_ih1_skip at batch 4, 64 and 256: plain (fp32, eager, three D
#             calls, for-loop Adam, NCHW) and condgan (bf16 autocast + channels_last + one D call + fused Adam);
#             images/s, ms/iter, GFLOP/iter, TFLOP/s (and % of 800, the chip's measured bf16 matrix rate),
#             peak CUDA memory, speed-up vs plain at the same batch and vs the official config (plain, batch 4)
#   compile   condgan + torch.compile at batch 256, one process per model (with plain batch 4 beside it)
#   generate  each generator and the two-stage chain: batch-1 latency and batch-256 images/s (fp32 / bf16+NHWC)
#   data      bench_data.py (synthetic samples/s, DataLoader workers)
#   input     DataLoader vs the on-GPU uint8 DeviceCache, to the conditions on the GPU, batch 64 and 256
# then prints a short table LAST and writes JSON (train_cuda.json, train_cuda_compile.json, generate_cuda.json,
# data_cuda.json, input_cuda.json, summary_cuda.json: 6 files) and log_cuda.txt into $BENCH_OUT (default
# benchmarks/results).
#
# Needs: python3 with torch (2.11 was the target), einops, h5py, safetensors, scipy, numpy, pillow, and the
# wheels in .whl/ (kornia + kornia_rs for the machine's Python; see benchmarks/README.md), installed here with
#   pip install --no-index --no-deps --target /tmp/site .whl/*.whl
#
# Usage, from the repository root:
#   bash benchmarks/run_cuda.sh                         # the full suite (at most ~9.5 minutes; see BENCH_DEADLINE)
#   BENCH_OUT=$OUT bash benchmarks/run_cuda.sh          # results into another folder
#   BENCH_COMPILE=0 bash benchmarks/run_cuda.sh         # skip the torch.compile part (the slowest)
#   BENCH_TINY=1 bash benchmarks/run_cuda.sh            # toy sizes; also runs on a CPU (a smoke test)
# Environment: PYTHON (default python3), BENCH_OUT, BENCH_TINY, BENCH_COMPILE, BENCH_NO_WHEELS=1 (use the
# packages already importable), BENCH_COMPILE_TIMEOUT (seconds per compiled model, default 180),
# BENCH_DEADLINE (seconds for the whole suite, default 540: parts that would start later are skipped and the
# last ones get what is left), BENCH_ARGS (extra arguments for run_all.py).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT_DIR=${BENCH_OUT:-benchmarks/results}
mkdir -p "$OUT_DIR"
LOG="$OUT_DIR/log_cuda.txt"
: >"$LOG"

if [[ "${BENCH_NO_WHEELS:-0}" != "1" ]] && compgen -G ".whl/*.whl" >/dev/null; then
  echo "installing $(ls .whl/*.whl | wc -l) wheels from .whl/ into /tmp/site" | tee -a "$LOG"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    2>&1 | tee -a "$LOG" || { echo "wheel install failed" | tee -a "$LOG"; exit 1; }
  export PYTHONPATH="/tmp/site:$PWD:$PWD/examples${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD:$PWD/examples${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1

DEVICE=$("$PY" - <<'EOF' 2>>"$LOG"
import importlib, sys
import torch
missing = []
for name in ("einops", "kornia", "safetensors", "h5py", "scipy", "numpy", "PIL", "condgan", "fashion_gan"):
    try:
        importlib.import_module(name)
    except Exception as err:  # noqa: BLE001
        missing.append(f"{name} ({type(err).__name__}: {err})")
if missing:
    print("missing: " + "; ".join(missing), file=sys.stderr)
    print("missing")
else:
    print("cuda" if torch.cuda.is_available() else "cpu")
EOF
)
if [[ "$DEVICE" == "missing" || -z "$DEVICE" ]]; then
  echo "run_cuda.sh: required packages are missing (see $LOG):" >&2
  cat "$LOG" >&2
  exit 1
fi
"$PY" -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', \
torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU')" | tee -a "$LOG"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
  | tee -a "$LOG"

if [[ "${BENCH_TINY:-0}" == "1" ]]; then
  ARGS=(--tiny --device "$DEVICE" --compile-timeout 300)
else
  if [[ "$DEVICE" != "cuda" ]]; then
    echo "run_cuda.sh: no CUDA device here (set BENCH_TINY=1 for a CPU smoke run)" | tee -a "$LOG" >&2
    exit 2
  fi
  # --deadline bounds the whole call (the compile parts run last and get what is left)
  ARGS=(--device cuda --batch-sizes 4,64,256 --compile-batches 256 --warmup 5 --iters 20
        --compile-timeout "${BENCH_COMPILE_TIMEOUT:-180}" --part-timeout 300 --peak-tflops 800
        --deadline "${BENCH_DEADLINE:-540}")
fi
if [[ "${BENCH_COMPILE:-1}" == "0" ]]; then
  ARGS+=(--parts train,generate,data,input)
fi
# shellcheck disable=SC2206
EXTRA=(${BENCH_ARGS:-})
"$PY" benchmarks/run_all.py "${ARGS[@]}" "${EXTRA[@]}" --out-dir "$OUT_DIR" 2>&1 | tee -a "$LOG"
status=${PIPESTATUS[0]}
echo "run_cuda.sh: exit $status; results in $OUT_DIR" | tee -a "$LOG"
exit "$status"
