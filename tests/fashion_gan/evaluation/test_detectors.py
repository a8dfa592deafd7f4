"""fashion_gan.evaluation.detectors: build, train to high accuracy on easy data, evaluate, save/load."""

import doctest
import json
import subprocess
import sys

import fashion_gan.evaluation.detectors as detectors_module
import pytest
import torch
from fashion_gan.evaluation.detectors import (
    DEFAULT_HEADS,
    AttributeDetector,
    evaluate_detector,
    load_detector,
    save_detector,
    train_detector,
)

from condgan.metrics import frechet_metrics

BACKBONE = "test_resnet"  # timm's tiny test network: fast on a CPU
HEADS = {"category": 5, "color": 4, "sleeve": 3, "gender": 2}
BACKGROUNDS = torch.tensor([[230, 60, 60], [60, 200, 60], [60, 60, 230], [230, 230, 60]], dtype=torch.float32)
SQUARES = torch.tensor(
    [[0, 0, 0], [255, 255, 255], [255, 0, 255], [0, 255, 255], [128, 128, 128]], dtype=torch.float32
)
SIDES = (10, 17, 26)
ORANGE = torch.tensor([255.0, 128.0, 0.0]).view(3, 1, 1)


class ColourCodedPeople:
    """A tiny dataset following the sample contract whose pictures encode the attributes.

    colour -> background colour; category -> colour of a square at a random place; sleeve -> the square's
    side; gender -> an orange band along the bottom edge. Plus pixel noise. Learnable, but only by a detector
    that actually trains: chance level is 20-50% per attribute.
    """

    def __init__(self, size: int, *, seed: int = 0, image_size: int = 32, batched: bool = True):
        self.size, self.seed, self.image_size = size, seed, image_size
        self.batched = batched

    def __len__(self):
        return self.size

    def __getattr__(self, name):
        if name == "get_batch" and self.batched:
            return self._get_batch
        raise AttributeError(name)

    def __getitem__(self, index):
        if not 0 <= index < self.size:
            raise IndexError(index)
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        attrs = {name: int(torch.randint(n, (1,), generator=gen)) for name, n in HEADS.items()}
        s, side = self.image_size, SIDES[attrs["sleeve"]]
        image = BACKGROUNDS[attrs["color"]].view(3, 1, 1).repeat(1, s, s)
        labels = torch.zeros(s, s, dtype=torch.uint8)
        y, x = (int(v) for v in torch.randint(0, s - side + 1, (2,), generator=gen))
        image[:, y : y + side, x : x + side] = SQUARES[attrs["category"]].view(3, 1, 1)
        labels[y : y + side, x : x + side] = 3
        if attrs["gender"] == 1:
            image[:, -4:] = ORANGE
        image = (image + 8 * torch.randn(3, s, s, generator=gen)).clamp(0, 255).round().to(torch.uint8)
        return {"image": image, "labels": labels, **attrs, "sentence": "the lady wore a tee.", "index": index}

    def _get_batch(self, indices):
        items = [self[i] for i in indices]
        batch = {key: torch.stack([item[key] for item in items]) for key in ("image", "labels")}
        batch.update({name: torch.tensor([item[name] for item in items]) for name in HEADS})
        return batch


@pytest.fixture(scope="module")
def trained():
    """One detector trained on the easy data (shared by the tests that need a trained detector)."""
    return train_detector(
        ColourCodedPeople(4096),
        steps=150,
        batch_size=32,
        lr=3e-3,
        seed=0,
        image_size=32,
        progress=False,
        backbone=BACKBONE,
        heads=HEADS,
    )


# ---- building ---------------------------------------------------------------------------------------------


def test_builds_with_the_official_heads_and_returns_logits_and_features():
    detector = AttributeDetector(backbone=BACKBONE, image_size=32)
    assert detector.head_sizes == DEFAULT_HEADS == {"category": 19, "color": 17, "sleeve": 4, "gender": 2}
    images = torch.rand(3, 3, 32, 32) * 2 - 1
    logits = detector(images)
    assert {k: tuple(v.shape) for k, v in logits.items()} == {k: (3, n) for k, n in DEFAULT_HEADS.items()}
    features = detector.features(images)
    assert features.shape == (3, detector.num_features)
    # images at another size are resized to image_size first: same result as resizing by hand
    detector.eval()
    big = torch.nn.functional.interpolate(images, size=64, mode="nearest")
    resized = torch.nn.functional.interpolate(big, size=32, mode="bilinear", antialias=True)
    torch.testing.assert_close(detector.features(big), detector.features(resized))


def test_build_errors():
    with pytest.raises(ValueError, match=r"backbone: expected a timm model name .*, got 'no_such_net'"):
        AttributeDetector(backbone="no_such_net")
    with pytest.raises(TypeError, match=r"backbone: expected a timm model name \(str\), got int"):
        AttributeDetector(backbone=18)
    with pytest.raises(
        ValueError, match=r"pretrained: expected False or the path of a local weights file, got True"
    ):
        AttributeDetector(backbone=BACKBONE, pretrained=True)
    with pytest.raises(
        FileNotFoundError, match=r"pretrained: expected an existing weights file, got '/no/file'"
    ):
        AttributeDetector(backbone=BACKBONE, pretrained="/no/file")
    with pytest.raises(ValueError, match=r"heads\['color'\]: expected an int number of classes >= 2, got 1"):
        AttributeDetector(backbone=BACKBONE, heads={"color": 1})
    with pytest.raises(ValueError, match=r"heads: expected attribute names that are identifiers, got 'a.b'"):
        AttributeDetector(backbone=BACKBONE, heads={"a.b": 2})
    with pytest.raises(TypeError, match=r"heads: expected a non-empty mapping"):
        AttributeDetector(backbone=BACKBONE, heads={})
    with pytest.raises(ValueError, match=r"image_size: expected a positive int, got 0"):
        AttributeDetector(backbone=BACKBONE, image_size=0)


def test_forward_errors():
    detector = AttributeDetector(backbone=BACKBONE, heads={"gender": 2}, image_size=32)
    with pytest.raises(ValueError, match=r"images: expected shape \(B, 3, H, W\), got \(3, 32, 32\)"):
        detector(torch.zeros(3, 32, 32))
    with pytest.raises(ValueError, match=r"images: expected 3 channels in dim 1, got 1"):
        detector(torch.zeros(2, 1, 32, 32))
    with pytest.raises(TypeError, match=r"images: expected a floating-point tensor, got dtype torch.uint8"):
        detector.features(torch.zeros(2, 3, 32, 32, dtype=torch.uint8))


def test_pretrained_weights_come_from_a_local_file(tmp_path):
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(1)
    source = timm.create_model(BACKBONE, pretrained=False)  # with its classifier, as published weights are
    path = tmp_path / "weights.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))
    detector = AttributeDetector(backbone=BACKBONE, heads={"gender": 2}, pretrained=path, image_size=32)
    loaded = detector.backbone.state_dict()
    expected = source.state_dict()
    assert loaded and all(torch.equal(loaded[k], expected[k]) for k in loaded)


# ---- training and evaluation ------------------------------------------------------------------------------


def test_trains_to_high_accuracy_on_easy_data(trained):
    test_set = ColourCodedPeople(256, seed=1)
    accuracy = evaluate_detector(trained, test_set, batch_size=64)
    assert set(accuracy) == set(HEADS)
    assert all(value > 0.9 for value in accuracy.values()), accuracy
    assert not trained.training


def test_untrained_detector_is_near_chance():
    """The control for the test above: the same evaluation of random weights is far from 90%."""
    torch.manual_seed(0)
    detector = AttributeDetector(backbone=BACKBONE, heads=HEADS, image_size=32)
    accuracy = evaluate_detector(detector, ColourCodedPeople(256, seed=1), batch_size=64)
    assert min(accuracy.values()) < 0.6, accuracy


def test_evaluate_without_get_batch_uses_a_dataloader(trained):
    batched = evaluate_detector(trained, ColourCodedPeople(100, seed=2), batch_size=32)
    plain = evaluate_detector(trained, ColourCodedPeople(100, seed=2, batched=False), batch_size=32)
    assert plain == batched


def test_training_is_deterministic_and_works_without_get_batch():
    kwargs = dict(
        steps=3, batch_size=4, seed=5, image_size=32, progress=False, backbone=BACKBONE, heads=HEADS
    )
    state = torch.get_rng_state()
    first = train_detector(ColourCodedPeople(64), **kwargs)
    assert torch.equal(state, torch.get_rng_state())
    second = train_detector(ColourCodedPeople(64, batched=False), **kwargs)
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_train_errors():
    data = ColourCodedPeople(16)
    common = dict(image_size=32, progress=False, backbone=BACKBONE)
    with pytest.raises(
        ValueError, match=r"batch_size: expected at least 2 \(BatchNorm needs a batch\), got 1"
    ):
        train_detector(data, steps=1, batch_size=1, **common)
    with pytest.raises(ValueError, match=r"steps: expected a positive int, got 0"):
        train_detector(data, steps=0, **common)
    with pytest.raises(ValueError, match=r"lr: expected a positive float, got -1"):
        train_detector(data, steps=1, lr=-1, **common)
    with pytest.raises(ValueError, match=r"dataset: expected at least one sample, got an empty dataset"):
        train_detector(ColourCodedPeople(0), steps=1, **common)
    with pytest.raises(TypeError, match=r"dataset: expected a map-style dataset"):
        train_detector(42, steps=1, **common)
    with pytest.raises(ValueError, match=r"dataset: expected items with an attribute 'hat', got keys"):
        train_detector(data, steps=1, batch_size=2, heads={"hat": 2}, **common)
    with pytest.raises(ValueError, match=r"dataset\['category'\]: expected labels in \[0, 1\], got a label"):
        train_detector(data, steps=2, batch_size=8, heads={"category": 2}, **common)


# ---- features for the Frechet distance --------------------------------------------------------------------


def test_feature_extractor_feeds_frechet_metrics(trained):
    extractor = trained.feature_extractor()
    assert extractor.num_features == trained.num_features
    real = ColourCodedPeople(40, seed=3).get_batch(range(40))["image"].float() / 127.5 - 1
    other = ColourCodedPeople(40, seed=4).get_batch(range(40))["image"].float() / 127.5 - 1
    same = frechet_metrics(real, real, feature_extractor=extractor, batch_size=16, kid_subsets=3)
    shifted = frechet_metrics(real, other.flip(1), feature_extractor=extractor, batch_size=16, kid_subsets=3)
    assert abs(same["frechet"]) < 1e-3 * shifted["frechet"]
    assert not trained.training  # the metric's eval/restore left the detector in eval mode


# ---- save / load -------------------------------------------------------------------------------------------


def test_save_load_round_trip_is_exact(trained, tmp_path):
    folder = save_detector(trained, tmp_path / "detector")
    assert sorted(p.name for p in folder.iterdir()) == ["detector.json", "detector.safetensors"]
    config = json.loads((folder / "detector.json").read_text())
    assert config["backbone"] == BACKBONE and config["heads"] == HEADS and config["image_size"] == 32
    restored = load_detector(folder)
    assert not restored.training
    original, copy = trained.state_dict(), restored.state_dict()
    assert original.keys() == copy.keys()
    assert all(torch.equal(original[k], copy[k]) for k in original)
    images = torch.rand(4, 3, 32, 32) * 2 - 1
    for name, value in trained(images).items():
        assert torch.equal(value, restored(images)[name])


def test_load_errors(trained, tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"directory: expected detector.json from save_detector, got no file"
    ):
        load_detector(tmp_path / "missing")
    folder = save_detector(trained, tmp_path / "ok")
    (folder / "detector.json").write_text("{not json")
    with pytest.raises(
        ValueError, match=r"detector.json: expected JSON written by save_detector, got invalid"
    ):
        load_detector(folder)
    (folder / "detector.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match=r"detector.json: expected format 'fashion_gan.AttributeDetector'"):
        load_detector(folder)
    (folder / "detector.json").write_text(
        json.dumps({"format": "fashion_gan.AttributeDetector", "heads": {}})
    )
    with pytest.raises(ValueError, match=r"missing \['backbone', 'image_size', 'num_features'\]"):
        load_detector(folder)
    with pytest.raises(TypeError, match=r"detector: expected an AttributeDetector, got Linear"):
        save_detector(torch.nn.Linear(2, 2), tmp_path / "bad")


# ---- module hygiene ---------------------------------------------------------------------------------------


def test_docstring_examples_run():
    result = doctest.testmod(detectors_module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_importing_the_module_does_not_import_timm():
    check = "import sys, fashion_gan.evaluation.detectors; assert 'timm' not in sys.modules, 'timm imported'"
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
