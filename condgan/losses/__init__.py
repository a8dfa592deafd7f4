"""Losses of conditional GANs as functions of logits, with ``nn.Module`` wrappers.

A loss never owns an optimizer or a network: the training step computes logits and hands them here.
"""

from condgan.losses.adversarial import (
    ADVERSARIAL_KINDS,
    DiscriminatorLoss,
    GeneratorLoss,
    d_fake_loss,
    d_loss,
    d_real_loss,
    g_loss,
)
from condgan.losses.auxiliary import AuxiliaryClassificationLoss, auxiliary_classification_loss
from condgan.losses.matching_aware import (
    MatchingAwareDLoss,
    MatchingAwareLoss,
    derangement,
    matching_aware_d_loss,
    split_logits,
)
from condgan.losses.reconstruction import (
    L1Reconstruction,
    SegmentationCrossEntropy,
    l1_reconstruction,
    segmentation_cross_entropy,
)
from condgan.losses.regularizers import R1Penalty, r1_penalty

__all__ = [
    "ADVERSARIAL_KINDS",
    "d_real_loss",
    "d_fake_loss",
    "d_loss",
    "g_loss",
    "DiscriminatorLoss",
    "GeneratorLoss",
    "matching_aware_d_loss",
    "MatchingAwareLoss",
    "MatchingAwareDLoss",
    "derangement",
    "split_logits",
    "r1_penalty",
    "R1Penalty",
    "segmentation_cross_entropy",
    "l1_reconstruction",
    "SegmentationCrossEntropy",
    "L1Reconstruction",
    "auxiliary_classification_loss",
    "AuxiliaryClassificationLoss",
]
