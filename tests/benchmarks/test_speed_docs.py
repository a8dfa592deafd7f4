"""docs/speed.md's code is executed, so the page cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "speed.md"


def test_speed_page_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert blocks, f"{DOC} has no python block"
    namespace: dict = {"__name__": "speed_page"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)  # the page asserts its own outcome
    assert namespace["losses"]["skipped"] == 0
    assert namespace["precision"].mode == "bf16"
    assert namespace["g_opt"].defaults["fused"] is True


def test_speed_page_has_measured_numbers():
    text = DOC.read_text(encoding="utf-8")
    assert "PLACEHOLDER" not in text
    assert "load average" in text and "torch 2." in text
