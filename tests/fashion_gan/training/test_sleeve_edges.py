"""train.shape_sleeve_edge_weight: stage 1's cross-entropy weighted where a short sleeve ends."""

from __future__ import annotations

import pytest
import torch
from fashion_gan import runs
from fashion_gan.modeling import get_stage
from fashion_gan.training.sampling import StepBatches
from fashion_gan.training.sleeve_edges import ARMS, SHORT_SLEEVE, UPPER_CLOTHES, sleeve_edge_weights
from fashion_gan.training.step import prepare_step

from condgan.layers import class_boundary
from condgan.losses import segmentation_cross_entropy


def _people(sleeves):
    """One label map per sleeve: a torso (upper clothes) left of an arm, background below."""
    labels = torch.zeros(len(sleeves), 4, 6, dtype=torch.long)
    labels[:, :2, :3] = UPPER_CLOTHES
    labels[:, :2, 3:] = ARMS
    return labels, torch.tensor(sleeves)


def test_weights_lift_the_edge_of_short_sleeves_only():
    labels, sleeve = _people([SHORT_SLEEVE, 0, 2, 3])
    w = sleeve_edge_weights(labels, sleeve, 4.0)
    assert w.shape == labels.shape and w.mean().item() == pytest.approx(1.0)
    band = class_boundary(labels, UPPER_CLOTHES, ARMS)
    assert band[0].sum() == 6  # columns 2 and 3 of the two garment rows and of the row below them
    low = w[0][~band[0]]
    assert torch.allclose(w[0][band[0]], 5 * low[0]) and torch.allclose(low, low[0].expand_as(low))
    for i in (1, 2, 3):  # long, sleeveless, unspecified: every pixel alike
        assert torch.allclose(w[i], low[0].expand_as(w[i]))
    assert torch.equal(sleeve_edge_weights(labels, sleeve, 0.0), torch.ones_like(w))


def test_weights_error_names_the_shapes():
    labels, _ = _people([SHORT_SLEEVE, 0])
    match = r"sleeve: expected one class per label map, shape \(2,\), got \(3,\)"
    with pytest.raises(ValueError, match=match):
        sleeve_edge_weights(labels, torch.tensor([1, 1, 1]), 4.0)


def test_stage_one_step_weights_its_cross_entropy(tiny_cfg, trained_run):
    cfg = tiny_cfg(train={"shape_sleeve_edge_weight": 4.0})
    data = runs.make_dataset(cfg.data, "train")
    batch = StepBatches(data, start_step=0, num_steps=1, global_batch=8, seed=0, noise_dim=cfg.model.z_dim)[0]
    batch["sleeve"] = torch.tensor([SHORT_SLEEVE, 0] * 4)  # half of them short-sleeved, whatever was drawn
    kwargs = dict(cfg=cfg, text_encoder=runs.load_text_encoder(trained_run), device=torch.device("cpu"))
    shape = get_stage("shape")
    prepared = prepare_step(shape, batch, **kwargs)
    expected = sleeve_edge_weights(prepared.cond.labels, batch["sleeve"], 4.0)
    assert expected.max() > expected.min()  # the painted people's arms meet their garments somewhere
    torch.testing.assert_close(prepared.pixel_weight, expected)
    logits = torch.randn(8, 7, *prepared.cond.labels.shape[-2:], generator=torch.Generator().manual_seed(0))
    loss = shape.reconstruction_loss(prepared.cond, pixel_weight=prepared.pixel_weight)(logits)
    weighted = segmentation_cross_entropy(logits, prepared.cond.labels, weight=expected)
    torch.testing.assert_close(loss, weighted)
    assert loss != segmentation_cross_entropy(logits, prepared.cond.labels)
    # The official default and the other models: no weights.
    assert prepare_step(shape, batch, **{**kwargs, "cfg": tiny_cfg()}).pixel_weight is None
    assert prepare_step(get_stage("render_compositional"), batch, **kwargs).pixel_weight is None


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (-1.0, ValueError, r"shape_sleeve_edge_weight: expected a finite number in \[0.0, inf\), got -1.0"),
        (float("nan"), ValueError, "train.shape_sleeve_edge_weight: expected a finite number"),
        ("4", TypeError, "train.shape_sleeve_edge_weight: expected a number, got str"),
    ],
)
def test_config_errors_name_the_field(tiny_cfg, value, error, match):
    with pytest.raises(error, match=match):
        tiny_cfg(train={"shape_sleeve_edge_weight": value}).validate()
