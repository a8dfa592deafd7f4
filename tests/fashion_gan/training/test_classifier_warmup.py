"""``train.classifier_warmup``: D's attribute classifier learns the real samples alone before step 0.

Tiny configuration of ``conftest.py`` (the demo preset, so ``model.classifier`` is on), CPU, fp32.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import safetensors.torch
import torch
from fashion_gan.config import RunConfig
from fashion_gan.modeling import get_stage
from fashion_gan.training.loop import train_stage
from fashion_gan.training.stopping import TrainingStopped
from fashion_gan.training.warmup import CLASSIFIER_WARMUP_BATCH, warm_up_stage_classifier

from condgan.nets import DiscriminatorWithClassifier
from condgan.train import latest_checkpoint, load_checkpoint

WARMUP = 4


def final_tensors(model_dir: Path) -> dict[str, torch.Tensor]:
    """Every tensor of the last checkpoint (weights, Adam states, RNG), keyed by file and name."""
    folder = latest_checkpoint(model_dir / "checkpoints")
    return {
        f"{f.name}:{k}": t
        for f in sorted(folder.glob("*.safetensors"))
        for k, t in safetensors.torch.load_file(str(f)).items()
    }


def assert_same_tensors(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:5]}"


def _fresh(cfg: RunConfig, name: str):
    stage = get_stage(name)
    cfg = stage.configure(cfg.replace(train={"classifier_warmup": WARMUP}).validate())
    torch.manual_seed(0)
    _, d = stage.build(cfg)
    return stage, cfg, d


@pytest.mark.parametrize("name", ["shape", "render_compositional"])
def test_trains_only_the_classifier_deterministically(name, tiny_cfg):
    stage, cfg, d = _fresh(tiny_cfg(), name)
    _, _, twin = _fresh(tiny_cfg(), name)
    before = {k: v.clone() for k, v in d.state_dict().items()}
    rng = torch.get_rng_state()
    losses = warm_up_stage_classifier(stage, d, cfg, device=torch.device("cpu"))
    assert len(losses) == WARMUP
    assert torch.equal(torch.get_rng_state(), rng)  # the batches have their own generator
    after = d.state_dict()
    moved = {k for k in after if not torch.equal(after[k], before[k])}
    assert moved and all(k.startswith("classifier.") for k in moved)
    assert len(moved) == len(list(d.classifier.parameters()))  # every classifier tensor, nothing else
    warm_up_stage_classifier(stage, twin, cfg, device=torch.device("cpu"))
    assert_same_tensors(dict(twin.state_dict()), dict(after))


def test_uses_the_configured_peak_rate(tiny_cfg, monkeypatch):
    """``train.classifier_warmup_lr`` reaches the library call (the default is 2e-3)."""
    import fashion_gan.training.warmup as warmup

    rates = []
    real = warmup.warm_up_classifier
    monkeypatch.setattr(warmup, "warm_up_classifier", lambda *a, **k: rates.append(k["lr"]) or real(*a, **k))
    for lr in (None, 4e-3):
        cfg = tiny_cfg() if lr is None else tiny_cfg(train={"classifier_warmup_lr": lr})
        stage, cfg, d = _fresh(cfg, "render_compositional")
        warm_up_stage_classifier(stage, d, cfg, device=torch.device("cpu"))
    assert rates == [2e-3, 4e-3]


def test_reads_what_the_step_shows_it(tiny_cfg, monkeypatch):
    """Stage 1's classifier gets one-hot label maps, the render's the pictures in [-1, 1]: 64 per step."""
    for name, channels in (("shape", 7), ("render_compositional", 3)):
        stage, cfg, d = _fresh(tiny_cfg(), name)
        seen = []
        forward = d.classifier.forward
        monkeypatch.setattr(
            d.classifier, "forward", lambda x, f=forward, s=seen: s.append(x.detach()) or f(x)
        )
        warm_up_stage_classifier(stage, d, cfg, device=torch.device("cpu"))
        assert [tuple(x.shape) for x in seen] == [(CLASSIFIER_WARMUP_BATCH, channels, 32, 32)] * WARMUP
        if name == "shape":
            assert all(torch.equal(x.sum(1), torch.ones_like(x[:, 0])) for x in seen)  # one-hot
        else:
            assert all(x.min() >= -1 and x.max() <= 1 and x.min() < 0 for x in seen)


def test_needs_a_classifier(tiny_cfg):
    stage = get_stage("render_compositional")
    cfg = tiny_cfg(model={"classifier": False})
    _, d = stage.build(stage.configure(cfg))
    assert not isinstance(d, DiscriminatorWithClassifier)
    with pytest.raises(TypeError, match="expected a condgan.nets.DiscriminatorWithClassifier"):
        warm_up_stage_classifier(
            stage, d, cfg.replace(train={"classifier_warmup": 2}), device=torch.device("cpu")
        )
    with pytest.raises(ValueError, match="train.classifier_warmup: expected 0 without model.classifier"):
        cfg.replace(train={"classifier_warmup": 2}).validate()
    with pytest.raises(ValueError, match="train.classifier_warmup: expected an int >= 0, got -1"):
        tiny_cfg(train={"classifier_warmup": -1}).validate()


def test_a_stop_during_the_warm_up_writes_nothing(tiny_cfg, new_run):
    class Stop:
        stop_requested = True
        signal_name = "SIGINT"

    stage, cfg, d = _fresh(tiny_cfg(), "shape")
    with pytest.raises(TrainingStopped, match="stopped by SIGINT during the classifier warm-up") as info:
        warm_up_stage_classifier(stage, d, cfg, device=torch.device("cpu"), stop=Stop())
    assert info.value.reason == "signal" and info.value.checkpoint is None


def test_runs_once_before_step_0_and_a_resumed_run_equals_an_uninterrupted_one(tiny_cfg, new_run, capsys):
    cfg = tiny_cfg(train={"steps": 6, "precision": "fp32", "classifier_warmup": WARMUP}, data={"workers": 0})
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        whole = train_stage(cfg, stage="render", run_dir=new_run("whole"), progress=False)
        assert capsys.readouterr().out.count(f"classifier warm-up: {WARMUP} steps of 64 real samples") == 1
        run = new_run("pieces")
        train_stage(cfg, stage="render", run_dir=run, progress=False, max_steps=2)
        pieces = train_stage(cfg, stage="render", run_dir=run, progress=False, resume=True)
        assert capsys.readouterr().out.count("classifier warm-up") == 1  # not again on resume
        plain = train_stage(
            cfg.replace(train={"classifier_warmup": 0}),
            stage="render",
            run_dir=new_run("plain"),
            progress=False,
        )
    finally:
        torch.use_deterministic_algorithms(previous)
    assert_same_tensors(final_tensors(pieces), final_tensors(whole))

    def classifier(model_dir):
        stage, d_cfg, d = _fresh(cfg, "render_compositional")
        load_checkpoint(
            latest_checkpoint(model_dir / "checkpoints"), modules={"discriminator": d}, restore_rng=False
        )
        return d.classifier.state_dict()

    warmed, unwarmed = classifier(whole), classifier(plain)
    assert any(not torch.equal(warmed[k], unwarmed[k]) for k in warmed)


def test_draws_from_more_people_when_asked(tiny_cfg, monkeypatch):
    """``train.classifier_warmup_people``: the synthetic painter draws that many training people (the run's
    own first); 0 keeps the run's own."""
    from fashion_gan.training import warmup

    sizes = []
    make = warmup.runs.make_dataset

    def recording(data, split):
        dataset = make(data, split)
        sizes.append((split, len(dataset)))
        return dataset

    monkeypatch.setattr(warmup.runs, "make_dataset", recording)
    for people, expected in ((0, 64), (5000, 5000)):
        stage, cfg, d = _fresh(tiny_cfg(train={"classifier_warmup_people": people}), "render_compositional")
        warm_up_stage_classifier(stage, d, cfg, device=torch.device("cpu"))
        assert sizes.pop() == ("train", expected)


def test_more_people_needs_the_synthetic_painter(tiny_cfg):
    cfg = tiny_cfg(
        train={"classifier_warmup": 2, "classifier_warmup_people": 1000, "shape_garment_twins": False}
    ).validate()
    official = cfg.replace(data={"source": "official", "root": "x", "image_size": 128})
    with pytest.raises(ValueError, match="train.classifier_warmup_people: expected 0 .* 'official'"):
        official.validate()
    with pytest.raises(ValueError, match="classifier_warmup_people: expected an int >= 0, got -5"):
        tiny_cfg(train={"classifier_warmup_people": -5}).validate()


@pytest.mark.parametrize(("name", "field"), [("shape", "one_hot"), ("render_compositional", "images")])
def test_real_sample_is_what_the_step_feeds_d(name, field):
    """``Stage.real_sample`` equals the conditions' tensor the step hands D as the real sample."""
    from fashion_gan.data.synthetic import SyntheticMannequins
    from fashion_gan.modeling.conditions import build_conditions

    batch = SyntheticMannequins(split="test", image_size=32, num_train=16, num_test=4).get_batch([0, 1, 2, 3])
    cond = build_conditions(batch["image"], batch["labels"])
    assert torch.equal(get_stage(name).real_sample(batch["image"], batch["labels"]), getattr(cond, field))
