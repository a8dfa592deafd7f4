"""Suite-wide settings: one intra-op thread per test process, a bounded hypothesis profile.

The suite runs as ``pytest -n 2`` on 2 cores: each xdist worker gets one torch thread, so small tensor ops do
not oversubscribe the cores and wait on each other.
"""

from __future__ import annotations

import os

import torch
from hypothesis import HealthCheck, settings

torch.set_num_threads(1)
os.environ.setdefault("OMP_NUM_THREADS", "1")

settings.register_profile(
    "condgan", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("condgan")
