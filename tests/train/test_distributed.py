"""Tests of condgan.train.distributed, including a real 2-process gloo DDP run launched with torchrun."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time

import numpy as np
import pytest
import safetensors.torch
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from condgan.train import (
    DistInfo,
    all_reduce_mean,
    barrier,
    cleanup,
    get_rank,
    get_world_size,
    init_distributed,
    is_main_process,
    seed_everything,
    unwrap_model,
    wrap_ddp,
)

TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@pytest.fixture
def no_torchrun_env(monkeypatch):
    for var in TORCHRUN_ENV:
        monkeypatch.delenv(var, raising=False)


def test_single_process_without_env(no_torchrun_env):
    info = init_distributed()
    assert info == DistInfo(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"), is_main=True)
    assert not info.distributed
    assert (get_rank(), get_world_size(), is_main_process()) == (0, 1, True)
    barrier()  # no-ops without a process group
    cleanup()


def test_cleanup_barriers_destroys_and_keeps_the_barrier_until_exit():
    """In a real (one-rank, in-memory) gloo group: cleanup() ends the group after a barrier whose Work it
    keeps, so no gloo worker thread is left holding the last reference to a collective at interpreter exit."""
    import condgan.train.distributed as distributed

    torch.distributed.init_process_group("gloo", store=torch.distributed.HashStore(), rank=0, world_size=1)
    try:
        assert get_world_size() == 1 and torch.distributed.is_initialized()
        t = torch.ones(3)
        torch.distributed.all_reduce(t)
        cleanup()
        assert not torch.distributed.is_initialized()
        assert len(distributed._last_barrier) == 1 and distributed._last_barrier[0].is_completed()
        cleanup()  # safe to call twice: nothing left to end
        assert len(distributed._last_barrier) == 1
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def test_world_size_one_from_env_needs_no_process_group(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    info = init_distributed()
    assert info.world_size == 1 and not torch.distributed.is_initialized()


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"WORLD_SIZE": "two"}, "environment variable WORLD_SIZE: expected an integer, got 'two'"),
        ({"WORLD_SIZE": "2", "RANK": "5"}, r"environment variable RANK: expected in \[0, 2\), got 5"),
        ({"WORLD_SIZE": "0"}, "environment variable WORLD_SIZE: expected >= 1, got 0"),
        (
            {"WORLD_SIZE": "2", "RANK": "0"},
            "environment variable MASTER_ADDR: expected to be set by torchrun",
        ),
    ],
)
def test_init_distributed_bad_env(no_torchrun_env, monkeypatch, env, match):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match=match):
        init_distributed()


def test_init_distributed_bad_arguments(no_torchrun_env):
    with pytest.raises(ValueError, match="backend: expected 'gloo', 'nccl', 'mpi', 'ucc' or None, got 'tcp'"):
        init_distributed("tcp")
    with pytest.raises(ValueError, match="timeout_s: expected a positive number of seconds, got 0"):
        init_distributed(timeout_s=0)
    with pytest.raises(TypeError, match="device: expected a str, torch.device or None, got int"):
        init_distributed(device=0)


def test_seed_everything_reproducible_and_per_rank():
    def draw():
        return random.random(), float(np.random.rand()), float(torch.rand(()))

    seed_everything(3, rank=0)
    first = draw()
    seed_everything(3, rank=0)
    assert draw() == first
    seed_everything(3, rank=1)
    assert draw() != first
    # seed + rank collisions do not happen: (3, 1) and (4, 0) differ
    assert seed_everything(3, rank=1) != seed_everything(4, rank=0)


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 2**40), rank=st.integers(0, 64))
def test_seed_everything_returns_a_32bit_seed(seed, rank):
    derived = seed_everything(seed, rank)
    assert 0 <= derived < 2**32
    assert torch.initial_seed() == derived


def test_seed_everything_rejects_bad_input():
    with pytest.raises(TypeError, match="seed: expected an int >= 0, got float 1.5"):
        seed_everything(1.5)
    with pytest.raises(ValueError, match="rank: expected an int >= 0, got -1"):
        seed_everything(0, rank=-1)


def test_wrap_ddp_is_a_noop_in_one_process(no_torchrun_env):
    info = init_distributed()
    net = nn.Linear(2, 2)
    assert wrap_ddp(net, info) is net
    with pytest.raises(
        ValueError, match="sync_batchnorm: nn.SyncBatchNorm needs CUDA devices, got device cpu"
    ):
        wrap_ddp(net, info, sync_batchnorm=True)
    with pytest.raises(TypeError, match="info: expected a DistInfo from init_distributed"):
        wrap_ddp(net, None)
    with pytest.raises(TypeError, match="module: expected an nn.Module, got str"):
        wrap_ddp("net", info)


def test_all_reduce_mean_single_process():
    t = torch.tensor([1.0, 2.0])
    out = all_reduce_mean(t)
    assert torch.equal(out, t) and out is not t
    assert all_reduce_mean(3) == 3.0
    with pytest.raises(TypeError, match="value: expected a tensor or a number, got str"):
        all_reduce_mean("1")


def test_unwrap_model_strips_wrappers():
    net = nn.Linear(2, 2)
    assert unwrap_model(nn.DataParallel(net)) is net
    with pytest.raises(TypeError, match="module: expected an nn.Module, got int"):
        unwrap_model(3)


def test_two_process_ddp_step_matches_one_process(tiny_gan, tmp_path):
    """2 gloo ranks with half the batch each == 1 process with the whole batch, for both D-call modes.

    The tiny models have no BatchNorm: with BatchNorm each rank would normalise with its own half-batch
    statistics, which differ from the global batch's, so no equivalence would hold (SyncBatchNorm, which fixes
    that, is GPU-only). SGD is used because Adam's first step is ~lr * sign(grad), which turns float-rounding
    differences of near-zero gradients into lr-sized ones. Losses are batch means, so DDP's gradient average
    over equal shards is the full-batch gradient up to float32 summation order: we allow 1e-5.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    for var in TORCHRUN_ENV:
        env.pop(var, None)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(tiny_gan.__file__),
        "--out",
        str(tmp_path),
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=90)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert elapsed < 60, f"the 2-process run took {elapsed:.1f} s"
    ddp_losses = json.loads((tmp_path / "losses.json").read_text())
    assert ddp_losses["world_size"] == 2

    data = tiny_gan.make_data()
    for single in (True, False):
        tag = "single" if single else "separate"
        g, d = tiny_gan.make_models()
        history = tiny_gan.train(g, d, data, steps=2, single_d_call=single)
        ddp_state = safetensors.torch.load_file(str(tmp_path / f"{tag}.safetensors"))
        ref_state = {f"g.{k}": v for k, v in g.state_dict().items()}
        ref_state.update({f"d.{k}": v for k, v in d.state_dict().items()})
        assert ddp_state.keys() == ref_state.keys()
        start_g, _ = tiny_gan.make_models()
        assert not torch.allclose(start_g.fc.weight, g.fc.weight)  # training moved the weights
        for key, ref in ref_state.items():
            torch.testing.assert_close(ddp_state[key], ref, atol=1e-5, rtol=1e-5, msg=f"{tag}: {key}")
        for step, (ref, got) in enumerate(zip(history, ddp_losses[tag], strict=True)):
            for name in (
                "d_total",
                "d_real",
                "d_mismatch",
                "d_fake",
                "g_adv",
                "g_rec",
                "g_total",
                "d_grad_norm",
            ):
                assert got[name] == pytest.approx(ref[name], rel=1e-5, abs=1e-6), (tag, step, name)
