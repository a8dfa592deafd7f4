"""train.render_generated_maps: the render trained on stage 1's own maps for part of each batch."""

from __future__ import annotations

import shutil

import pytest
import torch
from fashion_gan.modeling import NUM_LABELS, build_conditions, get_stage
from fashion_gan.training.generated_maps import GeneratedMaps, load_stage_one
from fashion_gan.training.loop import train_stage
from fashion_gan.training.step import prepare_inputs, prepare_step
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.layers import color_code_segmentation, one_hot_labels

from .test_resume import assert_same_tensors, final_tensors, interrupted_twice, values

SIZE = 8


class FixedStageOne(torch.nn.Module):
    """A stage 1 that draws label ``3`` in the top half and ``0`` below, whatever it is given."""

    calls: list

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, z, code, constraint):
        self.calls.append((z.clone(), code.clone(), constraint.clone()))
        labels = torch.zeros(z.shape[0], SIZE, SIZE, dtype=torch.long)
        labels[:, : SIZE // 2] = 3
        return torch.nn.functional.one_hot(labels, NUM_LABELS).permute(0, 3, 1, 2).float()


def people(batch: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (batch, 3, SIZE, SIZE), generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, NUM_LABELS, (batch, SIZE, SIZE), generator=gen).to(torch.uint8)
    return build_conditions(images, labels, constraint_size=4)


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 9),
    fraction=st.floats(0.0, 1.0),
    step=st.integers(0, 10**6),
    seed=st.integers(0, 2**40),
)
def test_the_drawn_rows_are_stage_ones_and_the_rest_are_kept(batch, fraction, step, seed):
    cond = people(batch)
    stage_one = FixedStageOne()
    maps = GeneratedMaps(stage_one, fraction=fraction, z_dim=5, seed=seed)
    code = torch.randn(batch, 6)
    drawn, agree = maps(cond, code, step)
    rows, z = maps.rows_and_noise(batch, step)
    assert len(rows) == round(fraction * batch) == z.shape[0]
    expected = cond.labels.clone()
    expected[rows] = 3
    expected[rows, SIZE // 2 :] = 0
    assert torch.equal(drawn.labels, expected)
    assert torch.equal(drawn.one_hot, one_hot_labels(expected, NUM_LABELS))
    assert torch.equal(drawn.seg_code, color_code_segmentation(expected))
    assert torch.equal(agree, (expected == cond.labels).float())  # 1 on every pixel of an unchosen row
    # The pictures, constraints and appearance stay the person's own.
    for name in ("images", "constraint4", "constraint7", "appearance"):
        assert torch.equal(getattr(drawn, name), getattr(cond, name))
    if len(rows):  # stage 1 saw the chosen rows' own code and constraint, and the step's noise
        z_seen, code_seen, constraint_seen = stage_one.calls[-1]
        assert torch.equal(code_seen, code[rows]) and torch.equal(constraint_seen, cond.constraint4[rows])
        assert torch.equal(z_seen, z)
    else:
        assert stage_one.calls == []


def test_the_rows_are_a_function_of_seed_step_and_rank():
    def rows(seed, step, rank):
        return GeneratedMaps(FixedStageOne(), fraction=0.5, z_dim=3, seed=seed, rank=rank).rows_and_noise(
            16, step
        )

    assert all(torch.equal(a, b) for a, b in zip(rows(0, 5, 0), rows(0, 5, 0), strict=True))
    others = [rows(1, 5, 0), rows(0, 6, 0), rows(0, 5, 1)]
    assert all(not torch.equal(o[1], rows(0, 5, 0)[1]) for o in others)  # other noise for each change


@pytest.mark.parametrize("fraction", [-0.1, 1.5, float("nan"), "half"])
def test_a_fraction_outside_0_1_is_refused(fraction):
    with pytest.raises((ValueError, TypeError), match="fraction"):
        GeneratedMaps(FixedStageOne(), fraction=fraction, z_dim=3, seed=0)


def test_the_l1_holds_only_where_the_maps_agree():
    cond = people(2)
    render = get_stage("render_compositional")
    fake = torch.zeros(2, 3, SIZE, SIZE)
    agree = torch.zeros(2, SIZE, SIZE)
    agree[0, 0, 0] = 1.0
    loss = render.reconstruction_loss(cond, pixel_weight=agree)(fake)
    assert float(loss) == pytest.approx(float(cond.images[0, :, 0, 0].abs().sum()) / (2 * 3 * SIZE * SIZE))
    # With label weights both apply.
    weights = (2.0,) * NUM_LABELS
    both = render.reconstruction_loss(cond, l1_label_weights=weights, pixel_weight=agree)(fake)
    assert float(both) == pytest.approx(2 * float(loss))
    # Stage 1's cross-entropy takes the same per-pixel weights (train.shape_sleeve_edge_weight).
    logits = torch.randn(2, NUM_LABELS, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    shape_loss = get_stage("shape").reconstruction_loss(cond, pixel_weight=agree)(logits)
    one_pixel = torch.nn.functional.cross_entropy(logits[:1, :, :1, :1], cond.labels[:1, :1, :1])
    assert float(shape_loss) == pytest.approx(float(one_pixel) / (2 * SIZE * SIZE))


def _batch(cfg, size: int):
    from fashion_gan import runs
    from fashion_gan.training.sampling import StepBatches

    data = runs.make_dataset(cfg.data, "train")
    return StepBatches(data, start_step=0, num_steps=1, global_batch=size, seed=0, noise_dim=cfg.model.z_dim)[
        0
    ]


def test_prepare_step_gives_g_the_drawn_maps_and_d_the_true_ones(tiny_cfg, trained_run):
    from fashion_gan import runs

    cfg = tiny_cfg()
    batch = _batch(cfg, 4)
    encoder = runs.load_text_encoder(trained_run)
    render = get_stage("render_compositional")
    size = cfg.data.image_size
    maps = GeneratedMaps(
        load_stage_one(trained_run, cfg, device="cpu"), fraction=1.0, z_dim=cfg.model.z_dim, seed=0
    )
    kwargs = dict(cfg=cfg, text_encoder=encoder, device=torch.device("cpu"))
    plain_inputs, cond = prepare_inputs(render, batch, **kwargs)
    inputs, same_cond, weight = prepare_step(render, batch, maps=maps, step=3, **kwargs)
    drawn, agree = maps(cond, plain_inputs.g_inputs[1], 3)
    assert torch.equal(same_cond.labels, cond.labels) and torch.equal(weight, agree)
    assert weight.shape == (4, size, size) and 0 < float(weight.mean()) < 1  # stage 1 draws other pixels
    z, code, seg_code, one_hot = inputs.g_inputs
    assert torch.equal(seg_code, drawn.seg_code) and torch.equal(one_hot, drawn.one_hot)
    assert torch.equal(inputs.fake_conditions[0], drawn.seg_code)
    for real_side, plain in zip(
        inputs.real + inputs.mismatched, plain_inputs.real + plain_inputs.mismatched, strict=True
    ):
        assert torch.equal(real_side, plain)  # D's real and mismatched pairs keep the true maps
    with pytest.raises(ValueError, match="only a render model"):
        prepare_step(get_stage("shape"), batch, maps=maps, step=3, **kwargs)


def test_load_stage_one_needs_the_runs_stage_one(tiny_cfg, fresh_run, trained_run):
    cfg = tiny_cfg(train={"render_generated_maps": 0.5})
    with pytest.raises(FileNotFoundError, match=r"render_generated_maps=0.5 needs the run's stage 1.*shape"):
        load_stage_one(fresh_run, cfg, device="cpu")
    with pytest.raises(ValueError, match=r"stage 1 in .* has data.image_size=32, this run 64"):
        load_stage_one(trained_run, cfg.replace(data={"image_size": 64}), device="cpu")
    generator = load_stage_one(trained_run, cfg, device="cpu")
    assert not generator.training and not any(p.requires_grad for p in generator.parameters())


@pytest.mark.parametrize(
    ("train", "match"),
    [
        ({"render_generated_maps": 1.5}, r"train.render_generated_maps: expected .*1"),
        ({"render_generated_maps": -0.5}, r"train.render_generated_maps: expected .*0"),
        (
            {"render_generated_maps": 0.5, "l1_downsample": 2},
            r"render_generated_maps: expected 0 with train.l1_downsample",
        ),
    ],
)
def test_config_errors_name_the_field(tiny_cfg, train, match):
    with pytest.raises(ValueError, match=match):
        tiny_cfg(train=train).validate()


@pytest.mark.usefixtures("deterministic")
def test_a_render_on_drawn_maps_trains_and_resumes_exactly(tiny_cfg, new_run, trained_run):
    """The whole loop with train.render_generated_maps: interrupted twice equals uninterrupted, bit for bit;
    the drawn maps change the training (another loss than with the true maps)."""
    steps = 6
    cfg = tiny_cfg(
        train={"steps": steps, "precision": "fp32", "render_generated_maps": 0.5}, data={"workers": 0}
    )

    def with_stage_one(name):
        run = new_run(name)
        shutil.copytree(trained_run / "shape", run / "shape")
        return run

    whole = train_stage(cfg, stage="render", run_dir=with_stage_one("whole"), progress=False)
    pieces = interrupted_twice(cfg, "render", with_stage_one("pieces"))
    assert values(pieces) == values(whole)
    assert_same_tensors(final_tensors(pieces), final_tensors(whole))
    true_maps = train_stage(
        cfg.replace(train={"render_generated_maps": 0.0}),
        stage="render",
        run_dir=new_run("true"),
        progress=False,
    )
    assert values(true_maps)[0]["g_rec"] != values(whole)[0]["g_rec"]
    # Without stage 1 in the run the render stops before its first step, saying what it needs.
    with pytest.raises(FileNotFoundError, match="needs the run's stage 1"):
        train_stage(cfg, stage="render", run_dir=new_run("alone"), progress=False)
