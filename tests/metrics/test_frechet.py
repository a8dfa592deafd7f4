"""Tests for condgan.metrics.frechet: Frechet distance and KID on given features (torchmetrics underneath)."""

import importlib.util
import os

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

from condgan.metrics import (
    INCEPTION_WEIGHTS_ENV,
    INCEPTION_WEIGHTS_FILE,
    FeatureFrechet,
    frechet_and_kid,
    frechet_metrics,
    inception_frechet,
)


def gaussian(n: int, mean, cov, seed: int, *, exact: bool = False) -> torch.Tensor:
    """Samples of N(mean, cov); with ``exact`` the SAMPLE mean and (unbiased) covariance equal them."""
    gen = torch.Generator().manual_seed(seed)
    mean = torch.as_tensor(mean, dtype=torch.float64)
    cov = torch.as_tensor(cov, dtype=torch.float64)
    x = torch.randn(n, mean.numel(), generator=gen, dtype=torch.float64)
    if exact:
        x = x - x.mean(0)
        whiten = torch.linalg.cholesky(torch.cov(x.T))
        x = torch.linalg.solve_triangular(whiten, x.T, upper=False).T  # now cov(x) = I exactly
    return mean + x @ torch.linalg.cholesky(cov).T


def analytic_frechet(mu1, s1, mu2, s2) -> float:
    mu1, s1, mu2, s2 = (np.asarray(v, dtype=np.float64) for v in (mu1, s1, mu2, s2))
    root = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * root))


def unbiased_poly_mmd(x: torch.Tensor, y: torch.Tensor) -> float:
    """KID by hand: unbiased MMD^2 with k(a, b) = (a.b / D + 1)^3."""
    d = x.shape[1]
    k = lambda a, b: (a @ b.T / d + 1) ** 3
    m, n = x.shape[0], y.shape[0]
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    return float(
        (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
        + (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
        - 2 * kxy.mean()
    )


MU1, MU2 = [0.0, 1.0, -1.0], [2.0, 0.0, 0.5]
COV1 = [[1.0, 0.3, 0.0], [0.3, 2.0, 0.4], [0.0, 0.4, 0.5]]
COV2 = [[2.0, -0.2, 0.1], [-0.2, 1.0, 0.0], [0.1, 0.0, 3.0]]


def test_identical_sets_give_zero():
    x = gaussian(300, MU1, COV1, seed=0).float()
    scores = frechet_and_kid(x, x, kid_subsets=10)
    assert abs(scores["frechet"]) < 1e-6
    assert scores["num_real"] == scores["num_fake"] == 300
    # KID is an unbiased estimator for INDEPENDENT sets; on one set against itself it is
    # 2 / (m - 1) * (mean k(x, y) - mean k(x, x)) <= 0 (Jensen), not 0: see the sampled test for ~0.
    assert scores["kid_mean"] <= 0


def test_exact_moments_give_the_analytic_frechet_distance():
    real = gaussian(500, MU1, COV1, seed=1, exact=True)
    fake = gaussian(400, MU2, COV2, seed=2, exact=True)
    expected = analytic_frechet(MU1, COV1, MU2, COV2)
    assert frechet_and_kid(real, fake, kid_subsets=2)["frechet"] == pytest.approx(expected, rel=1e-6)


def test_sampled_shifted_gaussians_approach_the_analytic_value():
    real = gaussian(20_000, MU1, COV1, seed=3)
    fake = gaussian(20_000, MU2, COV2, seed=4)
    expected = analytic_frechet(MU1, COV1, MU2, COV2)
    got = frechet_and_kid(real, fake, kid_subset_size=500, kid_subsets=5)
    assert got["frechet"] == pytest.approx(expected, rel=0.03)
    # the same distribution on both sides is far closer than the shifted one
    same = frechet_and_kid(real[:10_000], real[10_000:], kid_subset_size=500, kid_subsets=5)
    assert same["frechet"] < 0.01 * got["frechet"]
    assert abs(same["kid_mean"]) < 0.1 * got["kid_mean"]


def test_kid_matches_the_unbiased_mmd_by_hand():
    real = gaussian(60, MU1, COV1, seed=5)
    fake = gaussian(50, MU2, COV2, seed=6)
    # one subset holding every sample: the subset draw cannot change the value
    got = frechet_and_kid(real[:50], fake, kid_subset_size=50, kid_subsets=1)
    assert got["kid_mean"] == pytest.approx(unbiased_poly_mmd(real[:50], fake), rel=1e-9)
    assert got["kid_std"] == 0.0


def test_kid_is_seeded_and_leaves_the_global_rng_alone():
    real, fake = gaussian(80, MU1, COV1, seed=7), gaussian(80, MU2, COV2, seed=8)
    state = torch.get_rng_state()
    first = frechet_and_kid(real, fake, kid_subset_size=20, kid_subsets=5, seed=3)
    assert torch.equal(state, torch.get_rng_state())
    assert frechet_and_kid(real, fake, kid_subset_size=20, kid_subsets=5, seed=3) == first
    assert (
        frechet_and_kid(real, fake, kid_subset_size=20, kid_subsets=5, seed=4)["kid_mean"]
        != first["kid_mean"]
    )


def test_streaming_updates_equal_one_shot():
    real, fake = gaussian(90, MU1, COV1, seed=9), gaussian(70, MU2, COV2, seed=10)
    metric = FeatureFrechet(kid_subset_size=30, kid_subsets=4)
    for chunk in real.split(17):
        metric.update(chunk, real=True)
    for chunk in fake.split(13):
        metric.update(chunk, real=False)
    one_shot = frechet_and_kid(real, fake, kid_subset_size=30, kid_subsets=4)
    streamed = metric.compute()
    assert streamed["frechet"] == pytest.approx(one_shot["frechet"], rel=1e-9)
    assert streamed["kid_mean"] == pytest.approx(one_shot["kid_mean"], rel=1e-9)


def test_reset_keeps_the_real_set_when_asked():
    real, fake1, fake2 = gaussian(50, MU1, COV1, 11), gaussian(50, MU2, COV2, 12), gaussian(50, MU1, COV2, 13)
    metric = FeatureFrechet(kid_subsets=3)
    metric.update(real, real=True)
    metric.update(fake1, real=False)
    metric.compute()
    metric.reset(keep_real=True)
    metric.update(fake2, real=False)
    assert metric.compute() == frechet_and_kid(real, fake2, kid_subsets=3)
    metric.reset()
    metric.update(fake2, real=False)
    with pytest.raises(
        ValueError, match=r"expected at least 2 real and 2 generated samples, got 0 real and 50"
    ):
        metric.compute()


class Extractor(nn.Module):
    """A fixed random projection of flattened images, with dropout so that eval mode matters."""

    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)
        self.proj = nn.Linear(3 * 8 * 8, 5)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.proj(self.drop(x.flatten(1)))


def test_frechet_metrics_runs_the_extractor_once_per_batch_in_eval_mode():
    torch.manual_seed(0)
    extractor = Extractor().train()
    gen = torch.Generator().manual_seed(1)
    real = torch.rand(30, 3, 8, 8, generator=gen) * 2 - 1
    fake = torch.rand(20, 3, 8, 8, generator=gen) * 2 - 1
    got = frechet_metrics(real, fake, feature_extractor=extractor, batch_size=8, kid_subsets=3)
    assert extractor.training and extractor.calls == 4 + 3  # mode restored; ceil(30/8) + ceil(20/8) calls
    with torch.no_grad():
        extractor.eval()
        expected = frechet_and_kid(extractor(real), extractor(fake), kid_subsets=3)
    assert got["frechet"] == pytest.approx(expected["frechet"], rel=1e-5)
    assert got["kid_mean"] == pytest.approx(expected["kid_mean"], rel=1e-4, abs=1e-7)
    same = frechet_metrics(real, real, feature_extractor=extractor, batch_size=64, kid_subsets=3)
    assert abs(same["frechet"]) < 1e-5


def test_torchmetrics_custom_feature_protocol_agrees():
    """Our numbers equal torchmetrics' FID with the extractor passed directly as ``feature=``."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    torch.manual_seed(0)
    extractor = Extractor().eval()
    extractor.num_features = 5
    gen = torch.Generator().manual_seed(2)
    real, fake = torch.rand(40, 3, 8, 8, generator=gen), torch.rand(40, 3, 8, 8, generator=gen) * 0.5
    fid = FrechetInceptionDistance(feature=extractor, normalize=True)
    fid.update(real, real=True)
    fid.update(fake, real=False)
    ours = frechet_metrics(real, fake, feature_extractor=extractor, kid_subsets=2)["frechet"]
    assert ours == pytest.approx(float(fid.compute()), rel=1e-4)


def test_feature_errors():
    x = gaussian(10, MU1, COV1, seed=0)
    with pytest.raises(ValueError, match=r"real_features: expected shape \(N, D\), got \(10, 3, 1\)"):
        frechet_and_kid(x[..., None], x)
    with pytest.raises(
        TypeError, match=r"fake_features: expected a floating-point tensor, got dtype torch.int64"
    ):
        frechet_and_kid(x, x.long())
    with pytest.raises(ValueError, match=r"fake_features: expected dimension D=3 like real_features, got 2"):
        frechet_and_kid(x, x[:, :2])
    with pytest.raises(
        ValueError, match=r"real_features: expected at least 2 samples \(rows\) for a covariance, got 1"
    ):
        frechet_and_kid(x[:1], x)
    bad = x.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"fake_features: expected finite features, got NaN or inf values"):
        frechet_and_kid(x, bad)
    with pytest.raises(
        ValueError, match=r"kid_subset_size: expected at most the smaller set size 10, got 20"
    ):
        frechet_and_kid(x, x, kid_subset_size=20)
    with pytest.raises(ValueError, match=r"kid_subset_size: expected at least 2, got 1"):
        frechet_and_kid(x, x, kid_subset_size=1)
    with pytest.raises(TypeError, match=r"kid_subsets: expected a positive int, got float"):
        frechet_and_kid(x, x, kid_subsets=2.0)
    metric = FeatureFrechet()
    metric.update(x, real=True)
    with pytest.raises(ValueError, match=r"features: expected dimension D=3 as in earlier updates, got 2"):
        metric.update(x[:, :2], real=False)
    with pytest.raises(TypeError, match=r"real: expected a bool, got int"):
        metric.update(x, real=1)


def test_extractor_errors():
    images = torch.rand(4, 3, 8, 8)
    with pytest.raises(
        TypeError, match=r"feature_extractor: expected an nn.Module mapping images to \(N, D\), got"
    ):
        frechet_metrics(images, images, feature_extractor=lambda x: x.flatten(1))
    with pytest.raises(
        ValueError, match=r"feature_extractor: expected it to return \(N, D\) features, got \(4, 3, 64\)"
    ):
        frechet_metrics(images, images, feature_extractor=nn.Flatten(2))
    with pytest.raises(ValueError, match=r"real_images: expected a batch of at least 2 images"):
        frechet_metrics(images[:1], images, feature_extractor=nn.Flatten())
    with pytest.raises(ValueError, match=r"batch_size: expected a positive int, got 0"):
        frechet_metrics(images, images, feature_extractor=nn.Flatten(), batch_size=0)


@pytest.mark.skipif(
    importlib.util.find_spec("torch_fidelity") is not None, reason="torch-fidelity is installed"
)
def test_inception_frechet_without_torch_fidelity_says_what_to_install():
    images = torch.zeros(4, 3, 8, 8, dtype=torch.uint8)
    with pytest.raises(
        ModuleNotFoundError, match=r"expected the torch-fidelity package \(pip install torch-fidelity\)"
    ):
        inception_frechet(images, images)


def test_inception_frechet_without_weights_names_the_file(monkeypatch, tmp_path):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "torch_fidelity" else real_find_spec(name, *a),
    )
    monkeypatch.delenv(INCEPTION_WEIGHTS_ENV, raising=False)
    images = torch.zeros(4, 3, 8, 8, dtype=torch.uint8)
    with pytest.raises(
        FileNotFoundError,
        match=rf"weights_path: expected the FID Inception weights file {INCEPTION_WEIGHTS_FILE}",
    ):
        inception_frechet(images, images)
    missing = tmp_path / INCEPTION_WEIGHTS_FILE
    with pytest.raises(
        FileNotFoundError, match=r"got '.*weights-inception-2015-12-05-6726825d.pth' which does not exist"
    ):
        inception_frechet(images, images, weights_path=missing)
    monkeypatch.setenv(INCEPTION_WEIGHTS_ENV, os.fspath(missing))
    with pytest.raises(FileNotFoundError, match=r"which does not exist"):
        inception_frechet(images, images)
