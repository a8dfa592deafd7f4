"""Frechet distance and KID between two sets of features (torchmetrics does the statistics).

Read the names carefully: these are **Frechet distances on the features you give**, e.g. the pooled features
of FashionGAN's attribute detector. They are *not* FID unless the features are the 2048-d pool features of the
TF-ported Inception-v3 that FID is defined with; only
[`inception_frechet`][condgan.metrics.frechet.inception_frechet] computes those, and only when that network's
weights are already on disk (condgan never downloads anything).

``FD = ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2))`` (means ``mu``, covariances ``S``);
``KID = MMD^2_unbiased`` with the polynomial kernel ``k(x, y) = (x.y / D + 1)^3``, averaged over random
subsets.

torchmetrics' ``FrechetInceptionDistance`` and ``KernelInceptionDistance`` accept any ``nn.Module`` as
``feature`` (it must map a batch to ``(N, D)``; its ``num_features`` attribute gives ``D``). Here the features
are computed once per batch (by the caller's extractor, or given directly) and passed to both metrics through
a pass-through module, so the extractor never runs twice. torchmetrics is imported lazily:
``import condgan.metrics`` needs neither torchmetrics nor timm.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from condgan._checks import check_floating, check_positive_int, check_rank, check_tensor

__all__ = [
    "FeatureFrechet",
    "frechet_and_kid",
    "frechet_metrics",
    "inception_frechet",
    "INCEPTION_WEIGHTS_FILE",
    "INCEPTION_WEIGHTS_URL",
    "INCEPTION_WEIGHTS_ENV",
]

#: The file torch-fidelity (and so torchmetrics' FID) would download for the FID Inception-v3.
INCEPTION_WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
#: Where that file is published; fetch it yourself, once, outside condgan.
INCEPTION_WEIGHTS_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
#: Environment variable consulted by [`inception_frechet`][condgan.metrics.frechet.inception_frechet] when
#: ``weights_path`` is not given.
INCEPTION_WEIGHTS_ENV = "CONDGAN_INCEPTION_WEIGHTS"

_DEFAULT_KID_SUBSET = 1000


class _PassThrough(nn.Module):
    """torchmetrics' custom-feature protocol on features that are already computed: ``(N, D) -> (N, D)``."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def _check_features(name: str, features: object) -> torch.Tensor:
    check_rank(name, features, 2, "(N, D)")
    check_floating(name, features)
    if features.shape[0] < 2:
        raise ValueError(
            f"{name}: expected at least 2 samples (rows) for a covariance, got {features.shape[0]}"
        )
    if not bool(torch.isfinite(features).all()):
        raise ValueError(f"{name}: expected finite features, got NaN or inf values")
    return features


class FeatureFrechet:
    """Streaming Frechet distance and KID on features (or on images through ``feature_extractor``).

    Call ``update(x, real=True)`` for the real set and ``update(x, real=False)`` for the generated set, in any
    number of batches, then ``compute()``. Statistics are accumulated in float64 by torchmetrics.

    Args:
        feature_extractor: optional module mapping a batch of images to ``(N, D)`` features; it is run in eval
            mode without gradients. ``None``: ``update`` takes ``(N, D)`` features directly.
        kid_subset_size: samples per KID subset; ``None`` uses ``min(1000, N_real, N_fake)`` at compute time.
        kid_subsets: number of random KID subsets.
        seed: seed of the KID subset draws (the result is deterministic; the global RNG is left untouched).

    Examples:
        >>> metric = FeatureFrechet(kid_subsets=10)
        >>> gen = torch.Generator().manual_seed(0)
        >>> metric.update(torch.randn(200, 4, generator=gen), real=True)
        >>> metric.update(torch.randn(200, 4, generator=gen) + 3.0, real=False)
        >>> scores = metric.compute()
        >>> sorted(scores), 34.0 < scores["frechet"] < 38.0
        (['frechet', 'kid_mean', 'kid_std', 'num_fake', 'num_real'], True)
    """

    def __init__(
        self,
        *,
        feature_extractor: nn.Module | None = None,
        kid_subset_size: int | None = None,
        kid_subsets: int = 100,
        seed: int = 0,
    ) -> None:
        if feature_extractor is not None and not isinstance(feature_extractor, nn.Module):
            raise TypeError(
                f"feature_extractor: expected an nn.Module mapping images to (N, D), "
                f"got {type(feature_extractor).__name__}"
            )
        if kid_subset_size is not None:
            check_positive_int("kid_subset_size", kid_subset_size)
            if kid_subset_size < 2:
                raise ValueError(f"kid_subset_size: expected at least 2, got {kid_subset_size}")
        check_positive_int("kid_subsets", kid_subsets)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
        self.feature_extractor = feature_extractor
        self.kid_subset_size = kid_subset_size
        self.kid_subsets = kid_subsets
        self.seed = seed
        self._fid = None
        self._features: dict[bool, list[torch.Tensor]] = {True: [], False: []}
        self._num_features: int | None = None

    def reset(self, *, keep_real: bool = False) -> None:
        """Forget the generated set, and the real set too unless ``keep_real`` (to score many checkpoints)."""
        self._features[False] = []
        if not keep_real:
            self._features[True] = []
        if self._fid is not None:
            self._fid.reset()  # built with reset_real_features=False: keeps the real statistics
            if not keep_real:
                self._fid = None
                self._num_features = None

    @torch.no_grad()
    def _extract(self, x: torch.Tensor) -> torch.Tensor:
        extractor = self.feature_extractor
        was_training = extractor.training
        extractor.eval()
        try:
            features = extractor(x)
        finally:
            extractor.train(was_training)
        if not isinstance(features, torch.Tensor) or features.ndim != 2:
            got = tuple(features.shape) if isinstance(features, torch.Tensor) else type(features).__name__
            raise ValueError(f"feature_extractor: expected it to return (N, D) features, got {got}")
        if features.shape[0] != x.shape[0]:
            raise ValueError(
                f"feature_extractor: expected one feature row per image ({x.shape[0]}), "
                f"got {features.shape[0]}"
            )
        return features

    def update(self, x: torch.Tensor, *, real: bool) -> None:
        """Add a batch of images (with a ``feature_extractor``) or ``(N, D)`` float features to one set."""
        if not isinstance(real, bool):
            raise TypeError(f"real: expected a bool, got {type(real).__name__}")
        check_tensor("x", x)
        features = self._extract(x) if self.feature_extractor is not None else x
        check_rank("features" if self.feature_extractor is not None else "x", features, 2, "(N, D)")
        check_floating("features" if self.feature_extractor is not None else "x", features)
        features = features.detach().to(torch.float64)
        if self._num_features is None:
            self._num_features = features.shape[1]
            self._fid = _make_fid(self._num_features).to(features.device)
        elif features.shape[1] != self._num_features:
            raise ValueError(
                f"features: expected dimension D={self._num_features} as in earlier updates, "
                f"got {features.shape[1]}"
            )
        if not bool(torch.isfinite(features).all()):
            raise ValueError("features: expected finite features, got NaN or inf values")
        features = features.to(self._fid.real_features_sum.device)
        self._fid.update(features, real=real)
        self._features[real].append(features)

    def compute(self) -> dict[str, float]:
        """Return ``{"frechet", "kid_mean", "kid_std", "num_real", "num_fake"}`` for the sets seen so far."""
        num_real = sum(f.shape[0] for f in self._features[True])
        num_fake = sum(f.shape[0] for f in self._features[False])
        if num_real < 2 or num_fake < 2:
            raise ValueError(
                f"FeatureFrechet.compute: expected at least 2 real and 2 generated samples, "
                f"got {num_real} real and {num_fake} generated"
            )
        subset = self.kid_subset_size or min(_DEFAULT_KID_SUBSET, num_real, num_fake)
        if subset > min(num_real, num_fake):
            raise ValueError(
                f"kid_subset_size: expected at most the smaller set size {min(num_real, num_fake)}, "
                f"got {subset}"
            )
        frechet = float(self._fid.compute())
        kid = _make_kid(self._num_features, subset, self.kid_subsets)
        kid.update(torch.cat(self._features[True]), real=True)
        kid.update(torch.cat(self._features[False]), real=False)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            kid_mean, kid_std = kid.compute()
        return {
            "frechet": frechet,
            "kid_mean": float(kid_mean),
            "kid_std": float(kid_std),
            "num_real": num_real,
            "num_fake": num_fake,
        }


def _make_fid(num_features: int):
    from torchmetrics.image.fid import FrechetInceptionDistance

    return FrechetInceptionDistance(feature=_PassThrough(num_features), reset_real_features=False)


def _make_kid(num_features: int, subset_size: int, subsets: int):
    from torchmetrics.image.kid import KernelInceptionDistance

    with warnings.catch_warnings():  # "will save all extracted features in buffer": known and intended here
        warnings.filterwarnings("ignore", message=".*save all extracted features.*")
        return KernelInceptionDistance(
            feature=_PassThrough(num_features), subset_size=subset_size, subsets=subsets
        )


def frechet_and_kid(
    real_features: torch.Tensor,
    fake_features: torch.Tensor,
    *,
    kid_subset_size: int | None = None,
    kid_subsets: int = 100,
    seed: int = 0,
) -> dict[str, float]:
    """Frechet distance and KID between two feature sets (not FID unless these are FID-Inception features).

    ``FD = ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2))``; KID is the unbiased polynomial-kernel
    MMD^2 averaged over ``kid_subsets`` random subsets of ``kid_subset_size`` samples per set. With fewer
    samples than dimensions the covariances are rank-deficient and FD is biased upwards: compare numbers only
    at equal ``N``.

    Args:
        real_features: ``(N, D)`` float features of real images, ``N >= 2``.
        fake_features: ``(M, D)`` float features of generated images, ``M >= 2``.
        kid_subset_size: samples per KID subset; ``None`` uses ``min(1000, N, M)``.
        kid_subsets: number of KID subsets.
        seed: seed of the KID subset draws.

    Returns:
        ``{"frechet", "kid_mean", "kid_std", "num_real", "num_fake"}``.

    Raises:
        TypeError: features are not floating tensors.
        ValueError: wrong rank, different ``D``, fewer than 2 rows, non-finite values, subset larger than a
            set.

    Examples:
        >>> x = torch.randn(64, 8, generator=torch.Generator().manual_seed(0))
        >>> scores = frechet_and_kid(x, x, kid_subsets=5)
        >>> abs(scores["frechet"]) < 1e-6
        True
    """
    _check_features("real_features", real_features)
    _check_features("fake_features", fake_features)
    if real_features.shape[1] != fake_features.shape[1]:
        raise ValueError(
            f"fake_features: expected dimension D={real_features.shape[1]} like real_features, "
            f"got {fake_features.shape[1]}"
        )
    metric = FeatureFrechet(kid_subset_size=kid_subset_size, kid_subsets=kid_subsets, seed=seed)
    metric.update(real_features, real=True)
    metric.update(fake_features, real=False)
    return metric.compute()


def frechet_metrics(
    real_images: torch.Tensor,
    fake_images: torch.Tensor,
    *,
    feature_extractor: nn.Module,
    batch_size: int = 64,
    kid_subset_size: int | None = None,
    kid_subsets: int = 100,
    seed: int = 0,
) -> dict[str, float]:
    """Frechet distance and KID on the features of ``feature_extractor`` (e.g. an attribute detector).

    This is "Frechet distance on the detector's features", **not FID**: FID fixes the extractor to the
    TF-ported Inception-v3 ([`inception_frechet`][condgan.metrics.frechet.inception_frechet]). Values depend
    on the extractor and on the sample sizes.

    Args:
        real_images: ``(N, ...)`` batch of real images in whatever form the extractor takes (the library's
            float ``[-1, 1]`` ``(N, 3, H, W)`` for condgan/fashion_gan modules).
        fake_images: ``(M, ...)`` batch of generated images, same form.
        feature_extractor: ``nn.Module`` mapping a batch to ``(n, D)`` features; run in eval mode, no
            gradients, ``batch_size`` images at a time, on the device the images are on.
        batch_size: images per extractor call.
        kid_subset_size: as in [`frechet_and_kid`][condgan.metrics.frechet.frechet_and_kid].
        kid_subsets: as in [`frechet_and_kid`][condgan.metrics.frechet.frechet_and_kid].
        seed: as in [`frechet_and_kid`][condgan.metrics.frechet.frechet_and_kid].

    Returns:
        ``{"frechet", "kid_mean", "kid_std", "num_real", "num_fake"}``.

    Raises:
        TypeError: an image batch is not a tensor, or the extractor is not an ``nn.Module``.
        ValueError: fewer than 2 images in a set, or the extractor does not return ``(n, D)``.

    Examples:
        >>> extractor = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 6))
        >>> images = torch.rand(20, 3, 4, 4) * 2 - 1
        >>> scores = frechet_metrics(images, images, feature_extractor=extractor, batch_size=8, kid_subsets=3)
        >>> scores["num_real"], abs(scores["frechet"]) < 1e-4
        (20, True)
    """
    if not isinstance(feature_extractor, nn.Module):
        raise TypeError(
            f"feature_extractor: expected an nn.Module mapping images to (N, D), "
            f"got {type(feature_extractor).__name__}"
        )
    check_positive_int("batch_size", batch_size)
    for name, images in (("real_images", real_images), ("fake_images", fake_images)):
        check_tensor(name, images)
        if images.ndim < 2 or images.shape[0] < 2:
            raise ValueError(
                f"{name}: expected a batch of at least 2 images (N, ...), got {tuple(images.shape)}"
            )
    metric = FeatureFrechet(
        feature_extractor=feature_extractor,
        kid_subset_size=kid_subset_size,
        kid_subsets=kid_subsets,
        seed=seed,
    )
    for images, real in ((real_images, True), (fake_images, False)):
        for chunk in images.split(batch_size):
            metric.update(chunk, real=real)
    return metric.compute()


def _to_uint8(name: str, images: torch.Tensor) -> torch.Tensor:
    check_rank(name, images, 4, "(N, 3, H, W)")
    if images.shape[1] != 3:
        raise ValueError(
            f"{name}: expected 3 channels in dim 1, got {images.shape[1]} (shape {tuple(images.shape)})"
        )
    if images.dtype == torch.uint8:
        return images
    check_floating(name, images)
    return ((images.float().clamp(-1.0, 1.0) + 1.0) * 127.5).round().to(torch.uint8)


def inception_frechet(
    real_images: torch.Tensor,
    fake_images: torch.Tensor,
    *,
    weights_path: str | os.PathLike | None = None,
    batch_size: int = 32,
    kid_subset_size: int | None = None,
    kid_subsets: int = 100,
    seed: int = 0,
) -> dict[str, float]:
    """FID and KID proper: Frechet distance / KID on the 2048-d pool features of the FID Inception-v3.

    Uses torchmetrics' ``NoTrainInceptionV3`` (the torch-fidelity port of the TF Inception, inputs resized to
    299 px) built from a **local** weights file, never a download. Needs the ``torch-fidelity`` package and
    the file `INCEPTION_WEIGHTS_FILE` (from `INCEPTION_WEIGHTS_URL`), passed as ``weights_path``
    or through the ``CONDGAN_INCEPTION_WEIGHTS`` environment variable. Slow on a CPU (an Inception pass per
    image at 299 px).

    Args:
        real_images: ``(N, 3, H, W)`` uint8 ``[0, 255]`` or float ``[-1, 1]`` images.
        fake_images: ``(M, 3, H, W)`` images, same convention.
        weights_path: path of the Inception weights file; ``None`` reads ``$CONDGAN_INCEPTION_WEIGHTS``.
        batch_size: images per Inception call.
        kid_subset_size: as in [`frechet_and_kid`][condgan.metrics.frechet.frechet_and_kid].
        kid_subsets: as in [`frechet_and_kid`][condgan.metrics.frechet.frechet_and_kid].
        seed: as in [`frechet_and_kid`][condgan.metrics.frechet.frechet_and_kid].

    Returns:
        ``{"frechet", "kid_mean", "kid_std", "num_real", "num_fake"}`` where ``frechet`` is the FID.

    Raises:
        ModuleNotFoundError: ``torch-fidelity`` is not installed.
        FileNotFoundError: no weights file given, or the file does not exist (the message names the file
            needed).
        ValueError / TypeError: bad image batches.
    """
    if importlib.util.find_spec("torch_fidelity") is None:
        raise ModuleNotFoundError(
            "inception_frechet: expected the torch-fidelity package (pip install torch-fidelity) for the FID "
            "Inception-v3, got none installed; frechet_metrics(..., feature_extractor=...) needs no extra "
            "package"
        )
    path = weights_path if weights_path is not None else os.environ.get(INCEPTION_WEIGHTS_ENV)
    if path is None:
        raise FileNotFoundError(
            f"weights_path: expected the FID Inception weights file {INCEPTION_WEIGHTS_FILE} (download it "
            f"yourself from {INCEPTION_WEIGHTS_URL}; condgan never downloads), got neither weights_path nor "
            f"${INCEPTION_WEIGHTS_ENV}"
        )
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"weights_path: expected an existing file {INCEPTION_WEIGHTS_FILE} "
            f"(from {INCEPTION_WEIGHTS_URL}), "
            f"got {str(path)!r} which does not exist"
        )
    real = _to_uint8("real_images", real_images)
    fake = _to_uint8("fake_images", fake_images)
    from torchmetrics.image.fid import NoTrainInceptionV3

    inception = NoTrainInceptionV3(
        name="inception-v3-compat", features_list=["2048"], feature_extractor_weights_path=str(path)
    ).to(real.device)
    return frechet_metrics(
        real,
        fake,
        feature_extractor=inception,
        batch_size=batch_size,
        kid_subset_size=kid_subset_size,
        kid_subsets=kid_subsets,
        seed=seed,
    )
