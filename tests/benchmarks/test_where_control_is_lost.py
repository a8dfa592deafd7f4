"""`benchmarks/where_control_is_lost.py`: the parts whose real pixels are pasted, and its argument errors."""

from __future__ import annotations

import pytest
import torch


def test_paste_parts_cover_the_picture(bench):
    script = bench("where_control_is_lost")
    labels = torch.zeros(1, 6, 6, dtype=torch.long)
    labels[0, 2:4, 2:4] = 3  # a 2x2 garment on the background
    parts = script.paste_parts(labels)
    regions = [parts[f"the {name}"] for name in script.LABEL_NAMES]
    assert torch.equal(torch.stack(regions).sum(0), torch.ones(1, 1, 6, 6, dtype=torch.long))  # a partition
    band = parts["the edge band"]
    assert int(band.sum()) == 16  # the 4x4 square around the garment: its 4 pixels and 12 neighbours
    assert torch.equal(band | parts["all but the edge band"], torch.ones_like(band))
    outside = parts["the edge band's background side"]
    assert int(outside.sum()) == 12 and not (outside & parts["the upper clothes"]).any()


def test_argument_errors(bench, capsys):
    script = bench("where_control_is_lost")
    with pytest.raises(SystemExit) as exit_info:
        script.main(["--run", "nowhere", "--num-test", "0"])
    assert exit_info.value.code == 2
    assert "--num-test and --batch-size: expected ints >= 1, got 0, 64" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="expected a detector in"):
        script.main(["--run", "nowhere"])
