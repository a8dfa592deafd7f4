"""train.shape_garment_twins: stage 1 takes its constraint and appearance from each person's garment twin."""

from __future__ import annotations

import pytest
import torch
from fashion_gan import runs
from fashion_gan.modeling import build_conditions, get_stage
from fashion_gan.training.loop import train_stage
from fashion_gan.training.sampling import StepBatches
from fashion_gan.training.step import prepare_inputs, twin_conditions

from .test_resume import values


def _batch(cfg, size: int, *, garment_twins: bool):
    data = runs.make_dataset(cfg.data, "train", garment_twins=garment_twins)
    return StepBatches(data, start_step=0, num_steps=1, global_batch=size, seed=0, noise_dim=cfg.model.z_dim)[
        0
    ]


def test_stage_one_reads_the_twins_constraint_and_learns_the_persons_map(tiny_cfg, trained_run):
    cfg = tiny_cfg()
    batch = _batch(cfg, 4, garment_twins=True)
    kwargs = dict(cfg=cfg, text_encoder=runs.load_text_encoder(trained_run), device=torch.device("cpu"))
    shape = get_stage("shape")
    inputs, cond = prepare_inputs(shape, batch, **kwargs)
    plain_inputs, plain = prepare_inputs(shape, {k: v for k, v in batch.items() if "twin" not in k}, **kwargs)
    size, mode = cfg.model.constraint_size, cfg.model.constraint_mode
    twin = build_conditions(
        batch["twin_image"], batch["twin_labels"], constraint_size=size, constraint_mode=mode
    )
    assert torch.equal(cond.constraint4, twin.constraint4) and torch.equal(cond.appearance, twin.appearance)
    assert not torch.equal(cond.constraint4, plain.constraint4)  # the twin's garments change the constraint
    for name in ("labels", "one_hot", "images", "seg_code"):
        assert torch.equal(getattr(cond, name), getattr(plain, name)), (
            name
        )  # the person's own map is the target
    z, code, constraint = inputs.g_inputs
    assert torch.equal(constraint, twin.constraint4)
    assert torch.equal(inputs.real[0], plain.one_hot) and torch.equal(inputs.real[1], twin.constraint4)
    # The design code's appearance part is the twin's: the sentence's part is unchanged.
    assert not torch.equal(code, plain_inputs.g_inputs[1])


def test_only_stage_one_trains_on_twins(tiny_cfg, trained_run):
    cfg = tiny_cfg()
    batch = _batch(cfg, 2, garment_twins=True)
    cond = build_conditions(batch["image"], batch["labels"], constraint_size=cfg.model.constraint_size)
    for name in ("render_compositional", "onestep_87"):
        with pytest.raises(
            ValueError, match=f"only stage 1 trains on garment twins, got twin pictures for {name}"
        ):
            twin_conditions(get_stage(name), cond, batch, cfg, torch.device("cpu"))


@pytest.mark.parametrize(
    ("sections", "error", "match"),
    [
        ({"train": {"shape_garment_twins": 1}}, TypeError, "train.shape_garment_twins: expected a bool"),
        (
            {
                "train": {"shape_garment_twins": True},
                "data": {"source": "official", "root": "x", "image_size": 128},
            },
            ValueError,
            r"train.shape_garment_twins: expected False with data.source 'official'",
        ),
    ],
)
def test_config_errors_name_the_field(tiny_cfg, sections, error, match):
    with pytest.raises(error, match=match):
        tiny_cfg(**sections).validate()


def test_only_the_synthetic_data_has_twins(tiny_cfg):
    cfg = tiny_cfg(data={"source": "official", "root": "somewhere", "image_size": 128})
    with pytest.raises(ValueError, match="garment_twins: only the synthetic people have garment twins"):
        runs.make_dataset(cfg.data, "train", garment_twins=True)


@pytest.mark.usefixtures("deterministic")
def test_the_loop_gives_twins_to_stage_one_only(tiny_cfg, new_run):
    """A whole stage-1 run with the option differs from one without (its constraints are the twins'); the
    render's batches never carry twins, so its training is the same with the option on or off."""
    cfg = tiny_cfg(train={"steps": 2, "precision": "fp32", "shape_garment_twins": False}, data={"workers": 0})
    on = cfg.replace(train={"shape_garment_twins": True})
    with_twins = train_stage(on, stage="shape", run_dir=new_run("twins"), progress=False)
    without = train_stage(cfg, stage="shape", run_dir=new_run("plain"), progress=False)
    assert values(with_twins)[0]["g_rec"] != values(without)[0]["g_rec"]
    render_on = train_stage(on, stage="render", run_dir=new_run("render_on"), progress=False)
    render_off = train_stage(cfg, stage="render", run_dir=new_run("render_off"), progress=False)
    assert values(render_on) == values(render_off)


def test_a_presets_twins_are_off_on_the_release_and_an_explicit_ask_is_an_error():
    from fashion_gan import cli

    def cfg(*options):
        args = cli.build_parser().parse_args(["train", "--out", "unused", "--preset", "demo", *options])
        return cli.config_from_args(args)

    assert cfg().train.shape_garment_twins is True  # the demo preset on its synthetic people
    release = ("--data-source", "official", "--data-root", "somewhere", "--image-size", "128")
    assert cfg(*release).train.shape_garment_twins is False
    with pytest.raises(
        ValueError, match="train.shape_garment_twins: expected False with data.source 'official'"
    ):
        cfg(*release, "--set", "train.shape_garment_twins=True")
