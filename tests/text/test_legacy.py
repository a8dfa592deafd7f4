import os
import pickle
import re
import shlex
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from condgan.text import CheckpointError, UnsafeCheckpointError, load_legacy_state_dict

OFFICIAL_RNN = Path("/work/shared/data/fashiongan/rnn_latest.pth")
needs_official = pytest.mark.skipif(
    not OFFICIAL_RNN.is_file(),
    reason=f"official FashionGAN text-encoder weights not present at {OFFICIAL_RNN}",
)


class ShellPayload:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


class ExecPayload:
    """Unpickling this runs Python code that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def state() -> dict[str, torch.Tensor]:
    return {
        "rnn.weight_ih_l0": torch.arange(6.0).reshape(2, 3),
        "net.bias": torch.tensor([1, 2], dtype=torch.int64),
    }


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], ordered: bool = True) -> None:
    assert list(a) == list(b) if ordered else sorted(a) == sorted(b)
    for key in a:
        assert a[key].dtype == b[key].dtype
        torch.testing.assert_close(a[key], b[key])


@pytest.mark.parametrize("zip_format", [False, True], ids=["legacy", "zip"])
def test_round_trip_legacy_and_zip(tmp_path, zip_format):
    path = tmp_path / "w.pth"
    torch.save(state(), path, _use_new_zipfile_serialization=zip_format)
    assert path.read_bytes()[:2] == (b"PK" if zip_format else b"\x80\x02")  # really the format we meant
    assert_same(load_legacy_state_dict(path), state())
    assert_same(load_legacy_state_dict(str(path)), state())


def test_safetensors_and_wrappers(tmp_path):
    save_file(state(), tmp_path / "w.safetensors")
    assert_same(load_legacy_state_dict(tmp_path / "w.safetensors"), state(), ordered=False)  # sorted keys
    torch.save({"epoch": 3, "state_dict": state()}, tmp_path / "wrapped.pt")
    assert_same(load_legacy_state_dict(tmp_path / "wrapped.pt"), state())
    torch.save({**state(), "step": 7, "name": "x"}, tmp_path / "mixed.pt")
    assert_same(load_legacy_state_dict(tmp_path / "mixed.pt"), state())  # non-tensor entries dropped


@needs_official
def test_official_rnn_weights_load_with_official_keys_and_shapes():
    assert OFFICIAL_RNN.read_bytes()[:2] == b"\x80\x02"  # a legacy (pre-zip) pickle, not a zip archive
    weights = load_legacy_state_dict(OFFICIAL_RNN)
    assert {k: tuple(v.shape) for k, v in weights.items()} == {
        "rnn.weight_ih_l0": (100, 539),
        "rnn.weight_hh_l0": (100, 100),
        "rnn.bias_ih_l0": (100,),
        "rnn.bias_hh_l0": (100,),
        "rnn.weight_ih_l1": (100, 100),
        "rnn.weight_hh_l1": (100, 100),
        "rnn.bias_ih_l1": (100,),
        "rnn.bias_hh_l1": (100,),
        "net_cate_new.weight": (19, 100),
        "net_cate_new.bias": (19,),
        "net_color.weight": (17, 100),
        "net_color.bias": (17,),
        "net_gender.weight": (2, 100),
        "net_gender.bias": (2,),
        "net_sleeve.weight": (4, 100),
        "net_sleeve.bias": (4,),
    }
    assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in weights.values())
    assert weights["rnn.weight_ih_l0"].abs().sum() > 0


def write_hostile(kind: str, path: Path, payload: object) -> None:
    if kind == "raw-pickle":
        path.write_bytes(pickle.dumps(payload, protocol=2))
    elif kind == "legacy":  # a legacy checkpoint whose state dict hides the payload next to a real tensor
        torch.save({"w": torch.ones(2), "evil": payload}, path, _use_new_zipfile_serialization=False)
    else:
        torch.save({"w": torch.ones(2), "evil": payload}, path)


@pytest.mark.parametrize("kind", ["raw-pickle", "legacy", "zip"])
@pytest.mark.parametrize("payload_type", [ShellPayload, ExecPayload])
def test_hostile_pickle_is_refused_and_never_runs(tmp_path, kind, payload_type):
    marker = tmp_path / "PWNED"
    path = tmp_path / "hostile.pth"
    write_hostile(kind, path, payload_type(marker))
    with pytest.raises(
        UnsafeCheckpointError,
        match=rf"{re.escape(str(path))}: refused to load: .*GLOBAL .*nothing from it was",
    ):
        load_legacy_state_dict(path)
    assert not marker.exists()

    # Control: the payload is live -- an unrestricted unpickle does write the marker.
    live_marker = tmp_path / "control"
    pickle.loads(pickle.dumps(payload_type(live_marker), protocol=2))
    assert live_marker.exists()


def test_unsafe_error_is_a_checkpoint_error_and_a_value_error():
    assert issubclass(UnsafeCheckpointError, CheckpointError) and issubclass(CheckpointError, ValueError)


@pytest.mark.parametrize("zip_format", [False, True], ids=["legacy", "zip"])
@pytest.mark.parametrize("keep", [0.5, 0.95])
def test_truncated_files(tmp_path, zip_format, keep):
    full = tmp_path / "full.pth"
    torch.save({"w": torch.randn(64, 64)}, full, _use_new_zipfile_serialization=zip_format)
    data = full.read_bytes()
    cut = tmp_path / "cut.pth"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(
        CheckpointError,
        match=rf"{re.escape(str(cut))}: could not read the checkpoint \(truncated or corrupt\?\)",
    ):
        load_legacy_state_dict(cut)


@needs_official
@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_truncated_official_file(tmp_path, keep):
    data = OFFICIAL_RNN.read_bytes()
    cut = tmp_path / "rnn_cut.pth"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(
        CheckpointError, match=rf"{re.escape(str(cut))}: could not read the checkpoint .*unexpected EOF"
    ):
        load_legacy_state_dict(cut)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "could not read the checkpoint: the file is empty"),
        (bytes(range(256)) * 4, "could not read the checkpoint"),
        (b"hello world, not a checkpoint\n", "could not read the checkpoint"),
        (b"import os\nprint('x')\n", "could not read the checkpoint"),
    ],
    ids=["empty", "binary-noise", "text", "python-source"],
)
def test_corrupt_files(tmp_path, content, message):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=rf"{re.escape(str(path))}: {message}") as info:
        load_legacy_state_dict(path)
    assert not isinstance(info.value, UnsafeCheckpointError)


def test_corrupt_safetensors(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(
        CheckpointError, match=rf"{re.escape(str(path))}: could not read the safetensors file"
    ):
        load_legacy_state_dict(path)


def test_file_without_tensors(tmp_path):
    path = tmp_path / "meta.pt"
    torch.save({"epoch": 3, "name": "x"}, path)
    with pytest.raises(
        CheckpointError,
        match=rf"{re.escape(str(path))}: expected a state dict of tensors, "
        r"got a dict with keys \['epoch', 'name'\] holding no tensors",
    ):
        load_legacy_state_dict(path)
    torch.save([1, 2], path)
    with pytest.raises(
        CheckpointError,
        match=rf"{re.escape(str(path))}: expected a state dict of tensors, got a list holding no tensors",
    ):
        load_legacy_state_dict(path)


def test_missing_path_and_bad_argument(tmp_path):
    with pytest.raises(
        FileNotFoundError,
        match=rf"checkpoint file not found \(or not a file\): {re.escape(str(tmp_path / 'nope.pth'))}",
    ):
        load_legacy_state_dict(tmp_path / "nope.pth")
    with pytest.raises(FileNotFoundError, match="not a file"):
        load_legacy_state_dict(tmp_path)
    with pytest.raises(TypeError, match="path: expected a str or os.PathLike, got int"):
        load_legacy_state_dict(3)
