"""Redressing people (``fashion_gan.inference.redress``) with the shared tiny run of ``conftest.py``.

The identity modes. ``structural`` (the default): the generated label map has hair and face exactly where the
input has them and nowhere else, and the generated image IS the input image on those pixels, bit for bit.
``none``: the networks alone. ``official``: the released post-processing (hair and face copied where the
ORIGINAL label is hair or face, generated limbs blended with the input's median limb colour). A 6-step stage 1
draws mostly background, so the property tests swap in a stage 1 that returns a drawn label map; the real
stage 1 is checked too.
"""

from __future__ import annotations

import pytest
import torch
from fashion_gan.config import RunConfig
from fashion_gan.data.synthetic import SyntheticMannequins
from fashion_gan.inference.redress import HAIR_AND_FACE, Redresser, load_model
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.layers.label_maps import one_hot_labels
from condgan.text.vocabulary import UnknownWordError
from condgan.train import CheckpointError, list_checkpoints

SIZE = 32
SENTENCES = ("the lady wore a blue sleeveless dress.", "the man wore a black long-sleeved sweater.")


@pytest.fixture(scope="module")
def test_set(trained_run):
    cfg = RunConfig.load(trained_run / "config.json")
    return SyntheticMannequins(
        split="test", image_size=SIZE, num_train=cfg.data.num_train, num_test=cfg.data.num_test, seed=0
    )


@pytest.fixture(scope="module")
def redresser(trained_run) -> Redresser:
    return Redresser(trained_run)


@pytest.fixture(scope="module")
def people(test_set) -> dict:
    return test_set.get_batch([0, 1, 2])


def pixels(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> (B, H, W, 3), so that a (B, H, W) mask selects whole RGB pixels."""
    return images.permute(0, 2, 3, 1)


def test_generate_outputs(redresser, people):
    word_ids = redresser.encode([SENTENCES[0]] * 3)
    out = redresser.generate(people, word_ids, seed=0)
    assert out["images"].dtype == torch.uint8 and out["images"].shape == (3, 3, SIZE, SIZE)
    assert out["labels"].dtype == torch.int64 and out["labels"].shape == (3, SIZE, SIZE)
    assert 0 <= out["labels"].min() and out["labels"].max() < 7
    again = redresser.generate(people, word_ids, seed=0)
    assert torch.equal(out["images"], again["images"]) and torch.equal(out["labels"], again["labels"])


def test_redress_is_people_by_sentences(redresser, people):
    out = redresser.redress(people, SENTENCES, seed=4)
    assert out["images"].shape == (3, 2, 3, SIZE, SIZE) and out["labels"].shape == (3, 2, SIZE, SIZE)


class Recording(torch.nn.Module):
    """Wraps a generator and records the noise of every call."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner, self.noise = inner, []

    def forward(self, z, *args):
        self.noise.append(z.clone())
        return self.inner(z, *args)


def test_seed_fixes_the_noise_of_both_stages(trained_run, people):
    redresser = Redresser(trained_run)
    redresser.pipeline.stage1 = Recording(redresser.pipeline.stage1)
    redresser.render_g.generator = Recording(redresser.render_g.generator)
    word_ids = redresser.encode([SENTENCES[0]] * 3)
    for seed in (0, 0, 1):
        redresser.generate(people, word_ids, seed=seed)
    z1, z2 = redresser.pipeline.stage1.noise, redresser.render_g.generator.noise
    assert torch.equal(z1[0], z1[1]) and torch.equal(z2[0], z2[1])  # same seed, same noise
    assert not torch.equal(z1[0], z1[2]) and not torch.equal(z2[0], z2[2])  # another seed, other noise
    assert not torch.equal(z1[0], z2[0])  # independent noise per stage
    assert not torch.equal(z1[0][0], z1[0][1])  # and per person


class DrawnStage1(torch.nn.Module):
    """A stand-in stage 1 that 'generates' a fixed label map (as confident logits), whatever its inputs."""

    def __init__(self, labels: torch.Tensor):
        super().__init__()
        self.labels = labels

    def forward(self, z, code, constraint):
        return one_hot_labels(self.labels, 7) * 10.0


def drawn_labels(seed: int, batch: int) -> torch.Tensor:
    """Blocky random label maps (4x4 cells of ids 0..6) with hair (1) and face (2) in every map."""
    gen = torch.Generator().manual_seed(seed)
    cells = torch.randint(0, 7, (batch, 8, 8), generator=gen)
    cells[:, 0, 0], cells[:, 0, 1] = 1, 2
    return cells.repeat_interleave(SIZE // 8, 1).repeat_interleave(SIZE // 8, 2)


def _hair_face(labels: torch.Tensor) -> torch.Tensor:
    return torch.isin(labels, torch.tensor(HAIR_AND_FACE))


@settings(deadline=None, max_examples=6)
@given(seed=st.integers(0, 2**31 - 1), person=st.integers(0, 15))
def test_structural_identity_keeps_hair_and_face_of_the_input_bit_for_bit(
    trained_run, test_set, seed, person
):
    redresser = Redresser(trained_run)
    people = test_set.get_batch([person, (person + 5) % 16])
    redresser.pipeline.stage1 = DrawnStage1(drawn_labels(seed, 2))
    word_ids = redresser.encode(SENTENCES)
    kept = redresser.generate(people, word_ids, seed=seed % 1000)  # structural is the default
    plain = redresser.generate(people, word_ids, seed=seed % 1000, identity="none")
    source = _hair_face(people["labels"].long())
    # Stage 1: hair and face exactly where the input has them, and nowhere else.
    assert torch.equal(_hair_face(kept["labels"]), source)
    assert torch.equal(kept["labels"][source], people["labels"].long()[source])
    # Elsewhere the drawn map's best class that is not hair or face.
    assert torch.equal(
        kept["labels"][~source & ~_hair_face(plain["labels"])],
        plain["labels"][~source & ~_hair_face(plain["labels"])],
    )
    # Stage 2: the input's own pixels there, bit for bit.
    assert source.any()
    assert torch.equal(pixels(kept["images"])[source], pixels(people["image"])[source])
    assert not torch.equal(
        pixels(plain["images"])[source], pixels(people["image"])[source]
    )  # it did something


def test_structural_identity_with_the_trained_stage_1(redresser, people):
    word_ids = redresser.encode([SENTENCES[1]] * 3)
    kept = redresser.generate(people, word_ids, seed=1)
    source = _hair_face(people["labels"].long())
    assert torch.equal(_hair_face(kept["labels"]), source)
    assert torch.equal(pixels(kept["images"])[source], pixels(people["image"])[source])


def test_none_is_the_networks_alone(trained_run, people):
    redresser = Redresser(trained_run, identity="none")
    redresser.pipeline.stage1 = DrawnStage1(drawn_labels(3, 3))
    out = redresser.generate(people, redresser.encode([SENTENCES[0]] * 3), seed=2)
    assert torch.equal(out["labels"], drawn_labels(3, 3))  # stage 1's own map, untouched


def test_official_post_processing_copies_original_hair_and_face(trained_run, people):
    redresser = Redresser(trained_run, identity="official")
    redresser.pipeline.stage1 = DrawnStage1(drawn_labels(4, 3))
    word_ids = redresser.encode([SENTENCES[0]] * 3)
    out = redresser.generate(people, word_ids, seed=2)
    plain = redresser.generate(people, word_ids, seed=2, identity="none")
    original = _hair_face(people["labels"].long())
    assert torch.equal(pixels(out["images"])[original], pixels(people["image"])[original])
    untouched = ~original & ~torch.isin(out["labels"], torch.tensor([5, 6]))
    assert torch.equal(pixels(out["images"])[untouched], pixels(plain["images"])[untouched])
    assert torch.equal(out["labels"], plain["labels"])  # post-processing only


def test_hair_and_face_are_the_official_ids():
    assert HAIR_AND_FACE == (1, 2)  # official ids: 1 hair, 2 face


def test_one_step_model_has_no_stage_1(trained_run, people):
    redresser = Redresser(trained_run, render="onestep_87")
    assert not redresser.two_stage and redresser.pipeline is None
    out = redresser.generate(people, redresser.encode([SENTENCES[0]] * 3))
    assert out["images"].shape == (3, 3, SIZE, SIZE)
    assert (out["labels"] == -1).all()


def test_generate_errors(redresser, people):
    word_ids = redresser.encode([SENTENCES[0]] * 3)
    small = {"image": people["image"][:, :, :16, :16], "labels": people["labels"][:, :16, :16]}
    with pytest.raises(
        ValueError, match=r"people: expected \(B, 3, 32, 32\) images for this run, got \(3, 3, 16, 16\)"
    ):
        redresser.generate(small, word_ids)
    with pytest.raises(ValueError, match=r"word_ids: expected one sentence per person \(3\), got 2"):
        redresser.generate(people, word_ids[:2])
    with pytest.raises(UnknownWordError, match="zorblax"):
        redresser.encode(["the lady wore a zorblax dress."])


def test_structural_identity_of_a_plain_render_keeps_stage_1s_hair_and_face(trained_run, people):
    redresser = Redresser(trained_run, render="ih1_skip")
    out = redresser.generate(people, redresser.encode([SENTENCES[0]] * 3))
    assert torch.equal(_hair_face(out["labels"]), _hair_face(people["labels"].long()))


def test_unknown_identity_mode_names_the_modes(trained_run, redresser, people):
    with pytest.raises(
        ValueError, match=r"identity: expected one of \['structural', 'none', 'official'\], got 'keep'"
    ):
        Redresser(trained_run, identity="keep")
    with pytest.raises(ValueError, match="identity: expected one of"):
        redresser.generate(people, redresser.encode([SENTENCES[0]] * 3), identity="all")


def test_missing_model_is_named(trained_run):
    with pytest.raises(FileNotFoundError, match="no checkpoint for model 'render_ih1' under .*render_ih1"):
        Redresser(trained_run, render="ih1")
    with pytest.raises(FileNotFoundError, match="text encoder not found"):
        Redresser(trained_run / "nowhere")


@pytest.mark.parametrize(
    ("model", "weights"),
    [("shape", "generator"), ("render_compositional", "generator_ema")],
)
def test_damaged_generator_is_named_not_called_untrained(run_copy, model, weights):
    """Generation loads the EMA copy of G when the model kept one: the demo preset keeps one for the render,
    none for stage 1 (train.shape_ema_decay 0)."""
    folders = list_checkpoints(run_copy / model / "checkpoints")
    assert folders and all(not (f / "generator_ema.safetensors").exists() for f in folders) == (
        weights == "generator"
    )
    for folder in folders:
        path = folder / f"{weights}.safetensors"
        path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(
        CheckpointError, match=rf"{model}/checkpoints/step-00000006/{weights}.safetensors: truncated"
    ):
        load_model(run_copy, model)


def test_damaged_text_encoder_is_named(run_copy):
    (run_copy / "text_encoder.safetensors").write_bytes(b"not safetensors at all")
    with pytest.raises(
        ValueError, match=r"text_encoder.safetensors: not a valid text-encoder safetensors file"
    ):
        Redresser(run_copy)


def test_render_labels_is_stage_2_of_generate_on_the_same_map(trained_run, people):
    """With stage 1 swapped for one that draws a fixed map, generate's image is render_labels' on that map."""
    redresser = Redresser(trained_run, identity="none")
    drawn = drawn_labels(3, 3)
    redresser.pipeline.stage1 = DrawnStage1(drawn)
    word_ids = redresser.encode([SENTENCES[1]] * 3)
    chained = redresser.generate(people, word_ids, seed=5)
    alone = redresser.render_labels(people, word_ids, drawn, seed=5)
    assert torch.equal(alone["labels"], drawn)
    assert torch.equal(alone["images"], chained["images"])
    other_seed = redresser.render_labels(people, word_ids, drawn, seed=6)
    assert other_seed["images"].shape == (3, 3, SIZE, SIZE)


def test_render_labels_of_the_real_map_follows_it(redresser, people):
    out = redresser.render_labels(people, redresser.encode([SENTENCES[0]] * 3), people["labels"])
    assert torch.equal(out["labels"], people["labels"].long())
    assert out["images"].dtype == torch.uint8 and out["images"].shape == (3, 3, SIZE, SIZE)


def test_render_labels_errors(trained_run, redresser, people):
    word_ids = redresser.encode([SENTENCES[0]] * 3)
    with pytest.raises(
        ValueError, match=r"labels: expected integer label maps \(3, 32, 32\), got torch.int64 \(3, 16, 16\)"
    ):
        redresser.render_labels(people, word_ids, people["labels"][:, :16, :16].long())
    with pytest.raises(ValueError, match=r"labels: expected integer label maps .* got torch.float32"):
        redresser.render_labels(people, word_ids, people["labels"].float())
    with pytest.raises(ValueError, match=r"labels.*7"):
        redresser.render_labels(people, word_ids, torch.full((3, SIZE, SIZE), 7))
    with pytest.raises(
        ValueError, match="render_labels: expected a two-stage model, got the One-Step 'onestep_87'"
    ):
        Redresser(trained_run, render="onestep_87").render_labels(people, word_ids, people["labels"])
