"""Evaluation metrics: structure agreement, attribute accuracy, Frechet distance / KID on features, diversity.

Importing this package needs only torch (and kornia for SSIM diversity); torchmetrics is imported lazily
inside the Frechet functions and timm is never imported.
"""

from condgan.metrics.attributes import AttributeAccuracy, attribute_accuracy
from condgan.metrics.diversity import pairwise_diversity
from condgan.metrics.frechet import (
    INCEPTION_WEIGHTS_ENV,
    INCEPTION_WEIGHTS_FILE,
    INCEPTION_WEIGHTS_URL,
    FeatureFrechet,
    frechet_and_kid,
    frechet_metrics,
    inception_frechet,
)
from condgan.metrics.structure import constraint_agreement, per_class_iou, region_agreement

__all__ = [
    "AttributeAccuracy",
    "attribute_accuracy",
    "constraint_agreement",
    "region_agreement",
    "per_class_iou",
    "FeatureFrechet",
    "frechet_and_kid",
    "frechet_metrics",
    "inception_frechet",
    "INCEPTION_WEIGHTS_FILE",
    "INCEPTION_WEIGHTS_URL",
    "INCEPTION_WEIGHTS_ENV",
    "pairwise_diversity",
]
