"""Hostile inputs: every public layer, loss, net and metric, and the ``fashion-gan`` CLI, fed wrong values.

Each case starts from a valid call at a tiny size and breaks one thing: a tensor's rank, batch, channels,
spatial size, dtype, values (NaN, Inf, out-of-range labels, huge numbers), an empty batch, a non-tensor; or a
constructor / keyword argument (zero, negative, fractional, bool, string, None, NaN, an empty or negative
sequence). The call must either return a result (finite whenever its inputs were) or raise ``ValueError`` /
``TypeError``; any other exception is a finding. The CLI cases call ``fashion_gan.cli.main(argv)`` in-process
with wrong types, negative sizes and unknown choices; they must end in argparse's ``SystemExit(2)``, a clean
exit status (0, 2 or 3), never a traceback.

Two sweeps: an exhaustive one (every target x every argument x every applicable mutation) and a hypothesis one
(random valid sizes, one or two mutations). The number of cases tried is printed (run with ``-s``) and written
to ``<pytest basetemp>/hostile_inputs/*.json``. Every case must pass: no failure is tolerated as known.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
import signal
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from fashion_gan import cli
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from torch import nn

import condgan.layers as L
import condgan.losses as Lo
import condgan.metrics as M
import condgan.nets as N

B = 2  # the valid batch of the exhaustive sweep


# ------------------------------------------------------------------------------------------------------------
# targets: a valid tiny call each


@dataclass(frozen=True)
class Spec:
    """``run(ctor, call, *inputs)``; ``inputs(batch)`` builds valid tensors; ``ctor``/``call``: keywords."""

    name: str
    run: Callable[..., Any]
    inputs: Callable[[int], tuple]
    ctor: dict = field(default_factory=dict)
    call: dict = field(default_factory=dict)


def fn(f):
    return lambda ctor, call, *x: f(*x, **call)


def module(cls, method: str | None = None):
    def run(ctor, call, *x):
        obj = cls(**ctor)
        return (getattr(obj, method) if method else obj)(*x, **call)

    return run


def labels(b, s=16, k=7):
    return torch.randint(0, k, (b, s, s), generator=torch.Generator().manual_seed(b))


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def probs(b, k=7, s=16):
    return torch.softmax(randn(b, k, s, s), dim=1)


T74 = L.FASHIONGAN_7_TO_4
G1 = dict(noise_dim=6, code_dim=10, code_reduced_dim=4, up_channels=(16, 8, 8), condition_channels=4,
          condition_size=8, condition_encoder="conv3x3", condition_encoder_channels=(4, 8), fuse_at=8,
          mid_at=16, mid_channels=(8, 8))  # fmt: skip
G2 = dict(noise_dim=6, code_dim=10, code_reduced_dim=4, up_channels=(16, 8, 4), condition_channels=3,
          condition_size=32, condition_encoder="strided", condition_encoder_channels=(4, 4, 8), fuse_at=4,
          mid_at=8, mid_channels=(8, 4))  # fmt: skip
D1 = dict(in_channels=7, channels=(4, 8, 8), input_softmax=True, condition_channels=4, condition_size=8,
          condition_encoder="conv3x3", condition_encoder_channels=(4, 8), fuse_at=8, mid_at=16,
          mid_channels=(8, 4), code_dim=10, code_reduced_dim=3, head_channels=8)  # fmt: skip
UNET = dict(image_size=16, base_channels=4, max_channels=8, noise_dim=3, code_dim=5, code_reduced_dim=2)
PATCH = dict(channels=(4, 8, 8), code_dim=10, code_reduced_dim=3, head_channels=8)


def stacked(ctor, call, z_shape, code, constraint, z_image):
    shape = N.ConditionalGenerator(
        output="logits", out_channels=3, noise_dim=2, code_dim=4, code_reduced_dim=None, up_channels=(8, 8),
        condition_channels=2, condition_size=8, condition_encoder_channels=(4,), fuse_at=8, mid_at=None,
        mid_channels=(),
    )  # fmt: skip
    render = N.ConditionalGenerator(
        noise_dim=2, code_dim=4, code_reduced_dim=None, up_channels=(8, 8), condition_channels=3,
        condition_size=16, condition_encoder="strided", condition_encoder_channels=(4, 4), fuse_at=4,
        mid_at=None, mid_channels=(),
    )  # fmt: skip
    return N.StackedPipeline(shape, render, lambda s: torch.softmax(s, dim=1), **ctor)(
        z_shape, code, constraint, z_image, **call
    )


def design_code(ctor, call, text, attributes):
    return L.DesignCode(**ctor)(text=text, attributes=attributes, **call)


def assemble(ctor, call, text, attributes):
    return L.assemble_design_code({"text": text, "attributes": attributes}, **call)


def attribute_accuracy(ctor, call, logits, targets):
    return M.attribute_accuracy({"color": logits}, {"color": targets}, **call)


def streaming_accuracy(ctor, call, logits, targets):
    metric = M.AttributeAccuracy(**ctor)
    metric.update({"color": logits}, {"color": targets}, **call)
    return metric.compute()


def feature_frechet(ctor, call, real, fake):
    metric = M.FeatureFrechet(**ctor)
    metric.update(real, real=True, **call)
    metric.update(fake, real=False, **call)
    return metric.compute()


class Statistics(nn.Module):
    """A feature extractor that accepts any (N, ...) tensor: the metric's own checks are what is tested."""

    def forward(self, x):
        x = x.flatten(1)
        x = (x.real if x.is_complex() else x).float()
        return torch.stack(
            [x.mean(1), x.std(1), x.amax(1), x.amin(1), x.abs().mean(1), (x * x).mean(1)], dim=1
        )


def frechet_metrics(ctor, call, real, fake):
    return M.frechet_metrics(real, fake, feature_extractor=Statistics(), **call)


def norm_layer(ctor, call):
    factory = L.get_norm_layer(**call)
    return factory(4) if factory is not None else None


def init_weights(ctor, call):
    return L.init_weights(L.ConvNormAct(4, 8), **call)


def r1_inputs(b):
    x = randn(b, 3, 8, 8).requires_grad_()
    return (x * x).mean(dim=(1, 2, 3)), x


def unet_decoder_inputs(b):
    return randn(b, 16, 2, 2), [randn(b, 16, 4, 4, seed=1), randn(b, 8, 8, 8, seed=2)]


LAYER_SPECS = [
    Spec("one_hot_labels", fn(L.one_hot_labels), lambda b: (labels(b),), call={"num_classes": 7}),
    Spec("OneHotLabels", module(L.OneHotLabels), lambda b: (labels(b),), ctor={"num_classes": 7}),
    Spec("merge_labels", fn(L.merge_labels), lambda b: (labels(b),), call={"table": T74}),
    Spec("MergeLabels", module(L.MergeLabels), lambda b: (labels(b),), ctor={"table": T74}),
    Spec("merge_probabilities", fn(L.merge_probabilities), lambda b: (probs(b),), call={"table": T74}),
    Spec(
        "class_boundary",
        fn(L.class_boundary),
        lambda b: (labels(b),),
        call={"first": 3, "second": 6, "radius": 1},
    ),  # fmt: skip
    Spec("spatial_constraint", fn(L.spatial_constraint), lambda b: (labels(b, 32),), call={"size": 8}),
    Spec(
        "spatial_constraint(probs)",
        fn(L.spatial_constraint),
        lambda b: (probs(b, 7, 32),),
        call={"size": 8, "mode": "bicubic"},
    ),  # fmt: skip
    Spec("SpatialConstraint", module(L.SpatialConstraint), lambda b: (labels(b, 32),), ctor={"size": 4}),
    Spec("tile_code", fn(L.tile_code), lambda b: (randn(b, 5),), call={"size": 4}),
    Spec("concat_code", fn(L.concat_code), lambda b: (randn(b, 4, 8, 8), randn(b, 5, seed=1))),
    Spec("TileConcat", module(L.TileConcat), lambda b: (randn(b, 4, 8, 8), randn(b, 5, seed=1))),
    Spec(
        "assemble_design_code",
        assemble,
        lambda b: (randn(b, 5), rand(b, 3)),
        call={"order": ["text", "attributes"]},
    ),  # fmt: skip
    Spec(
        "DesignCode",
        design_code,
        lambda b: (randn(b, 5), rand(b, 3)),
        ctor={"parts": {"text": 5, "attributes": 3}, "reduce": {"text": 2}},
    ),  # fmt: skip
    Spec(
        "compose_regions",
        fn(L.compose_regions),
        lambda b: (randn(b, 4, 3, 8, 8), probs(b, 4, 8)),
        call={"mask": "probabilities"},
    ),  # fmt: skip
    Spec(
        "compose_regions(keep)",
        lambda ctor, call, r, s, src: L.compose_regions(r, s, source=src, **call),
        lambda b: (randn(b, 4, 3, 8, 8), probs(b, 4, 8), rand(b, 3, 8, 8) * 2 - 1),
        call={"keep": (1,)},
    ),  # fmt: skip
    Spec(
        "CompositionalMapping",
        module(L.CompositionalMapping),
        lambda b: (randn(b, 4, 3, 8, 8), randn(b, 4, 8, 8)),
        ctor={"num_regions": 4, "mask": "logits"},
    ),  # fmt: skip
    Spec("color_code_segmentation", fn(L.color_code_segmentation), lambda b: (labels(b),)),
    Spec("ColorCodeEncoding", module(L.ColorCodeEncoding), lambda b: (labels(b),), ctor={"kernel_size": 3}),
    Spec("get_norm_layer", norm_layer, lambda b: (), call={"name_or_class": "batch"}),
    Spec(
        "get_activation",
        lambda ctor, call: L.get_activation(**call),
        lambda b: (),
        call={"name_or_class": "lrelu"},
    ),
    Spec(
        "ConvNormAct",
        module(L.ConvNormAct),
        lambda b: (randn(b, 4, 16, 16),),
        ctor={"in_channels": 4, "out_channels": 8, "kernel_size": 3, "dropout": 0.1},
    ),  # fmt: skip
    Spec(
        "DownBlock",
        module(L.DownBlock),
        lambda b: (randn(b, 4, 16, 16),),
        ctor={"in_channels": 4, "out_channels": 8},
    ),
    Spec(
        "UpBlock",
        module(L.UpBlock),
        lambda b: (randn(b, 8, 8, 8),),
        ctor={"in_channels": 8, "out_channels": 4},
    ),
    Spec(
        "Conv3x3Block",
        module(L.Conv3x3Block),
        lambda b: (randn(b, 4, 8, 8),),
        ctor={"in_channels": 4, "out_channels": 8},
    ),  # fmt: skip
    Spec(
        "UNetEncoder",
        module(L.UNetEncoder),
        lambda b: (randn(b, 3, 32, 32),),
        ctor={"in_channels": 3, "channels": (4, 8, 8)},
    ),  # fmt: skip
    Spec(
        "UNetDecoder",
        module(L.UNetDecoder),
        unet_decoder_inputs,
        ctor={"in_channels": 16, "skip_channels": (16, 8), "channels": (16, 8), "out_channels": 3},
    ),  # fmt: skip
    Spec(
        "unet_channels",
        lambda ctor, call: L.unet_channels(**call),
        lambda b: (),
        call={"image_size": 32, "base_channels": 4, "max_channels": 8},
    ),  # fmt: skip
    Spec("init_weights", init_weights, lambda b: (), call={"std": 0.02, "norm_std": 0.02}),
]
LOSS_SPECS = [
    Spec("d_real_loss", fn(Lo.d_real_loss), lambda b: (randn(b),), call={"kind": "bce"}),
    Spec("d_fake_loss", fn(Lo.d_fake_loss), lambda b: (randn(b, 1, 3, 3),), call={"kind": "hinge"}),
    Spec("g_loss", fn(Lo.g_loss), lambda b: (randn(b),), call={"kind": "lsgan"}),
    Spec("d_loss", fn(Lo.d_loss), lambda b: (randn(b), randn(b, seed=1)), call={"kind": "bce"}),
    Spec(
        "DiscriminatorLoss",
        module(Lo.DiscriminatorLoss),
        lambda b: (randn(b), randn(b, seed=1)),
        ctor={"kind": "hinge"},
    ),  # fmt: skip
    Spec("GeneratorLoss", module(Lo.GeneratorLoss), lambda b: (randn(b),), ctor={"kind": "bce"}),
    Spec(
        "matching_aware_d_loss",
        fn(Lo.matching_aware_d_loss),
        lambda b: (randn(b), randn(b, seed=1), randn(b, seed=2)),
        call={"kind": "bce", "weights": (1.0, 0.5, 0.5)},
    ),  # fmt: skip
    Spec(
        "MatchingAwareDLoss",
        module(Lo.MatchingAwareDLoss),
        lambda b: (randn(b), randn(b, seed=1), randn(b, seed=2)),
        ctor={"kind": "hinge"},
    ),  # fmt: skip
    Spec("derangement", lambda ctor, call: Lo.derangement(**call), lambda b: (), call={"n": 5}),
    Spec("split_logits", fn(Lo.split_logits), lambda b: (randn(3 * b),), call={"sizes": [B, B, B]}),
    Spec("r1_penalty", fn(Lo.r1_penalty), r1_inputs),
    Spec("R1Penalty", module(Lo.R1Penalty), r1_inputs, ctor={"gamma": 10.0}),
    Spec(
        "segmentation_cross_entropy",
        fn(Lo.segmentation_cross_entropy),
        lambda b: (randn(b, 7, 8, 8), labels(b, 8)),
    ),  # fmt: skip
    Spec(
        "segmentation_cross_entropy(weight)",
        lambda ctor, call, logits, target, w: Lo.segmentation_cross_entropy(logits, target, weight=w),
        lambda b: (randn(b, 7, 8, 8), labels(b, 8), randn(b, 8, 8, seed=1).abs()),
    ),  # fmt: skip
    Spec(
        "SegmentationCrossEntropy",
        module(Lo.SegmentationCrossEntropy),
        lambda b: (randn(b, 7, 8, 8), labels(b, 8)),
        ctor={"ignore_index": 255},
    ),  # fmt: skip
    Spec(
        "l1_reconstruction",
        fn(Lo.l1_reconstruction),
        lambda b: (randn(b, 3, 8, 8), randn(b, 3, 8, 8, seed=1)),
    ),
    Spec(
        "L1Reconstruction",
        module(Lo.L1Reconstruction),
        lambda b: (randn(b, 3, 8, 8), randn(b, 3, 8, 8, seed=1)),
    ),
]
NET_SPECS = [  # constructors + forward
    Spec(
        "ConditionalGenerator(stage 1)",
        module(N.ConditionalGenerator),
        lambda b: (randn(b, 6), randn(b, 10, seed=1), rand(b, 4, 8, 8)),
        ctor={"output": "logits", "out_channels": 7, **G1},
    ),  # fmt: skip
    Spec(
        "ConditionalGenerator(regions)",
        module(N.ConditionalGenerator),
        lambda b: (randn(b, 6), randn(b, 10, seed=1), rand(b, 3, 32, 32)),
        ctor={"output": "regions", "num_regions": 3, **G2},
    ),  # fmt: skip
    Spec(
        "UNetGenerator",
        module(N.UNetGenerator),
        lambda b: (randn(b, 3), randn(b, 5, seed=1), rand(b, 3, 16, 16)),
        ctor=UNET,
    ),  # fmt: skip
    Spec(
        "ConditionalDiscriminator",
        module(N.ConditionalDiscriminator),
        lambda b: (randn(b, 7, 32, 32), rand(b, 4, 8, 8), randn(b, 10, seed=1)),
        ctor=D1,
    ),  # fmt: skip
    Spec(
        "PatchDiscriminator",
        module(N.PatchDiscriminator),
        lambda b: (rand(b, 3, 32, 32), rand(b, 3, 32, 32, seed=1), randn(b, 10)),
        ctor=PATCH,
    ),  # fmt: skip
    Spec(
        "ProjectionHead",
        module(N.ProjectionHead),
        lambda b: (randn(b, 8, 4, 4), randn(b, 5, seed=1)),
        ctor={"in_channels": 8, "code_dim": 5},
    ),  # fmt: skip
    Spec(
        "StackedPipeline",
        stacked,
        lambda b: (randn(b, 2), randn(b, 4), rand(b, 2, 8, 8), randn(b, 2)),
        ctor={"detach_between": True},
    ),  # fmt: skip
]
METRIC_SPECS = [
    Spec("attribute_accuracy", attribute_accuracy, lambda b: (randn(b, 17), labels(b, 1, 17).reshape(b))),
    Spec(
        "AttributeAccuracy",
        streaming_accuracy,
        lambda b: (randn(b, 17), labels(b, 1, 17).reshape(b)),
        ctor={"names": ["color"]},
    ),  # fmt: skip
    Spec(
        "constraint_agreement",
        fn(M.constraint_agreement),
        lambda b: (labels(b, 16), labels(b + 1, 16)[:b]),
        call={"size": 4},
    ),  # fmt: skip
    Spec(
        "region_agreement",
        fn(M.region_agreement),
        lambda b: (labels(b), labels(b + 1)[:b]),
        call={"classes": [1, 2]},
    ),
    Spec(
        "per_class_iou",
        fn(M.per_class_iou),
        lambda b: (labels(b), labels(b + 1)[:b]),
        call={"num_classes": 7},
    ),
    Spec(
        "frechet_and_kid",
        fn(M.frechet_and_kid),
        lambda b: (randn(3 * b, 4), randn(3 * b, 4, seed=1)),
        call={"kid_subset_size": 3, "kid_subsets": 2},
    ),  # fmt: skip
    Spec(
        "frechet_metrics",
        frechet_metrics,
        lambda b: (rand(3 * b, 3, 8, 8), rand(3 * b, 3, 8, 8, seed=1)),
        call={"batch_size": 4, "kid_subset_size": 3, "kid_subsets": 2},
    ),  # fmt: skip
    Spec(
        "FeatureFrechet",
        feature_frechet,
        lambda b: (randn(3 * b, 4), randn(3 * b, 4, seed=1)),
        ctor={"kid_subset_size": 3, "kid_subsets": 2},
    ),  # fmt: skip
    Spec(
        "pairwise_diversity",
        fn(M.pairwise_diversity),
        lambda b: (rand(3, b, 3, 8, 8) * 2 - 1,),
        call={"metric": "l1"},
    ),  # fmt: skip
    Spec(
        "pairwise_diversity(ssim)",
        fn(M.pairwise_diversity),
        lambda b: (rand(3, b, 3, 16, 16) * 2 - 1,),
        call={"metric": "ssim", "window_size": 5},
    ),  # fmt: skip
]


GROUPS = {"layers": LAYER_SPECS, "losses": LOSS_SPECS, "nets": NET_SPECS, "metrics": METRIC_SPECS}
SPECS = [spec for group in GROUPS.values() for spec in group]


# ------------------------------------------------------------------------------------------------------------
# mutations


def _nan(t):
    t = t.detach().clone().float()
    t.view(-1)[0] = float("nan")
    return t


def _inf(t):
    t = t.detach().clone().float()
    t.view(-1)[-1] = float("inf")
    return t


TENSOR_MUTATIONS: dict[str, Callable[[torch.Tensor], Any]] = {
    "drop a dim": lambda t: t[0] if t.ndim else None,
    "add a dim": lambda t: t.unsqueeze(0),
    "empty batch": lambda t: t[:0] if t.ndim else None,
    "batch of one": lambda t: t[:1] if t.ndim and t.shape[0] > 1 else None,
    "batch mismatch": lambda t: torch.cat([t, t[:1]]) if t.ndim else None,
    "one more channel": lambda t: torch.cat([t, t[:, :1]], dim=1) if t.ndim >= 2 else None,
    "odd spatial size": lambda t: t[..., :-1, :-1] if t.ndim >= 3 and t.shape[-1] > 2 else None,
    "1x1 spatial": lambda t: t[..., :1, :1] if t.ndim >= 3 else None,
    "transposed (non-contiguous)": lambda t: t.transpose(-1, -2) if t.ndim >= 2 else None,
    "as int64": lambda t: t.long() if t.is_floating_point() else None,
    "as float32": lambda t: t.float() if not t.is_floating_point() else None,
    "as bool": lambda t: t.bool(),
    "as float64": lambda t: t.double(),
    "as float16": lambda t: t.half(),
    "as complex": lambda t: t.to(torch.complex64),
    "as uint8": lambda t: t.to(torch.uint8) if not t.is_floating_point() else None,
    "a NaN": _nan,
    "an Inf": _inf,
    "huge values": lambda t: t.float() * 1e30 if t.is_floating_point() else None,
    "labels + 100": lambda t: t + 100 if not t.is_floating_point() else None,
    "negative labels": lambda t: t - 100 if not t.is_floating_point() else None,
    "0-d tensor": lambda t: t.reshape(-1)[0].clone() if t.numel() else None,
    "a list": lambda t: t.tolist(),
    "a numpy array": lambda t: t.detach().numpy(),
    "None": lambda t: None,
    "a string": lambda t: "x",
}
#: mutations after which a non-finite result is legitimate (the inputs were not finite, or overflow)
NONFINITE_OK = {"a NaN", "an Inf", "huge values", "as float16"}

VALUE_MUTATIONS: dict[str, Any] = {
    "0": 0, "-1": -1, "1": 1, "7": 7, "2.5": 2.5, "True": True, "'x'": "x", "None": None, "nan": math.nan,
    "inf": math.inf, "()": (), "(-1,)": (-1,), "(0,)": (0,), "a tensor": torch.tensor([1.0, 2.0]),
}  # fmt: skip

DTYPES = {"as int64", "as bool", "as float64", "as float16", "as complex", "as uint8"}
FLOAT_NETS = {
    "DesignCode", "ConvNormAct", "DownBlock", "UpBlock", "Conv3x3Block", "UNetEncoder", "UNetDecoder",
    "ConditionalGenerator(stage 1)", "ConditionalGenerator(regions)", "UNetGenerator",
    "ConditionalDiscriminator", "PatchDiscriminator", "ProjectionHead", "StackedPipeline",
}  # fmt: skip


@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)
    findings: list = field(default_factory=list)


def is_finite(out: Any) -> bool:
    if isinstance(out, torch.Tensor):
        return not (out.is_floating_point() or out.is_complex()) or bool(torch.isfinite(out).all())
    if isinstance(out, float):
        return math.isfinite(out)
    if isinstance(out, dict):
        return all(is_finite(v) for v in out.values())
    if isinstance(out, (tuple, list)):
        return all(is_finite(v) for v in out)
    return True


def mutate(spec: Spec, batch: int, changes: list[tuple[str, str, Any]]):
    """The spec's valid call with the changes applied; None when a change does not apply to that argument."""
    ctor, call, inputs = dict(spec.ctor), dict(spec.call), list(spec.inputs(batch))
    for where, mutation, value in changes:
        if where.startswith("input"):
            i = int(where[5:])
            if isinstance(inputs[i], list):  # a list of tensors (UNetDecoder's skips): mutate the first
                new = TENSOR_MUTATIONS[mutation](inputs[i][0])
                inputs[i] = None if new is None and mutation != "None" else [new, *inputs[i][1:]]
            else:
                inputs[i] = TENSOR_MUTATIONS[mutation](inputs[i])
            if inputs[i] is None and mutation != "None":
                return None
        elif where.startswith("ctor."):
            ctor[where[5:]] = value
        else:
            call[where[5:]] = value
    return ctor, call, inputs


def run_case(spec: Spec, batch: int, changes: list[tuple[str, str, Any]], tally: Tally) -> str:
    """Run one mutated call: "ok", "rejected", "not applicable" or "finding" (counted in tally)."""
    built = mutate(spec, batch, changes)
    if built is None:
        tally.counts["not applicable"] += 1
        return "not applicable"
    ctor, call, inputs = built
    # A changed hyper-parameter (nan, inf ...) or a non-finite input may legitimately give non-finite values.
    finite_inputs = all(w.startswith("input") and m not in NONFINITE_OK for w, m, _ in changes)
    label = " & ".join(f"{w} <- {m}" for w, m, _ in changes)
    try:
        out = spec.run(ctor, call, *inputs)
    except (ValueError, TypeError):
        tally.counts["rejected"] += 1
        return "rejected"
    except Exception as err:  # noqa: BLE001 - anything else is what this sweep looks for
        problem = f"{type(err).__name__}: {str(err)[:160]}"
    else:
        if not finite_inputs or is_finite(out):
            tally.counts["ok"] += 1
            return "ok"
        problem = "returned non-finite values from finite inputs"
    tally.counts["finding"] += 1
    tally.findings.append(f"{spec.name}: {label}: {problem}")
    return "finding"


def all_cases(spec: Spec) -> list[tuple[str, str, Any]]:
    n_inputs = len(spec.inputs(B))
    cases = [(f"input{i}", m, None) for i in range(n_inputs) for m in TENSOR_MUTATIONS]
    cases += [(f"ctor.{k}", m, v) for k in spec.ctor for m, v in VALUE_MUTATIONS.items()]
    cases += [(f"call.{k}", m, v) for k in spec.call for m, v in VALUE_MUTATIONS.items()]
    return cases


def report(tmp_path_factory, name: str, tally: Tally) -> dict:
    """Print the counts (visible with -s) and write them to <basetemp>/hostile_inputs/<name>.json."""
    tried = sum(n for k, n in tally.counts.items() if k != "not applicable")
    data = {"tried": tried, "counts": dict(tally.counts), "findings": tally.findings}
    folder = tmp_path_factory.getbasetemp() / "hostile_inputs"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(data, indent=1))
    print(f"\nhostile inputs, {name}: {tried} cases tried: {dict(tally.counts)}")
    return data


# ------------------------------------------------------------------------------------------------------------
# the library sweeps


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_valid_base_call_works(spec):
    assert is_finite(spec.run(dict(spec.ctor), dict(spec.call), *spec.inputs(B)))


@pytest.mark.parametrize("group", list(GROUPS))
def test_exhaustive_sweep(group, tmp_path_factory):
    """Every target x every argument x every mutation, at batch 2."""
    tally = Tally()
    torch.manual_seed(0)
    for spec in GROUPS[group]:
        for case in all_cases(spec):
            run_case(spec, B, [case], tally)
    report(tmp_path_factory, f"library-exhaustive-{group}", tally)
    assert not tally.findings, "\n".join(tally.findings)


def test_hypothesis_sweep(tmp_path_factory):
    """Random target, batch 1-3, and one or two mutations (of different arguments) at once."""
    tally = Tally()

    @settings(deadline=None, max_examples=300, database=None)
    @given(data=st.data())
    def sweep(data):
        spec = data.draw(st.sampled_from(SPECS), label="target")
        batch = data.draw(st.integers(1, 3), label="batch")
        cases = all_cases(spec)
        first = data.draw(st.sampled_from(cases), label="mutation")
        changes = [first]
        others = [c for c in cases if c[0] != first[0]]
        if others and data.draw(st.booleans(), label="two mutations"):
            changes.append(data.draw(st.sampled_from(others), label="second mutation"))
        run_case(spec, batch, changes, tally)

    sweep()
    report(tmp_path_factory, "library-hypothesis", tally)
    assert not tally.findings, "\n".join(tally.findings)


# ------------------------------------------------------------------------------------------------------------
# the CLI: fashion_gan.cli.main(argv) in-process


class StillRunning(BaseException):
    """Raised by a timer inside a CLI call that accepted its arguments and started long work."""


def _alarm(signum, frame):
    raise StillRunning


def run_cli(argv: list[str], *, budget_s: float) -> str:
    """``"exit N"``, ``"argparse exit N"``, ``"still running"`` or ``"crash: <exception>"``."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, budget_s)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
            try:
                code = cli.main(argv)
            except SystemExit as exit_:
                return f"argparse exit {exit_.code}"
        if code == 2 and "error:" not in err.getvalue():
            return "exit 2 without a message"
        return f"exit {code}"
    except StillRunning:
        return "still running"
    except Exception as err:  # noqa: BLE001
        return f"crash: {type(err).__name__}: {str(err)[:160]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


TRAIN_BASE = [
    "--preset", "demo", "--image-size", "32", "--width", "0.0625", "--batch-size", "4", "--steps", "1",
    "--no-progress", "--set", "text.steps=5", "--set", "data.workers=0", "--set", "data.num_train=64",
    "--set", "data.num_test=16", "--set", "train.sample_every=1000", "--set", "train.classifier_init=''",
    "--set", "train.render_generated_maps=0",  # the demo's render reads stage 1, which most cases lack
]  # fmt: skip

#: (mutation, valid?) appended after the tiny base (so they win); invalid ones must be rejected (exit 2).
TRAIN_CASES = [
    (["--steps", "-1"], False), (["--steps", "0"], False), (["--steps", "abc"], False),
    (["--steps", "1.5"], False),
    (["--batch-size", "0"], False), (["--batch-size", "1"], False), (["--batch-size", "x"], False),
    (["--batch-size", "1000"], False), (["--image-size", "7"], False), (["--image-size", "-32"], False),
    (["--image-size", "24"], False), (["--width", "-1"], False), (["--width", "nan"], False),
    (["--width", "inf"], False), (["--width", "abc"], False), (["--precision", "fp8"], False),
    (["--precision", "fp16"], False), (["--device", "tpu"], False), (["--device", "cuda:7"], False),
    (["--device", ""], False), (["--seed", "-5"], False), (["--seed", str(2**70)], False),
    (["--render", "bad"], False), (["--onestep-constraint", "5"], False), (["--stage", "bad"], False),
    (["--data-source", "official"], False), (["--data-source", "web"], False),
    (["--text-encoder", "/nonexistent/rnn_latest.pth"], False), (["--config", "/nonexistent.json"], False),
    (["--preset", "nope"], False), (["--bogus"], False), (["--set", "train.lr=-1"], False),
    (["--set", "train.lr=abc"], False), (["--set", "train.loss=wgan"], False),
    (["--set", "train.on_nonfinite=ignore"], False), (["--set", "train.betas=(1.5,0.9)"], False),
    (["--set", "train.d_weights=(1,2)"], False), (["--set", "model.z_dim=0"], False),
    (["--set", "model.code_reduced=-1"], False), (["--set", "model.constraint_size=0"], False),
    (["--set", "model.constraint_mode=bogus"], False), (["--set", "data.workers=-1"], False),
    (["--set", "data.num_train=0"], False), (["--set", "data.seed=-1"], False),
    (["--set", "data.image_size=abc"], False), (["--set", "text.hidden_size=0"], False),
    (["--set", "text.batch_size=0"], False), (["--set", "text.steps=-1"], False),
    (["--set", "text.lr=nan"], False), (["--set", "train.log_every=0"], False),
    (["--set", "train.keep_last=0"], False), (["--set", "train.ema_decay=1.5"], False),
    (["--set", "train.threads=-1"], False), (["--set", "train.compile=yes"], False),
    (["--set", "foo.bar=1"], False), (["--set", "train.nonexistent=1"], False), (["--set", "lr=1"], False),
    (["--set", "train.seg_weight=-1"], False), (["--set", "model.render=bad", "--stage", "render"], False),
    (["--stage", "text", "--set", "text.batch_size=0"], False),
    (["--stage", "text", "--set", "text.steps=-1"], False),
    (["--set", "model.wearer=maybe"], False), (["--set", "model.keep_regions=(9,)"], False),
    (["--set", "train.ema_decay=0.5"], True), (["--stage", "onestep", "--onestep-constraint", "4"], True),
    (["--set", "train.ema_buffers=mean"], False),
    (["--set", "train.shape_ema_decay=-0.1"], False), (["--set", "train.shape_ema_decay='x'"], False),
    (["--set", "train.ema_decay=0.5", "--set", "train.shape_ema_decay=0"], True),
    (["--set", "train.shape_class_weight=-1"], False), (["--set", "train.shape_classifier_warmup=-2"], False),
    (["--set", "model.classifier=False", "--set", "train.shape_classifier_warmup=2"], False),
    (["--set", "train.classifier_warmup_lr=0"], False),
    (["--set", "train.lr_decay=exp"], False), (["--set", "train.lr_decay_start=1"], False),
    (["--set", "train.lr_decay=cosine", "--set", "train.lr_decay_start=0"], True),
    (["--set", "train.classifier_init=nope"], False), (["--set", "train.classifier_init=3"], False),
    (["--set", "train.render_generated_maps=2"], False),
    (["--set", "train.render_generated_maps=half"], False),
    (["--stage", "render", "--set", "train.render_generated_maps=0.5"], False),  # no stage 1 in the run
    (["--stage", "render", "--set", "train.classifier_init=demo"], False),  # a 64x64 teacher, a 32x32 run
    (["--stage", "render", "--set", "train.classifier_init=/nonexistent/t.safetensors"], False),
    (["--set", "train.ema_decay=0.5", "--set", "train.ema_buffers=average"], True),
    (["--set", "model.code_film=yes"], False), (["--set", "train.l1_downsample=0"], False),
    (["--set", "train.l1_downsample=3"], False),  # not a divisor of the image size (32)
    (["--set", "model.upsample=bilinear"], False),
    (["--stage", "render", "--render", "ih1_skip", "--set", "model.upsample=resize"], True),  # stays official
    (["--stage", "render", "--set", "model.final_upsample=bilinear"], False),
    (["--stage", "render", "--set", "model.antialias=-1"], False),
    (["--stage", "render", "--set", "train.l1_label_weights=(1,2)"], False),
    (["--stage", "render", "--set", "model.code_film=True", "--set", "train.l1_downsample=4",
      "--set", "model.upsample=resize"], True),
]  # fmt: skip


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    """A tiny run with stage 1 and the compositional stage 2 (one step each), for generate and evaluate."""
    out = tmp_path_factory.mktemp("hostile") / "run"
    for stage in ("shape", "render"):
        assert cli.main(["train", "--out", str(out), "--stage", stage, *TRAIN_BASE]) == 0
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("files")
    images = {
        "img32.png": np.zeros((32, 32, 3), np.uint8),
        "img20.png": np.zeros((20, 20, 3), np.uint8),
        "lab0.png": np.zeros((32, 32), np.uint8),
        "lab9.png": np.full((32, 32), 9, np.uint8),
    }
    for name, array in images.items():
        Image.fromarray(array).save(folder / name)
    (folder / "notimg.png").write_text("not an image")
    (folder / "afile").write_text("a file where a folder is expected")
    (folder / "garbage.json").write_text("{not json")
    (folder / "list.json").write_text("[1, 2]")
    return {p.name: p for p in folder.iterdir()}


def generate_cases(f: dict[str, Path]) -> list[tuple[list[str], bool]]:
    person = ["--image", str(f["img32.png"]), "--labels", str(f["lab0.png"])]
    return [
        (["--person", "-1"], False), (["--person", "999"], False), (["--person", "abc"], False),
        (["--seed", "x"], False), (["--seed", str(2**70)], False), (["--model", "bad"], False),
        (["--model", "ih1"], False), (["--image", str(f["img32.png"])], False),
        ([*person[:3], str(f["lab9.png"]), "--sentence", "the lady wore a red dress."], False),
        (["--image", str(f["img20.png"]), *person[2:], "--sentence", "the lady wore a red dress."], False),
        (["--image", str(f["notimg.png"]), *person[2:], "--sentence", "the lady wore a red dress."], False),
        (["--image", "/nonexistent.png", *person[2:], "--sentence", "the man wore a tee."], False),
        ([*person], False), (["--sentence", ""], False), (["--sentence", "zzz qqq"], False),
        (["--device", "tpu"], False), (["--device", "cuda:3"], False),
        (["--out", str(f["afile"] / "grid.png")], False), (["--keep-identity", "--identity", "none"], False),
        (["--run", "/nonexistent"], False), (["--run", str(f["afile"])], False), (["--bogus"], False),
        ([*person, "--sentence", "the lady wore a red dress."], True),
        (["--sentence", " ".join(["the"] * 300)], True), (["--keep-identity"], True),
        (["--identity", "official"], True), (["--identity", "none"], True), (["--identity", "keep"], False),
    ]  # fmt: skip


EVALUATE_BASE = [
    "evaluate",
    "--no-progress",
    "--num-test",
    "4",
    "--detector-steps",
    "1",
    "--parser-steps",
    "1",
]
EVALUATE_CASES = [
    (["--num-test", "-1"], False), (["--num-test", "0"], False), (["--num-test", "abc"], False),
    (["--detector-steps", "-1"], False), (["--detector-steps", "0"], False),
    (["--detector-steps", "x"], False), (["--detector-people", "0"], False),
    (["--detector-people", "many"], False),
    (["--parser-steps", "-5"], False), (["--parser-steps", "0"], False), (["--device", "tpu"], False),
    (["--device", "cuda:3"], False), (["--run", "/nonexistent"], False), (["--bogus"], False),
]  # fmt: skip


def cli_outcome_ok(outcome: str, valid: bool) -> bool:
    if valid:
        return outcome == "exit 0"
    return outcome in ("exit 2", "argparse exit 2")


def sweep_cli(command: str, cases, argv_for, budget_s: float, tally: Tally) -> None:
    for mutation, valid in cases:
        outcome = run_cli(argv_for(mutation), budget_s=budget_s)
        if cli_outcome_ok(outcome, valid):
            tally.counts["accepted" if valid else "rejected"] += 1
        else:
            tally.counts["finding"] += 1
            tally.findings.append(
                f"{command} {' '.join(mutation)}: {outcome} (expected {'exit 0' if valid else 'exit 2'})"
            )


def test_cli_train_sweep(tmp_path, tmp_path_factory):
    tally = Tally()
    counter = iter(range(10**6))

    def argv_for(mutation):
        return [
            "train",
            "--out",
            str(tmp_path / f"run{next(counter)}"),
            "--stage",
            "shape",
            *TRAIN_BASE,
            *mutation,
        ]

    sweep_cli("train", TRAIN_CASES, argv_for, 120, tally)
    report(tmp_path_factory, "cli-train", tally)
    assert not tally.findings, "\n".join(tally.findings)


def test_cli_generate_sweep(trained_run, files, tmp_path_factory):
    tally = Tally()

    def argv_for(mutation):
        base = ["generate", "--grid"]
        if "--run" not in mutation:
            base += ["--run", str(trained_run)]
        if not {"--person", "--image", "--labels"} & set(mutation):
            base += ["--person", "0"]
        return [*base, *mutation]

    sweep_cli("generate", generate_cases(files), argv_for, 60, tally)
    report(tmp_path_factory, "cli-generate", tally)
    assert not tally.findings, "\n".join(tally.findings)


def test_cli_evaluate_sweep(trained_run, tmp_path, tmp_path_factory):
    """Every case is invalid: one still running after 5 s accepted its arguments and started training."""
    tally = Tally()
    counter = iter(range(10**6))

    def argv_for(mutation):
        run = tmp_path / f"run{next(counter)}"  # a fresh copy: an interrupted case may leave detector files
        shutil.copytree(trained_run, run)
        return [*EVALUATE_BASE, *(["--run", str(run)] if "--run" not in mutation else []), *mutation]

    sweep_cli("evaluate", EVALUATE_CASES, argv_for, 5, tally)
    report(tmp_path_factory, "cli-evaluate", tally)
    assert not tally.findings, "\n".join(tally.findings)


def test_cli_hypothesis_sweep(tmp_path, tmp_path_factory):
    """Two invalid train options at once, in random order: still a clean rejection."""
    tally = Tally()
    invalid = [m for m, valid in TRAIN_CASES if not valid]
    counter = iter(range(10**6))

    @settings(deadline=None, max_examples=12, database=None)
    @given(pair=st.lists(st.sampled_from(invalid), min_size=2, max_size=2, unique_by=lambda m: " ".join(m)))
    def sweep(pair):
        argv = ["train", "--out", str(tmp_path / f"run{next(counter)}"), "--stage", "shape", *TRAIN_BASE]
        outcome = run_cli([*argv, *pair[0], *pair[1]], budget_s=120)
        if cli_outcome_ok(outcome, valid=False):
            tally.counts["rejected"] += 1
        else:
            tally.counts["finding"] += 1
            tally.findings.append(f"train {pair}: {outcome}")

    sweep()
    report(tmp_path_factory, "cli-hypothesis", tally)
    assert not tally.findings, "\n".join(tally.findings)
