"""FashionGAN's models (``fashion_gan.models``): every variant builds at a tiny size and trains one step.

Each variant (stage 1; stage 2 compositional / ih1_skip / ih1; One-Step 8-7 / 8-4) is built from a RunConfig,
fed a real synthetic batch through :func:`stage_inputs` and trained one step with condgan's
:func:`conditional_gan_step`, as ``train.py`` does: the losses are finite and every weight tensor of G and D
moves. Plus the design code, the inputs of the matching-aware discriminator, the compositional model's kept
regions, and the errors of :func:`build_stage`.
"""

from __future__ import annotations

import pytest
import torch
from fashion_gan.conditions import APPEARANCE_DIM, NUM_LABELS, build_conditions
from fashion_gan.data.synthetic import SyntheticMannequins
from fashion_gan.models import (
    ComposedRenderer,
    build_stage,
    code_dim,
    design_code,
    generate_stage,
    render_from_labels,
    stage_inputs,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.layers.label_maps import one_hot_labels
from condgan.losses import l1_reconstruction, segmentation_cross_entropy
from condgan.text import RNNTextEncoder
from condgan.train import conditional_gan_step, make_precision

BATCH = 4
SIZE = 32

VARIANTS = [
    ("shape", {}, "shape"),
    ("render", {"render": "compositional"}, "render_compositional"),
    ("render", {"render": "ih1_skip"}, "render_ih1_skip"),
    ("render", {"render": "plain"}, "render_plain"),
    ("render", {"render": "ih1"}, "render_ih1"),
    ("onestep", {"onestep_constraint": 7}, "onestep_87"),
    ("onestep", {"onestep_constraint": 4}, "onestep_84"),
]
IDS = [name for _, _, name in VARIANTS]


@pytest.fixture(scope="module")
def batch() -> dict:
    data = SyntheticMannequins(split="train", image_size=SIZE, num_train=16, num_test=4, seed=0)
    return data.get_batch(list(range(BATCH)))


@pytest.fixture(scope="module")
def text_encoder() -> RNNTextEncoder:
    torch.manual_seed(0)
    return RNNTextEncoder(hidden_size=100).eval().requires_grad_(False)


def conditions_and_code(batch, text_encoder, cfg):
    cond = build_conditions(batch["image"], batch["labels"], constraint_size=8, constraint_mode="bicubic")
    code = design_code(text_encoder, batch["word_ids"], cond.appearance, cfg.model)
    return cond, code


@pytest.mark.parametrize(("stage", "model", "name"), VARIANTS, ids=IDS)
def test_every_variant_builds_and_trains_one_step(stage, model, name, batch, text_encoder, tiny_cfg):
    cfg = tiny_cfg(model=model)
    torch.manual_seed(0)
    models = build_stage(cfg, stage)
    assert (models.kind, models.name) == (stage, name)
    g, d = models.generator, models.discriminator
    cond, code = conditions_and_code(batch, text_encoder, cfg)
    z = torch.randn(BATCH, cfg.model.z_dim)
    inputs = stage_inputs(models, cond, code, z)

    with torch.no_grad():
        out = g(*inputs.g_inputs)
        logits = d(out, *inputs.fake_conditions)
    expected = (BATCH, NUM_LABELS if stage == "shape" else 3, SIZE, SIZE)
    assert out.shape == expected
    if stage != "shape":
        assert out.abs().max() <= 1.0  # images in [-1, 1]
    assert logits.shape[0] == BATCH and torch.isfinite(logits).all()

    before = {f"G.{k}": v.detach().clone() for k, v in g.named_parameters()}
    before.update({f"D.{k}": v.detach().clone() for k, v in d.named_parameters()})
    if stage == "shape":
        reconstruction = lambda fake: segmentation_cross_entropy(fake, cond.labels)
    else:
        reconstruction = lambda fake: l1_reconstruction(fake, cond.images)
    losses = conditional_gan_step(
        generator=g,
        discriminator=d,
        g_optimizer=torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999)),
        d_optimizer=torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999)),
        g_inputs=inputs.g_inputs,
        real=inputs.real,
        mismatched=inputs.mismatched,
        fake_conditions=inputs.fake_conditions,
        reconstruction=reconstruction,
        reconstruction_weight=100.0,
        precision=make_precision(torch.device("cpu"), mode="fp32"),
    )
    for key in ("d_total", "d_real", "d_mismatch", "d_fake", "g_adv", "g_rec", "g_total"):
        assert torch.isfinite(torch.tensor(losses[key])), (key, losses[key])
    assert losses["skipped"] == 0
    after = {f"G.{k}": v for k, v in g.named_parameters()}
    after.update({f"D.{k}": v for k, v in d.named_parameters()})
    unchanged = [k for k in before if torch.equal(before[k], after[k])]
    assert not unchanged, f"weights that did not move: {unchanged}"


@pytest.mark.parametrize(("stage", "model", "name"), VARIANTS, ids=IDS)
def test_generate_stage_outputs(stage, model, name, batch, text_encoder, tiny_cfg):
    cfg = tiny_cfg(model=model)
    models = build_stage(cfg, stage)
    cond, code = conditions_and_code(batch, text_encoder, cfg)
    with torch.no_grad():
        out = generate_stage(models, models.generator.eval(), cond, code, torch.randn(BATCH, cfg.model.z_dim))
    assert out.shape == (BATCH, NUM_LABELS if stage == "shape" else 3, SIZE, SIZE)
    assert torch.isfinite(out).all()


def test_width_scales_the_networks(tiny_cfg):
    def count(width):
        models = build_stage(tiny_cfg(model={"width": width}), "render")
        return sum(p.numel() for p in models.generator.parameters())

    assert count(0.125) > 2 * count(0.0625)


def test_design_code_is_text_then_appearance(batch, text_encoder, tiny_cfg):
    cfg = tiny_cfg()
    cond, code = conditions_and_code(batch, text_encoder, cfg)
    assert code.shape == (BATCH, 100 + APPEARANCE_DIM) == (BATCH, code_dim(100, cfg.model))
    text_code, _ = text_encoder(batch["word_ids"])
    assert torch.equal(code[:, :100], text_code)
    assert torch.equal(code[:, 100:], cond.appearance)
    plain = tiny_cfg(model={"wearer": False})
    assert torch.equal(design_code(text_encoder, batch["word_ids"], cond.appearance, plain.model), text_code)
    assert code_dim(100, plain.model) == 100
    shape_g = build_stage(plain, "shape").generator  # its code input is the text code alone
    seg = shape_g(torch.randn(2, 80), text_code[:2], cond.constraint4[:2])
    assert seg.shape == (2, NUM_LABELS, SIZE, SIZE)


@pytest.mark.parametrize(("stage", "model", "name"), VARIANTS, ids=IDS)
def test_mismatched_pairs_are_other_people_with_this_sentence(
    stage, model, name, batch, text_encoder, tiny_cfg
):
    cfg = tiny_cfg(model=model)
    models = build_stage(cfg, stage)
    cond, code = conditions_and_code(batch, text_encoder, cfg)
    inputs = stage_inputs(models, cond, code, torch.randn(BATCH, cfg.model.z_dim))
    assert len(inputs.real) == len(inputs.mismatched) == len(inputs.fake_conditions) + 1
    for real, mismatched in zip(inputs.real[:-1], inputs.mismatched[:-1], strict=True):
        assert torch.equal(mismatched, torch.roll(real, 1, dims=0))  # person i-1's image and condition
    assert inputs.real[-1] is code and inputs.mismatched[-1] is code  # with person i's sentence
    assert inputs.fake_conditions[-1] is code
    expected_condition = {
        "shape": cond.constraint4,
        "render": cond.seg_code,
        "onestep": cond.constraint7 if name == "onestep_87" else cond.constraint4,
    }[stage]
    assert inputs.fake_conditions[0] is expected_condition
    real_x = cond.one_hot if stage == "shape" else cond.images
    assert inputs.real[0] is real_x
    if name == "render_compositional":
        assert inputs.g_inputs[-1] is cond.one_hot  # the masks of the compositional mapping


@settings(deadline=None, max_examples=8)
@given(seed=st.integers(0, 2**31 - 1), keep=st.sets(st.integers(0, NUM_LABELS - 1), min_size=1, max_size=3))
def test_composed_renderer_takes_kept_regions_from_the_source(seed, keep):
    gen = torch.Generator().manual_seed(seed)
    renderings = torch.rand(2, NUM_LABELS, 3, 8, 8, generator=gen) * 2 - 1
    labels = torch.randint(0, NUM_LABELS, (2, 8, 8), generator=gen)
    source = torch.rand(2, 3, 8, 8, generator=gen) * 2 - 1

    class Fixed(torch.nn.Module):
        def forward(self, z, code, seg_code):
            return renderings

    renderer = ComposedRenderer(Fixed())
    masks = one_hot_labels(labels, NUM_LABELS)
    keep = tuple(sorted(keep))
    out = renderer(None, None, None, masks, source, keep)
    plain = renderer(None, None, None, masks)
    kept = torch.isin(labels, torch.tensor(keep)).unsqueeze(1).expand_as(out)
    assert torch.equal(out[kept], source[kept])
    assert torch.equal(out[~kept], plain[~kept])
    chosen = renderings.gather(1, labels[:, None, None].expand(-1, 1, 3, -1, -1)).squeeze(1)
    assert torch.equal(plain, chosen)  # one-hot masks pick each pixel's own region rendering


def test_render_from_labels_keep_only_with_the_compositional_model(batch, text_encoder, tiny_cfg):
    cfg = tiny_cfg(model={"render": "ih1_skip"})
    models = build_stage(cfg, "render")
    cond, code = conditions_and_code(batch, text_encoder, cfg)
    z = torch.randn(BATCH, cfg.model.z_dim)
    with pytest.raises(
        ValueError, match="keep: only the compositional render model keeps regions, this is render_ih1_skip"
    ):
        render_from_labels(models, models.generator, cond.labels, code, z, source=cond.images, keep=(1, 2))


@pytest.mark.parametrize(
    ("stage", "model", "error", "message"),
    [
        ("texture", {}, ValueError, "stage: expected 'shape', 'render' or 'onestep', got 'texture'"),
        (
            "render",
            {"render": "unet"},
            ValueError,
            r"model.render: expected one of \('compositional', 'plain', 'ih1_skip', 'ih1'\), got 'unet'",
        ),
        (
            "onestep",
            {"onestep_constraint": 5},
            ValueError,
            "model.onestep_constraint: expected 4 or 7, got 5",
        ),
    ],
)
def test_build_stage_errors_name_the_field(stage, model, error, message, tiny_cfg):
    with pytest.raises(error, match=message):
        build_stage(tiny_cfg(model=model), stage)
