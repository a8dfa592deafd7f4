"""Conditional generators, discriminators, the projection head, the attribute classifier (AC-GAN) and the
two-stage pipeline.

All networks take keyword-only configuration with sizes as parameters; the official FashionGAN networks are
assembled from them in ``fashion_gan.official_nets``. Discriminators return logits (no sigmoid).
"""

from condgan.nets.attribute_classifier import AttributeClassifier, DiscriminatorWithClassifier
from condgan.nets.conditional_discriminator import DISCRIMINATOR_HEADS, ConditionalDiscriminator
from condgan.nets.conditional_generator import GENERATOR_OUTPUTS, ConditionalGenerator
from condgan.nets.patch_discriminator import PatchDiscriminator
from condgan.nets.projection import PROJECTION_POOLS, ProjectionHead
from condgan.nets.stacked import StackedOutput, StackedPipeline
from condgan.nets.unet_generator import UNetGenerator

__all__ = [
    "ConditionalGenerator",
    "UNetGenerator",
    "ConditionalDiscriminator",
    "PatchDiscriminator",
    "ProjectionHead",
    "AttributeClassifier",
    "DiscriminatorWithClassifier",
    "StackedPipeline",
    "StackedOutput",
    "GENERATOR_OUTPUTS",
    "DISCRIMINATOR_HEADS",
    "PROJECTION_POOLS",
]
