"""The stage registry (``fashion_gan.modeling``): every model builds at a tiny size and trains one step.

Each registered stage (stage 1; stage 2 compositional / plain / ih1_skip / ih1; One-Step 8-7 / 8-4) is built
from a RunConfig and trained one step through :func:`fashion_gan.training.step.make_step` on a real synthetic
batch, as ``fashion-gan train`` does: the losses are finite and every weight tensor of G and D moves. Plus the
design code, the inputs of the matching-aware discriminator, the compositional model's kept regions, the
registry's views and errors, and a variant registered by a test and driven through the CLI.
"""

from __future__ import annotations

import json

import pytest
import torch
from fashion_gan import cli
from fashion_gan.data.synthetic import SyntheticMannequins
from fashion_gan.evaluation.evaluate import model_rows
from fashion_gan.inference.redress import redress_models
from fashion_gan.modeling import (
    APPEARANCE_DIM,
    KINDS,
    NUM_LABELS,
    STAGES,
    all_stages,
    build_conditions,
    code_dim,
    demo_stages,
    design_code,
    evaluation_stages,
    get_stage,
    official_nets,
    register,
    stage_for,
    variants,
)
from fashion_gan.modeling.render import ComposedRenderer, RenderStage
from fashion_gan.modeling.stage import mismatched_rows, net_kwargs
from fashion_gan.training.sampling import step_mismatch
from fashion_gan.training.step import make_step
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils import parametrize

from condgan.layers import one_hot_labels
from condgan.text import RNNTextEncoder
from condgan.train import make_adam, make_precision

BATCH = 4
SIZE = 32
NAMES = [s.name for s in all_stages()]


@pytest.fixture(scope="module")
def batch() -> dict:
    data = SyntheticMannequins(split="train", image_size=SIZE, num_train=16, num_test=4, seed=0)
    out = data.get_batch(list(range(BATCH)))
    out["noise"] = torch.randn(BATCH, 80, generator=torch.Generator().manual_seed(0))
    out["mismatch"] = step_mismatch(0, batch=BATCH, seed=0)
    return out


@pytest.fixture(scope="module")
def text_encoder() -> RNNTextEncoder:
    torch.manual_seed(0)
    return RNNTextEncoder(hidden_size=100).eval().requires_grad_(False)


def conditions_and_code(batch, text_encoder, cfg):
    cond = build_conditions(batch["image"], batch["labels"], constraint_size=8, constraint_mode="bicubic")
    code = design_code(text_encoder, batch["word_ids"], cond.appearance, cfg.model)
    return cond, code


def cpu_step(stage, cfg, g, d, text_encoder):
    """The training step of ``fashion-gan train`` for ``stage`` on the CPU, Adam 2e-4, fp32."""
    return make_step(
        stage,
        cfg=cfg,
        generator=g,
        discriminator=d,
        g_optimizer=make_adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999), device="cpu", fused=True),
        d_optimizer=make_adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999), device="cpu", fused=True),
        text_encoder=text_encoder,
        precision=make_precision(torch.device("cpu"), mode="fp32"),
        device=torch.device("cpu"),
    )


def test_the_registry_holds_the_papers_models_in_training_order():
    assert NAMES == [
        "shape",
        "render_compositional",
        "render_plain",
        "render_ih1_skip",
        "render_ih1",
        "onestep_87",
        "onestep_84",
    ]
    assert [s.name for s in evaluation_stages()] == [
        "shape",
        "render_compositional",
        "render_plain",
        "onestep_87",
        "onestep_84",
    ]
    assert [s.name for s in demo_stages()] == ["shape", "render_compositional"]
    assert variants("render", "render") == ("compositional", "plain", "ih1_skip", "ih1")
    assert variants("onestep", "onestep_constraint") == (7, 4)
    assert list(redress_models()) == ["compositional", "plain", "ih1_skip", "ih1", "onestep_87", "onestep_84"]
    assert model_rows()[1] == ("Non-Compositional", "plain")


@pytest.mark.parametrize("name", NAMES)
def test_cli_words_select_the_stage_again(name, tiny_cfg):
    stage = get_stage(name)
    words = stage.cli_words()
    args = cli.build_parser().parse_args(["train", "--out", "unused", *words])
    assert args.stage == stage.kind
    cfg = cli.config_from_args(args)
    assert stage_for(args.stage, cfg.model) is stage
    assert stage_for(stage.kind, stage.configure(tiny_cfg()).model) is stage


@pytest.mark.parametrize(("d_head", "d_sn"), [("concat", False), ("projection", True)])
@pytest.mark.parametrize("name", NAMES)
def test_every_stage_builds_and_trains_one_step(name, d_head, d_sn, batch, text_encoder, tiny_cfg):
    stage = get_stage(name)
    cfg = stage.configure(tiny_cfg(model={"d_head": d_head, "d_spectral_norm": d_sn}).validate())
    torch.manual_seed(0)
    g, d = stage.build(cfg)
    inner = getattr(d, "discriminator", d)
    assert inner.head_kind == d_head  # model.d_head reaches every D
    normalised = [m for m in inner.modules() if parametrize.is_parametrized(m, "weight")]
    weighted = [m for m in inner.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert normalised == (weighted if d_sn else [])  # model.d_spectral_norm: every conv and linear
    cond, code = conditions_and_code(batch, text_encoder, cfg)
    inputs = stage.step_inputs(cond, code, batch["noise"], batch["mismatch"])
    with torch.no_grad():
        out = g(*inputs.g_inputs)
        logits = d(out, *inputs.fake_conditions)
    assert out.shape == (BATCH, NUM_LABELS if stage.kind == "shape" else 3, SIZE, SIZE)
    if stage.kind != "shape":
        assert out.abs().max() <= 1.0  # images in [-1, 1]
    assert logits.shape[0] == BATCH and torch.isfinite(logits).all()

    before = {f"G.{k}": v.detach().clone() for k, v in g.named_parameters()}
    before.update({f"D.{k}": v.detach().clone() for k, v in d.named_parameters()})
    step = cpu_step(stage, cfg, g, d, text_encoder)
    losses = step(batch, 1)
    for key in ("d_total", "d_real", "d_mismatch", "d_fake", "g_adv", "g_rec", "g_total"):
        assert torch.isfinite(torch.tensor(losses[key])), (key, losses[key])
    assert losses["skipped"] == 0
    after = {f"G.{k}": v for k, v in g.named_parameters()}
    after.update({f"D.{k}": v for k, v in d.named_parameters()})
    unchanged = [k for k in before if torch.equal(before[k], after[k])]
    assert not unchanged, f"weights that did not move: {unchanged}"


@pytest.mark.parametrize("name", NAMES)
def test_generate_outputs(name, batch, text_encoder, tiny_cfg):
    stage = get_stage(name)
    cfg = stage.configure(tiny_cfg())
    g, _ = stage.build(cfg)
    cond, code = conditions_and_code(batch, text_encoder, cfg)
    with torch.no_grad():
        out = stage.generate(g.eval(), cond, code, torch.randn(BATCH, cfg.model.z_dim))
    assert out.shape == (BATCH, NUM_LABELS if stage.kind == "shape" else 3, SIZE, SIZE)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["render_compositional", "render_plain"])
def test_code_film_adds_modulations_and_trains(name, batch, text_encoder, tiny_cfg):
    stage = get_stage(name)
    cfg = stage.configure(
        tiny_cfg(model={"code_film": True, "upsample": "resize"}, train={"l1_downsample": 4}).validate()
    )
    g, d = stage.build(cfg)
    unet = g.generator if isinstance(g, ComposedRenderer) else g
    assert unet.code_film and len(unet.decoder.films) == len(unet.decoder.levels)
    assert unet.decoder.final.mode == "resize"
    plain, _ = stage.build(stage.configure(tiny_cfg()))
    assert not (plain.generator if isinstance(plain, ComposedRenderer) else plain).code_film
    films = {k: v.detach().clone() for k, v in g.named_parameters() if "film" in k}
    step = cpu_step(stage, cfg, g, d, text_encoder)
    assert torch.isfinite(torch.tensor(step(batch, 1)["g_rec"]))
    after = dict(g.named_parameters())
    assert all(not torch.equal(v, after[k]) for k, v in films.items())  # the modulations learn


@pytest.mark.parametrize("name", ["render_ih1_skip", "render_ih1"])
@pytest.mark.parametrize("option", [{"code_film": True}, {"upsample": "resize"}])
def test_official_render_models_stay_official_whatever_the_unet_options(name, option, tiny_cfg):
    """``code_film`` and ``upsample`` are options of the compositional and plain U-Net: the official networks
    are built from their tables, the same with or without them."""
    stage = get_stage(name)
    torch.manual_seed(0)
    official, _ = stage.build(stage.configure(tiny_cfg(model={"code_film": False, "upsample": "deconv"})))
    torch.manual_seed(0)
    with_option, _ = stage.build(stage.configure(tiny_cfg(model=option)))
    assert repr(official) == repr(with_option)
    for (k, a), (k2, b) in zip(official.state_dict().items(), with_option.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(a, b)


def test_reconstruction_loss_downsamples_the_l1(batch):
    cond = build_conditions(batch["image"], batch["labels"], constraint_size=8, constraint_mode="bicubic")
    stage = get_stage("render_compositional")
    fake = cond.images + 0.5 * torch.randn_like(cond.images)
    pixels = stage.reconstruction_loss(cond)(fake)
    blocks = stage.reconstruction_loss(cond, l1_downsample=4)(fake)
    torch.testing.assert_close(pixels, (fake - cond.images).abs().mean())
    assert blocks < 0.5 * pixels  # noise averages out in 4x4 block means


def test_render_steps_set_the_length_of_the_render_models(tiny_cfg):
    cfg = tiny_cfg(train={"steps": 5, "render_steps": 12})
    lengths = {s.name: s.configure(cfg).train.steps for s in all_stages()}
    assert lengths == {s.name: 12 if s.kind == "render" else 5 for s in all_stages()}
    assert {s.configure(tiny_cfg(train={"steps": 5})).train.steps for s in all_stages()} == {5}  # 0: steps


def test_shape_ema_decay_sets_stage_one_ema_alone(tiny_cfg):
    decays = {
        s.name: s.configure(tiny_cfg(train={"ema_decay": 0.99, "shape_ema_decay": 0.0})).train.ema_decay
        for s in all_stages()
    }
    assert decays == {s.name: 0.0 if s.kind == "shape" else 0.99 for s in all_stages()}
    none = tiny_cfg(train={"ema_decay": 0.9, "shape_ema_decay": None})
    same = {s.configure(none).train.ema_decay for s in all_stages()}
    assert same == {0.9}  # None: every stage has train.ema_decay
    with pytest.raises(ValueError, match="train.shape_ema_decay"):
        tiny_cfg(train={"shape_ema_decay": 1.5}).validate()


@pytest.mark.parametrize(
    ("field", "general", "stage_one"),
    [
        ("class_weight", 0.3, 1.0),
        ("classifier_warmup", 16, 0),
        ("ema_decay", 0.99, 0.0),
        ("lr_decay", "none", "linear"),
    ],
)
def test_shape_overrides_set_stage_one_alone(tiny_cfg, field, general, stage_one):
    """``train.shape_<field>`` is stage 1's value; every other model keeps ``train.<field>``; None: all do."""
    cfg = tiny_cfg(model={"classifier": True}, train={field: general, f"shape_{field}": stage_one}).validate()
    got = {s.name: getattr(s.configure(cfg).train, field) for s in all_stages()}
    assert got == {s.name: stage_one if s.kind == "shape" else general for s in all_stages()}
    unset = tiny_cfg(model={"classifier": True}, train={field: general, f"shape_{field}": None})
    assert {getattr(s.configure(unset).train, field) for s in all_stages()} == {general}


@pytest.mark.parametrize(
    ("updates", "error", "message"),
    [
        (
            {"shape_class_weight": -1.0},
            ValueError,
            r"shape_class_weight: expected a finite number in \[0.0, inf\), got -1.0",
        ),
        (
            {"shape_class_weight": "x"},
            TypeError,
            r"shape_class_weight: expected None \(= train.class_weight\)",
        ),
        ({"shape_classifier_warmup": -2}, ValueError, r"train.shape_classifier_warmup: expected an int >= 0"),
        ({"shape_classifier_warmup": 1.5}, TypeError, r"shape_classifier_warmup: expected None .* got 1.5"),
        ({"classifier_warmup_lr": 0.0}, ValueError, r"train.classifier_warmup_lr: expected .* got 0.0"),
        ({"lr_decay": "step"}, ValueError, r"train.lr_decay: expected one of \['none', 'linear', 'cosine'\]"),
        (
            {"lr_decay_start": 1.0},
            ValueError,
            r"train.lr_decay_start: expected a finite number in \[0.0, 1.0\)",
        ),
        ({"shape_lr_decay": "exp"}, ValueError, r"train.shape_lr_decay: expected one of \[None, 'none'"),
        ({"lr_decay_start": "half"}, TypeError, r"train.lr_decay_start: expected a number"),
    ],
)
def test_shape_overrides_and_warmup_lr_name_bad_values(tiny_cfg, updates, error, message):
    with pytest.raises(error, match=message):
        tiny_cfg(model={"classifier": True}, train=updates).validate()


def test_stage_one_warmup_needs_the_classifier(tiny_cfg):
    with pytest.raises(ValueError, match="shape_classifier_warmup: expected 0 without model.classifier"):
        tiny_cfg(model={"classifier": False}, train={"shape_classifier_warmup": 4}).validate()


def test_cli_steps_clear_render_steps_and_set_can_restore_them():
    def parsed(*options):
        return cli.config_from_args(cli.build_parser().parse_args(["train", "--out", "x", *options])).train

    demo = parsed("--preset", "demo")
    assert (demo.steps, demo.render_steps, demo.shape_ema_decay) == (1200, 1800, 0.0)
    assert (demo.lr_decay, demo.shape_lr_decay, demo.lr_decay_start) == ("none", "linear", 0.5)
    quality = parsed("--preset", "quality")  # 128x128, batch 8: the render needs twice the demo's steps
    assert (quality.steps, quality.render_steps, quality.batch_size) == (1500, 3600, 8)
    assert (quality.ema_decay, quality.shape_ema_decay) == (0.99, None)
    assert (quality.lr_decay, quality.shape_lr_decay) == ("none", None)
    assert (parsed("--preset", "demo", "--steps", "7").render_steps) == 0
    assert parsed("--preset", "demo", "--steps", "7", "--set", "train.render_steps=9").render_steps == 9
    with pytest.raises(ValueError, match="train.render_steps: expected an int >= 0, got -1"):
        parsed("--preset", "demo", "--set", "train.render_steps=-1")


def test_width_scales_the_networks(tiny_cfg):
    def count(width):
        g, _ = get_stage("render_compositional").build(tiny_cfg(model={"width": width}))
        return sum(p.numel() for p in g.parameters())

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
    shape_g, _ = get_stage("shape").build(plain)  # its code input is the text code alone
    seg = shape_g(torch.randn(2, 80), text_code[:2], cond.constraint4[:2])
    assert seg.shape == (2, NUM_LABELS, SIZE, SIZE)


@pytest.mark.parametrize("name", NAMES)
def test_mismatched_pairs_are_other_people_with_this_sentence(name, batch, text_encoder, tiny_cfg):
    stage = get_stage(name)
    cfg = stage.configure(tiny_cfg())
    cond, code = conditions_and_code(batch, text_encoder, cfg)
    perm = batch["mismatch"]
    assert bool((perm != torch.arange(BATCH)).all())  # nobody is paired with themself
    inputs = stage.step_inputs(cond, code, torch.randn(BATCH, cfg.model.z_dim), perm)
    assert len(inputs.real) == len(inputs.mismatched) == len(inputs.fake_conditions) + 1
    for real, mismatched in zip(inputs.real[:-1], inputs.mismatched[:-1], strict=True):
        assert torch.equal(mismatched, real[perm])  # person perm[i]'s image and condition
    assert inputs.real[-1] is code and inputs.mismatched[-1] is code  # with person i's sentence
    assert inputs.fake_conditions[-1] is code
    expected_condition = {
        "shape": cond.constraint4,
        "onestep_87": cond.constraint7,
        "onestep_84": cond.constraint4,
    }.get(name, cond.seg_code)
    assert inputs.fake_conditions[0] is expected_condition
    assert inputs.real[0] is (cond.one_hot if stage.kind == "shape" else cond.images)
    if name == "render_compositional":
        assert inputs.g_inputs[-1] is cond.one_hot  # the masks of the compositional mapping


def test_without_a_derangement_the_batch_is_rolled_by_one():
    t = torch.arange(5)
    assert mismatched_rows(t, None).tolist() == [4, 0, 1, 2, 3]
    assert mismatched_rows(t, torch.tensor([1, 2, 3, 4, 0])).tolist() == [1, 2, 3, 4, 0]


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


def test_keep_only_with_the_compositional_model(batch, text_encoder, tiny_cfg):
    stage = get_stage("render_ih1_skip")
    cfg = stage.configure(tiny_cfg())
    g, _ = stage.build(cfg)
    cond, code = conditions_and_code(batch, text_encoder, cfg)
    z = torch.randn(BATCH, cfg.model.z_dim)
    with pytest.raises(
        ValueError, match="keep: only the compositional render model keeps regions, this is render_ih1_skip"
    ):
        stage.render(g, cond.labels, code, z, source=cond.images, keep=(1, 2))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda m: stage_for("texture", m),
            r"stage: expected one of \['shape', 'render', 'onestep'\], got 'texture'",
        ),
        (
            lambda m: get_stage("render_unet"),
            "model: expected one of .*'render_compositional'.*got 'render_unet'",
        ),
    ],
)
def test_registry_errors_name_what_was_expected(call, message, tiny_cfg):
    with pytest.raises(ValueError, match=message):
        call(tiny_cfg().model)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            {"render": "unet"},
            r"model.render: expected one of \['compositional', 'plain', 'ih1_skip', 'ih1'\]",
        ),
        ({"onestep_constraint": 5}, r"model.onestep_constraint: expected one of \[7, 4\], got 5"),
    ],
)
def test_config_choices_come_from_the_registry(model, message, tiny_cfg):
    with pytest.raises(ValueError, match=message):
        tiny_cfg().replace(model=model).validate()


def test_register_refuses_a_second_stage_of_the_same_name_and_an_unknown_kind():
    class Again(RenderStage):
        name = "render_plain"

    class Odd(RenderStage):
        name = "render_odd"
        kind = "texture"

    with pytest.raises(ValueError, match="stage 'render_plain' is already registered"):
        register(Again)
    with pytest.raises(ValueError, match="kind must be one of"):
        register(Odd)
    assert "render_odd" not in STAGES and KINDS == ("shape", "render", "onestep")


class TinyRender(RenderStage):
    """A variant registered by the test below: the plain U-Net without the code at its input."""

    name = "render_tiny"
    model_fields = {"render": "tiny"}
    title = "Tiny test variant"

    def build(self, cfg):
        g = official_nets.ih1_skip_generator(**net_kwargs(cfg))
        return g, official_nets.ih1_skip_discriminator(**net_kwargs(cfg, noise=False))


@pytest.fixture
def tiny_variant():
    register(TinyRender)
    try:
        yield STAGES["render_tiny"]
    finally:
        del STAGES["render_tiny"]


def test_a_registered_variant_trains_generates_and_evaluates_through_the_cli(
    tiny_variant, fresh_run, trained_run, tiny_options, capsys
):
    import shutil

    shutil.copytree(trained_run / "shape", fresh_run / "shape")
    shutil.copy2(trained_run / "config.json", fresh_run / "config.json")
    assert "tiny" in variants("render", "render")
    threads = torch.get_num_threads()
    try:
        code = cli.main(["train", "--out", str(fresh_run), *tiny_variant.cli_words(), *tiny_options])
        assert code == 0, capsys.readouterr().err
        assert (fresh_run / "render_tiny" / "checkpoints").is_dir()
        out_png = fresh_run / "tiny_grid.png"
        code = cli.main(
            [
                "generate",
                "--run",
                str(fresh_run),
                "--model",
                "tiny",
                "--grid",
                "--person",
                "0",
                "--out",
                str(out_png),
            ]
        )
        assert code == 0, capsys.readouterr().err
        assert out_png.is_file()
        argv = ["evaluate", "--run", str(fresh_run), "--num-test", "8", "--detector-steps", "2"]
        code = cli.main([*argv, "--parser-steps", "2", "--no-progress"])
        assert code == 0, capsys.readouterr().err
    finally:
        torch.set_num_threads(threads)
    rows = [row["model"] for row in json.loads((fresh_run / "evaluation.json").read_text())["rows"]]
    assert rows == ["Real test images (ceiling)", *["Tiny test variant"] * 3]  # one row per identity mode


@pytest.mark.parametrize("name", ["render_compositional", "render_plain", "onestep_84"])
def test_classifier_trains_beside_the_image_models(name, batch, text_encoder, tiny_cfg):
    """``model.classifier``: D carries an image-only attribute classifier; the step reports both
    classification losses, and the classifier and G both move."""
    from fashion_gan.modeling.stage import CLASSIFIER_HEADS

    from condgan.nets import AttributeClassifier, DiscriminatorWithClassifier

    stage = get_stage(name)
    cfg = stage.configure(tiny_cfg(model={"classifier": True}, train={"class_weight": 2.0}).validate())
    g, d = stage.build(cfg)
    assert isinstance(d, DiscriminatorWithClassifier) and isinstance(d.classifier, AttributeClassifier)
    assert d.classifier.head_sizes == CLASSIFIER_HEADS
    before = [p.detach().clone() for p in d.classifier.parameters()]
    losses = cpu_step(stage, cfg, g, d, text_encoder)(batch, 1)
    assert {"d_aux", "g_aux"} <= set(losses)
    assert all(torch.isfinite(torch.tensor(losses[k])) for k in ("d_aux", "g_aux", "g_total"))
    assert all(not torch.equal(a, b) for a, b in zip(before, d.classifier.parameters(), strict=True))
    # the plain networks are unchanged: same generator and discriminator weights for the same seed
    torch.manual_seed(0)
    g0, d0 = stage.build(stage.configure(tiny_cfg(model={"classifier": False})))
    torch.manual_seed(0)
    g1, d1 = stage.build(cfg)
    assert {k: v.shape for k, v in d0.state_dict().items()} == {
        k.removeprefix("discriminator."): v.shape
        for k, v in d1.state_dict().items()
        if k.startswith("discriminator.")
    }


def test_stage_one_classifier_reads_label_maps(batch, text_encoder, tiny_cfg):
    """Stage 1's classifier reads sleeve and category from the (softmaxed) label map: a map has no colour."""
    from fashion_gan.modeling.stage import SHAPE_CLASSIFIER_HEADS

    from condgan.nets import DiscriminatorWithClassifier

    stage = get_stage("shape")
    cfg = stage.configure(tiny_cfg(model={"classifier": True}).validate())
    g, d = stage.build(cfg)
    assert isinstance(d, DiscriminatorWithClassifier)
    assert d.classifier.head_sizes == SHAPE_CLASSIFIER_HEADS and d.classifier.in_channels == NUM_LABELS
    assert d.classifier.input_softmax
    losses = cpu_step(stage, cfg, g, d, text_encoder)(batch, 1)
    assert all(torch.isfinite(torch.tensor(losses[k])) for k in ("d_aux", "g_aux", "g_total"))


def test_antialias_softens_only_the_edges(batch, tiny_cfg):
    """``model.antialias``: the compositional layer blends the two sides of each edge; away from the edges
    the picture is the hard composition, and kept regions are the source's pixels, edges included."""
    stage = get_stage("render_compositional")
    torch.manual_seed(0)
    hard, _ = stage.build(stage.configure(tiny_cfg(model={"antialias": 0.0})))
    torch.manual_seed(0)
    soft, _ = stage.build(stage.configure(tiny_cfg(model={"antialias": 0.5}).validate()))
    soft.load_state_dict(hard.state_dict())
    cond = build_conditions(batch["image"], batch["labels"], constraint_size=8, constraint_mode="bicubic")
    code, z = torch.randn(BATCH, code_dim(100, tiny_cfg().model)), torch.randn(BATCH, 80)
    with torch.no_grad():
        a = hard.eval()(z, code, cond.seg_code, cond.one_hot)
        b = soft.eval()(z, code, cond.seg_code, cond.one_hot)
        kept = soft(z, code, cond.seg_code, cond.one_hot, cond.images, (1, 2))
    other = torch.nn.functional.max_pool2d(cond.one_hot, 5, 1, 2).sum(1) > 1  # within 2 px of an edge
    interior = ~other.unsqueeze(1).expand_as(a)
    torch.testing.assert_close(a[interior], b[interior])
    assert (a - b).abs()[~interior].max() > 1e-3  # the edges did change
    hair_face = ((cond.labels == 1) | (cond.labels == 2)).unsqueeze(1).expand_as(a)
    torch.testing.assert_close(kept[hair_face], cond.images[hair_face])


def test_antialias_is_checked(tiny_cfg):
    with pytest.raises(ValueError, match=r"model.antialias: expected a finite number in \[0.0, 4.0\)"):
        tiny_cfg(model={"antialias": -1.0}).validate()


def test_l1_label_weights_weigh_each_pixel_by_its_label(batch):
    cond = build_conditions(batch["image"], batch["labels"], constraint_size=8, constraint_mode="bicubic")
    stage = get_stage("render_compositional")
    fake = cond.images + 0.5 * torch.randn_like(cond.images)
    weights = (1.0, 1.0, 1.0, 0.3, 0.3, 1.0, 1.0)
    loss = stage.reconstruction_loss(cond, l1_label_weights=weights)(fake)
    table = torch.tensor(weights)[cond.labels].unsqueeze(1)
    torch.testing.assert_close(loss, ((fake - cond.images).abs() * table).mean())
    assert loss < stage.reconstruction_loss(cond)(fake)  # garments hold a third as firmly


def test_l1_label_weights_are_checked(tiny_cfg):
    with pytest.raises(ValueError, match=r"train.l1_label_weights: expected \(\) or 7 numbers >= 0"):
        tiny_cfg(train={"l1_label_weights": (1.0, 2.0)}).validate()
    with pytest.raises(
        ValueError, match=r"train.l1_label_weights: expected \(\) with train.l1_downsample > 1"
    ):
        tiny_cfg(train={"l1_label_weights": (1.0,) * 7, "l1_downsample": 2}).validate()


def test_d_head_and_spectral_norm_are_checked(tiny_cfg):
    with pytest.raises(ValueError, match="model.d_head: expected one of .*'projection'.*got 'hinge'"):
        tiny_cfg(model={"d_head": "hinge"}).validate()
    with pytest.raises(TypeError, match="model.d_spectral_norm: expected a bool"):
        tiny_cfg(model={"d_spectral_norm": 1}).validate()


@settings(max_examples=10, deadline=None)
@given(batch=st.integers(1, 3), size=st.sampled_from([8, 16]), seed=st.integers(0, 2**31))
def test_constraints_and_appearance_are_build_conditions_fields(batch, size, seed):
    from fashion_gan.modeling.conditions import constraints_and_appearance

    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (batch, 3, size, size), generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, 7, (batch, size, size), generator=gen).to(torch.uint8)
    cond = build_conditions(images, labels, constraint_size=4)
    got = constraints_and_appearance(images, labels, constraint_size=4)
    for name, tensor in zip(("constraint4", "constraint7", "appearance"), got, strict=True):
        assert torch.equal(tensor, getattr(cond, name)), name
