"""docs/training.md's code is executed, so the guide cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "training.md"


def test_training_guide_loop_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert blocks, f"{DOC} has no python block"
    monkeypatch.chdir(tmp_path)
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    namespace: dict = {"__name__": "training_guide"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)  # the guide asserts its own outcome
    run_dir = namespace["run_dir"]
    assert (run_dir / "checkpoints" / "latest").read_text() == "step-00000006\n"
    # the interrupted-and-resumed run logged exactly what an uninterrupted run logs
    straight = tmp_path / "straight"
    assert namespace["train"](straight, total_steps=6) == 6
    read_metrics = namespace["read_metrics"]
    assert read_metrics(run_dir / "metrics.jsonl") == read_metrics(straight / "metrics.jsonl")
