"""Importing condgan's core is light: no kornia and no timm until a function that needs them runs.

Each check runs in a fresh interpreter (``sys.executable -c ...``), since this test process has long imported
everything; the child prints the heavy modules it has loaded as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("kornia", "timm")

REPORT = (
    f"import json, sys; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
)


def heavy_modules_after(code: str) -> list[str]:
    """The kornia / timm modules loaded once ``code`` has run in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{REPORT}"], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "code",
    [
        "import condgan",
        "from condgan.layers import CompositionalMapping",
        "import condgan.layers",
        "import condgan.nets",
    ],
)
def test_import_loads_no_kornia_and_no_timm(code):
    assert heavy_modules_after(code) == []


def test_the_blur_imports_kornia_when_it_runs():
    # color_code_segmentation imports kornia on its first blur, and the lazily imported blur is the real one.
    code = """
import sys
import torch
from condgan.layers import OFFICIAL_BLUR_KERNEL, color_code_segmentation
assert 'kornia' not in sys.modules
labels = torch.zeros(1, 9, 9, dtype=torch.long)
labels[0, 4, 4] = 1
out = color_code_segmentation(labels, offset=0.0)
unblurred = color_code_segmentation(labels, kernel_size=1, offset=0.0)
kernel = torch.tensor(OFFICIAL_BLUR_KERNEL)
hair = unblurred[0, :, 4, 4, None, None]  # one hair pixel on a grey (0.5) background, far from the border
torch.testing.assert_close(out[0, :, 2:7, 2:7], hair * kernel + 0.5 * (1 - kernel), atol=1e-4, rtol=0)
"""
    assert "kornia" in heavy_modules_after(code)
