"""Tests of condgan.train.checkpoint: atomic writes, exact resume, corruption and configuration checks."""

from __future__ import annotations

import errno
import json
import os
import pickle
import random

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import condgan.train.checkpoint as ckpt_mod
from condgan.train import (
    CheckpointError,
    NonFiniteError,
    conditional_gan_step,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    make_adam,
    make_ema,
    make_precision,
    save_checkpoint,
    update_ema,
)


def _state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def _tree(root) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def _save(root, step, net, **kw):
    return save_checkpoint(root, step=step, modules={"net": net}, **kw)


# ----------------------------------------------------------------------------------------------------
# layout and round trip


def test_layout_meta_and_latest_pointer(tmp_path):
    net = nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters())
    net(torch.randn(4, 3)).sum().backward()
    opt.step()
    path = save_checkpoint(
        tmp_path,
        step=1000,
        modules={"net": net},
        optimizers={"net": opt},
        config={"lr": 0.001},
        extra_state={"e": 2},
    )
    assert path == tmp_path / "step-00001000"
    assert (tmp_path / "latest").read_text() == "step-00001000\n"
    meta = json.loads((path / "meta.json").read_text())
    assert meta["step"] == 1000 and meta["config"] == {"lr": 0.001} and meta["extra_state"] == {"e": 2}
    assert meta["format_version"] == ckpt_mod.FORMAT_VERSION and meta["torch_version"] == torch.__version__
    assert set(meta["files"]) == {
        "net.safetensors",
        "net.optimizer.safetensors",
        "net.optimizer.json",
        "rng.safetensors",
    }
    for name, entry in meta["files"].items():
        assert len(entry["sha256"]) == 64 and (path / name).stat().st_size == entry["bytes"]
    assert _tree(tmp_path) == ["latest", "step-00001000"]


def test_round_trip_modules_optimizers_scaler_and_state(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    opt = make_adam(net.parameters(), device="cpu")
    for _ in range(2):
        net(torch.randn(2, 3, 8, 8)).square().mean().backward()
        opt.step()
    scaler = torch.amp.GradScaler("cpu", init_scale=128.0)
    save_checkpoint(
        tmp_path,
        step=3,
        modules={"net": net},
        optimizers={"opt": opt},
        scalers={"amp": scaler},
        config={"a": [1]},
    )
    net2 = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    opt2 = make_adam(net2.parameters(), device="cpu")
    scaler2 = torch.amp.GradScaler("cpu", init_scale=2.0)
    info = load_checkpoint(
        tmp_path, modules={"net": net2}, optimizers={"opt": opt2}, scalers={"amp": scaler2}
    )
    assert info.step == 3 and info.config == {"a": [1]} and info.path == tmp_path / "step-00000003"
    _assert_same(_state(net), _state(net2))
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s1["param_groups"] == s2["param_groups"]  # tuples such as betas come back as tuples
    for pid in s1["state"]:
        for key in s1["state"][pid]:
            assert torch.equal(s1["state"][pid][key], s2["state"][pid][key])
    assert scaler2.get_scale() == 128.0


def test_resume_is_exact_for_a_gan_step_and_rng(tiny_gan, tmp_path):
    """Save after 2 steps; 2 more steps from the live run == 2 steps after loading into fresh objects."""
    precision = make_precision("cpu")

    def build():
        g, d = tiny_gan.make_models(seed=5, batchnorm=True)
        return (
            g,
            d,
            make_adam(g.parameters(), device="cpu"),
            make_adam(d.parameters(), device="cpu"),
            make_ema(g, 0.9),
        )

    def run(g, d, go, do, ema, steps, start):
        outs = []
        for s in range(start, start + steps):
            data = tiny_gan.make_data(seed=100 + s, batch=4)
            data["z"] = torch.randn(4, tiny_gan.Z_DIM)  # drawn from the global RNG: must resume too
            outs.append(conditional_gan_step(**tiny_gan.step_kwargs(g, d, go, do, data, precision, step=s)))
            update_ema(ema, g)
        return outs

    torch.manual_seed(1)
    g, d, go, do, ema = build()
    run(g, d, go, do, ema, 2, 0)
    save_checkpoint(
        tmp_path,
        step=2,
        modules={"g": g, "d": d, "g_ema": ema},
        optimizers={"g": go, "d": do},
        extra_state={"epoch": 0},
    )
    expected = run(g, d, go, do, ema, 2, 2)
    expected_draws = (torch.rand(3), np.random.rand(3), random.random())

    g2, d2, go2, do2, ema2 = build()
    torch.manual_seed(999)  # scramble every RNG: the checkpoint must restore them
    np.random.seed(999)
    random.seed(999)
    info = load_checkpoint(
        tmp_path, modules={"g": g2, "d": d2, "g_ema": ema2}, optimizers={"g": go2, "d": do2}
    )
    assert info.step == 2 and info.extra_state == {"epoch": 0}
    got = run(g2, d2, go2, do2, ema2, 2, 2)
    assert got == expected
    _assert_same(_state(g), _state(g2))
    _assert_same(_state(d), _state(d2))
    _assert_same(_state(ema), _state(ema2))
    draws = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(draws[0], expected_draws[0]) and np.array_equal(draws[1], expected_draws[1])
    assert draws[2] == expected_draws[2]


def test_restore_rng_false_leaves_rng_alone(tmp_path):
    _save(tmp_path, 1, nn.Linear(2, 2))
    fresh = nn.Linear(2, 2)
    torch.manual_seed(42)
    expected = torch.rand(2)
    torch.manual_seed(42)
    load_checkpoint(tmp_path, modules={"net": fresh}, restore_rng=False)
    assert torch.equal(torch.rand(2), expected)


def test_loading_a_subset_and_a_step_folder(tmp_path):
    g, d = nn.Linear(2, 2), nn.Linear(2, 1)
    first = save_checkpoint(tmp_path, step=1, modules={"g": g, "d": d})
    saved_weight = g.weight.detach().clone()
    with torch.no_grad():
        g.weight.add_(1.0)
    save_checkpoint(tmp_path, step=2, modules={"g": g, "d": d})
    g_old = nn.Linear(2, 2)
    info = load_checkpoint(first, modules={"g": g_old})  # a step folder, and only the generator
    assert info.step == 1
    assert torch.equal(g_old.weight, saved_weight)


def test_data_parallel_wrapper_is_unwrapped(tmp_path):
    net = nn.Linear(2, 2)
    save_checkpoint(tmp_path, step=1, modules={"net": nn.DataParallel(net)})
    keys = load_checkpoint(tmp_path, modules={"net": nn.Linear(2, 2)}).path / "net.safetensors"
    from safetensors import safe_open

    with safe_open(str(keys), framework="pt") as f:
        assert sorted(f.keys()) == ["bias", "weight"]  # no "module." prefix


def test_never_unpickles(tmp_path, monkeypatch):
    net = nn.Linear(2, 2)
    opt = torch.optim.Adam(net.parameters())
    save_checkpoint(tmp_path, step=1, modules={"net": net}, optimizers={"net": opt})

    def forbidden(*args, **kwargs):
        raise AssertionError("a checkpoint load must never unpickle")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    load_checkpoint(
        tmp_path, modules={"net": nn.Linear(2, 2)}, optimizers={"net": torch.optim.Adam(net.parameters())}
    )


def test_ema_saved_and_loaded_like_any_module(tmp_path):
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    ema = make_ema(net, decay=0.5)
    for _ in range(3):
        net(torch.randn(4, 2))
        update_ema(ema, net)
    save_checkpoint(tmp_path, step=3, modules={"ema": ema})
    ema2 = make_ema(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)), decay=0.5)
    load_checkpoint(tmp_path, modules={"ema": ema2})
    _assert_same(_state(ema), _state(ema2))
    assert int(ema2.n_averaged) == 3


# ----------------------------------------------------------------------------------------------------
# atomicity, pruning and failures


def test_crash_mid_write_leaves_previous_checkpoint(tmp_path, monkeypatch):
    net = nn.Linear(2, 2)
    first = _save(tmp_path, 1, net)
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    real_write = ckpt_mod._write_file
    calls = {"n": 0}

    def crash_on_second_file(path, data):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated crash mid-write")
        real_write(path, data)

    monkeypatch.setattr(ckpt_mod, "_write_file", crash_on_second_file)
    with pytest.raises(KeyboardInterrupt):
        _save(tmp_path, 2, net)
    assert _tree(tmp_path) == ["latest", "step-00000001"]  # no partial or temporary folder
    assert (tmp_path / "latest").read_text() == "step-00000001\n"
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before
    assert latest_checkpoint(tmp_path) == first


def test_crash_before_rename_and_leftover_temp_is_ignored_then_cleaned(tmp_path, monkeypatch):
    net = nn.Linear(2, 2)
    first = _save(tmp_path, 1, net)
    # a hard crash (kill -9) would leave a temporary folder behind: it is never taken for a checkpoint
    leftover = tmp_path / ".tmp-step-00000002-1-abcd"
    leftover.mkdir()
    (leftover / "net.safetensors").write_bytes(b"partial")
    assert latest_checkpoint(tmp_path) == first
    _save(tmp_path, 2, net)
    assert not leftover.exists()  # cleaned by the next successful save


def test_a_pointer_write_killed_before_its_rename_leaves_nothing_after_the_next_save(tmp_path):
    """kill -9 between writing ``latest``'s temporary file and renaming it: the pointer still names a complete
    checkpoint, and the next save removes the temporary file."""
    net = nn.Linear(2, 2)
    first = _save(tmp_path, 1, net)
    stale = tmp_path / ".latest.4242.abcd1234.tmp"
    stale.write_bytes(b"step-00000002\n")  # the dead process's pointer, never renamed into place
    assert latest_checkpoint(tmp_path) == first
    _save(tmp_path, 2, net)
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "step-00000001", "step-00000002"]
    assert latest_checkpoint(tmp_path).name == "step-00000002"


def test_disk_full_raises_checkpoint_error_and_keeps_previous(tmp_path, monkeypatch):
    net = nn.Linear(8, 8)
    first = _save(tmp_path, 1, net)
    real_write = os.write

    def full_disk(fd, data):
        if len(data) > 100:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(
        CheckpointError, match=r"could not write checkpoint .*step-00000002: the disk is full"
    ):
        _save(tmp_path, 2, net)
    monkeypatch.undo()
    assert _tree(tmp_path) == ["latest", "step-00000001"]
    assert latest_checkpoint(tmp_path) == first


def test_unwritable_directory_raises_checkpoint_error_naming_the_path(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    target = blocker / "ckpt"
    with pytest.raises(CheckpointError, match=r"cannot create the checkpoint directory .*file\.txt/ckpt"):
        _save(target, 1, nn.Linear(2, 2))
    assert blocker.read_text() == "not a folder"


def test_keep_last_prunes_after_the_new_one_is_complete(tmp_path):
    net = nn.Linear(2, 2)
    for step in range(1, 6):
        _save(tmp_path, step * 10, net, keep_last=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000040", "step-00000050"]
    _save(tmp_path, 60, net, keep_last=None)
    assert len(list_checkpoints(tmp_path)) == 3


def test_rewinding_keeps_the_new_checkpoint_and_points_latest_at_it(tmp_path):
    net = nn.Linear(2, 2)
    _save(tmp_path, 100, net)
    rewound = _save(tmp_path, 50, net, keep_last=1)
    assert list_checkpoints(tmp_path) == [rewound]
    assert latest_checkpoint(tmp_path) == rewound


def test_rewriting_the_same_step_replaces_it(tmp_path):
    net = nn.Linear(2, 2)
    _save(tmp_path, 5, net)
    with torch.no_grad():
        net.weight.zero_()
    _save(tmp_path, 5, net)
    fresh = nn.Linear(2, 2)
    load_checkpoint(tmp_path, modules={"net": fresh})
    assert torch.equal(fresh.weight, torch.zeros(2, 2))
    assert _tree(tmp_path) == ["latest", "step-00000005"]


def test_nonfinite_weight_refused_and_previous_kept(tmp_path):
    net = nn.Linear(3, 3)
    first = _save(tmp_path, 1, net)
    with torch.no_grad():
        net.weight[1, 2] = float("nan")
    with pytest.raises(
        NonFiniteError,
        match=r"non-finite net\.weight = 1 NaN and 0 Inf of 9 values at stage 'checkpoint', step 2",
    ):
        _save(tmp_path, 2, net)
    assert latest_checkpoint(tmp_path) == first and _tree(tmp_path) == ["latest", "step-00000001"]
    _save(tmp_path, 2, net, check_finite=False)  # an explicit opt-out still works


# ----------------------------------------------------------------------------------------------------
# corruption and configuration mismatches


def test_corrupt_file_is_named(tmp_path):
    path = _save(tmp_path, 1, nn.Linear(4, 4))
    target = path / "net.safetensors"
    data = bytearray(target.read_bytes())
    data[-3] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(
        CheckpointError, match=r"net\.safetensors: corrupt: sha256 .* does not match meta\.json"
    ):
        load_checkpoint(path, modules={"net": nn.Linear(4, 4)})


def test_truncated_file_is_named(tmp_path):
    path = _save(tmp_path, 1, nn.Linear(4, 4))
    target = path / "rng.safetensors"
    target.write_bytes(target.read_bytes()[:100])
    with pytest.raises(
        CheckpointError, match=r"rng\.safetensors: truncated or damaged: expected \d+ bytes, got 100"
    ):
        load_checkpoint(path, modules={"net": nn.Linear(4, 4)})


def test_missing_file_and_missing_meta(tmp_path):
    path = _save(tmp_path, 1, nn.Linear(4, 4))
    (path / "net.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"net\.safetensors: missing; the checkpoint is incomplete"):
        load_checkpoint(path, modules={"net": nn.Linear(4, 4)})
    (path / "meta.json").unlink()
    with pytest.raises(CheckpointError, match="no complete checkpoint found"):
        load_checkpoint(tmp_path, modules={"net": nn.Linear(4, 4)})


def test_latest_checkpoint_falls_back_past_a_corrupt_newest(tmp_path):
    net = nn.Linear(2, 2)
    first = _save(tmp_path, 1, net)
    second = _save(tmp_path, 2, net)
    (second / "net.safetensors").write_bytes(b"garbage")
    assert latest_checkpoint(tmp_path) == first
    assert latest_checkpoint(tmp_path, verify=False) == first  # the size differs too
    info = load_checkpoint(tmp_path, modules={"net": nn.Linear(2, 2)})
    assert info.step == 1
    (tmp_path / "latest").unlink()
    assert latest_checkpoint(tmp_path) == first
    assert latest_checkpoint(tmp_path / "nowhere") is None


def test_newer_format_is_refused(tmp_path):
    path = _save(tmp_path, 1, nn.Linear(2, 2))
    meta = json.loads((path / "meta.json").read_text())
    meta["format_version"] = ckpt_mod.FORMAT_VERSION + 1
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="is newer than this condgan reads"):
        load_checkpoint(path, modules={"net": nn.Linear(2, 2)})


def test_shape_mismatch_lists_every_key(tmp_path):
    class Net(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.main = nn.Sequential(nn.Conv2d(3, width, 4))

    save_checkpoint(tmp_path, step=1, modules={"generator": Net(32)})
    fresh = Net(64)
    before = _state(fresh)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tmp_path, modules={"generator": fresh})
    assert str(err.value) == (
        "checkpoint from another configuration: generator.main.0.weight expected (64, 3, 4, 4), "
        "got (32, 3, 4, 4); generator.main.0.bias expected (64,), got (32,)"
    )
    _assert_same(before, _state(fresh))  # nothing was loaded


def test_missing_and_unexpected_keys_strict_and_not(tmp_path):
    save_checkpoint(tmp_path, step=1, modules={"net": nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))})
    target = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 3))
    with pytest.raises(CheckpointError, match=r"net\.2\.weight missing from the checkpoint"):
        load_checkpoint(tmp_path, modules={"net": target})
    smaller = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(CheckpointError, match=r"net\.1\.weight in the checkpoint but not in the module"):
        load_checkpoint(tmp_path, modules={"net": smaller})
    with pytest.raises(CheckpointError, match=r"other \(module not in the checkpoint; it has \['net'\]\)"):
        load_checkpoint(tmp_path, modules={"other": smaller})
    info = load_checkpoint(tmp_path, modules={"net": target}, strict=False)
    assert info.missing == (
        "net.2.weight missing from the checkpoint",
        "net.2.bias missing from the checkpoint",
    )


def test_optimizer_mismatch_is_reported(tmp_path):
    net = nn.Linear(2, 2)
    opt = torch.optim.Adam(net.parameters())
    net(torch.ones(1, 2)).sum().backward()
    opt.step()
    save_checkpoint(tmp_path, step=1, modules={"net": net}, optimizers={"opt": opt})
    other = nn.Linear(2, 3)
    with pytest.raises(
        CheckpointError, match=r"optimizer 'opt' parameter 0 exp_avg: expected \(3, 2\), got \(2, 2\)"
    ):
        load_checkpoint(tmp_path, modules={}, optimizers={"opt": torch.optim.Adam(other.parameters())})
    with pytest.raises(CheckpointError, match="optimizer 'opt' group 0: expected 1 parameters, got 2"):
        load_checkpoint(tmp_path, modules={}, optimizers={"opt": torch.optim.Adam([other.weight])})


# ----------------------------------------------------------------------------------------------------
# argument validation


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"step": -1}, ValueError, "step: expected an int >= 0, got -1"),
        ({"step": 1.0}, TypeError, "step: expected an int >= 0, got float 1.0"),
        ({"modules": {"bad name": nn.Linear(1, 1)}}, ValueError, "modules: expected names of letters"),
        ({"modules": {"rng": nn.Linear(1, 1)}}, ValueError, "modules: the name 'rng' is reserved"),
        ({"modules": {"net": "x"}}, TypeError, r"modules\['net'\]: expected an nn.Module, got str"),
        ({"modules": {}}, ValueError, "modules: expected at least one module or optimizer to save, got none"),
        ({"config": {"x": object()}}, TypeError, "config: expected JSON-serialisable values"),
        ({"config": {"x": float("nan")}}, TypeError, "config: expected JSON-serialisable values"),
        ({"extra_state": [1]}, TypeError, "extra_state: expected a JSON-serialisable mapping, got list"),
        ({"keep_last": 0}, ValueError, "keep_last: expected an int >= 1 or None, got 0"),
        (
            {"optimizers": {"o": 1}},
            TypeError,
            r"optimizers\['o'\]: expected a torch.optim.Optimizer, got int",
        ),
        ({"scalers": {"s": 1}}, TypeError, r"scalers\['s'\]: expected a GradScaler"),
    ],
)
def test_save_validation(tmp_path, kwargs, error, match):
    args = {"step": 1, "modules": {"net": nn.Linear(1, 1)}, **kwargs}
    with pytest.raises(error, match=match):
        save_checkpoint(tmp_path, **args)
    assert not list_checkpoints(tmp_path)


def test_load_validation(tmp_path):
    _save(tmp_path, 1, nn.Linear(2, 2))
    with pytest.raises(TypeError, match="path: expected a str or os.PathLike, got int"):
        load_checkpoint(1, modules={})
    with pytest.raises(CheckpointError, match="no such checkpoint folder or directory"):
        load_checkpoint(tmp_path / "absent", modules={})
    with pytest.raises(TypeError, match="map_location: expected a str or torch.device, got int"):
        load_checkpoint(tmp_path, modules={}, map_location=0)
    with pytest.raises(TypeError, match=r"optimizers\['o'\]: expected a torch.optim.Optimizer, got str"):
        load_checkpoint(tmp_path, modules={}, optimizers={"o": "x"})


def test_non_tensor_state_is_refused(tmp_path):
    class WithExtra(nn.Linear):
        def get_extra_state(self):
            return {"note": "hi"}

        def set_extra_state(self, state):
            pass

    with pytest.raises(TypeError, match=r"modules\['net'\]: state_dict entry '_extra_state' is a dict"):
        _save(tmp_path, 1, WithExtra(2, 2))


@settings(deadline=None, max_examples=20)
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.tuples(inner, inner)
            | st.dictionaries(st.integers(0, 5) | st.text(max_size=3), inner, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_state_encoding_round_trips(value):
    """The pickle-free encoding of optimizer/scaler/RNG states is lossless (tuples, int keys, NaN, inf)."""
    tensors: dict[str, torch.Tensor] = {}
    encoded = ckpt_mod._encode(value, tensors, "value")
    decoded = ckpt_mod._decode(json.loads(json.dumps(encoded, allow_nan=False)), tensors)
    assert repr(decoded) == repr(value)


def test_checkpoint_step_and_meta_of_a_saved_checkpoint(tmp_path):
    from condgan.train import checkpoint_step, read_checkpoint_meta

    folder = save_checkpoint(tmp_path, step=12, modules={"net": nn.Linear(2, 2)}, config={"lr": 0.1})
    assert checkpoint_step(folder) == 12 == read_checkpoint_meta(folder)["step"]
    assert read_checkpoint_meta(folder)["config"] == {"lr": 0.1}
    with pytest.raises(ValueError, match="expected a name step-XXXXXXXX, got 'latest'"):
        checkpoint_step(tmp_path / "latest")
    (folder / "meta.json").unlink()
    with pytest.raises(CheckpointError, match="meta.json: missing"):
        read_checkpoint_meta(folder)
