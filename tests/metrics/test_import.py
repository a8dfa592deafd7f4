"""condgan.metrics must import without timm or torchmetrics (optional; torchmetrics is loaded lazily)."""

import subprocess
import sys

CHECK = """
import sys
import condgan.metrics
loaded = sorted(name for name in ("timm", "torchmetrics", "torch_fidelity") if name in sys.modules)
assert not loaded, f"import condgan.metrics loaded {loaded}"
"""


def test_importing_condgan_metrics_loads_neither_timm_nor_torchmetrics():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
