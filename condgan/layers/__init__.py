"""condgan's layers: one concept per file, each a function plus an ``nn.Module`` with keyword-only config.

- [`label_maps`][condgan.layers.label_maps]: one-hot encoding and class merging (FashionGAN 7 -> 4, ATR 18 ->
  7).
- [`label_edges`][condgan.layers.label_edges]: the band where two classes of a label map meet.
- [`spatial_constraint`][condgan.layers.spatial_constraint]: the paper's ``down-m(S0)`` soft masks.
- [`conditioning`][condgan.layers.conditioning]: tile a code over a feature map and concatenate; the design
  code.
- [`film`][condgan.layers.film]: feature-wise linear modulation, a code scaling and shifting each channel.
- [`compositional`][condgan.layers.compositional]: the compositional mapping layer ``I = sum_k S_k * T_k``.
- [`region_keep`][condgan.layers.region_keep]: keep a source's regions (hair, face) in a generated
  segmentation.
- [`seg_encoding`][condgan.layers.seg_encoding]: the official stage-2 condition (colour code, blur, offset).
- [`create_norm`][condgan.layers.create_norm] / [`create_act`][condgan.layers.create_act]: the norm and
  activation factories behind every block's ``norm=`` and ``act=``.
- [`conv_norm_act`][condgan.layers.conv_norm_act]: ``ConvNormAct`` and the DCGAN down / up / 3x3 blocks.
- [`unet`][condgan.layers.unet]: the pix2pix U-Net encoder and decoder halves.
- [`weight_init`][condgan.layers.weight_init]: the DCGAN initialisation of the official networks.

Importing this package needs only torch and einops: kornia is imported when a blur is computed.
"""

from condgan.layers.compositional import MASK_KINDS, CompositionalMapping, blur_masks, compose_regions
from condgan.layers.conditioning import DesignCode, TileConcat, assemble_design_code, concat_code, tile_code
from condgan.layers.conv_norm_act import Conv3x3Block, ConvNormAct, DownBlock, UpBlock
from condgan.layers.create_act import get_activation
from condgan.layers.create_norm import get_norm_layer
from condgan.layers.film import FiLM, film
from condgan.layers.label_edges import class_boundary
from condgan.layers.label_maps import (
    ATR_18_TO_7,
    ATR_LABELS,
    FASHIONGAN_7_TO_4,
    FASHIONGAN_LABELS,
    FASHIONGAN_MERGED,
    MergeLabels,
    OneHotLabels,
    merge_labels,
    merge_probabilities,
    one_hot_labels,
)
from condgan.layers.label_sets import (
    DEEPFASHION_MM_24_TO_7,
    DEEPFASHION_MM_LABELS,
    LIP_20_TO_7,
    LIP_LABELS,
    deepfashion_mm_to_fashiongan,
)
from condgan.layers.region_colors import RegionColors, add_region_colors
from condgan.layers.region_keep import KEEP_MASK_KINDS, KeepSourceRegions, keep_source_regions
from condgan.layers.seg_encoding import (
    BORDER_TYPES,
    OFFICIAL_BLUR_KERNEL,
    OFFICIAL_PALETTE,
    ColorCodeEncoding,
    color_code_segmentation,
)
from condgan.layers.spatial_constraint import SPATIAL_CONSTRAINT_MODES, SpatialConstraint, spatial_constraint
from condgan.layers.unet import UNetDecoder, UNetEncoder, unet_channels
from condgan.layers.weight_init import init_weights

__all__ = [
    # label_maps
    "FASHIONGAN_LABELS",
    "FASHIONGAN_MERGED",
    "FASHIONGAN_7_TO_4",
    "ATR_LABELS",
    "ATR_18_TO_7",
    "one_hot_labels",
    "merge_labels",
    "merge_probabilities",
    "OneHotLabels",
    "MergeLabels",
    # label_edges
    "class_boundary",
    # spatial_constraint
    "SPATIAL_CONSTRAINT_MODES",
    "spatial_constraint",
    "SpatialConstraint",
    # conditioning
    "tile_code",
    "concat_code",
    "TileConcat",
    "assemble_design_code",
    "DesignCode",
    # film
    "film",
    "FiLM",
    # compositional
    "MASK_KINDS",
    "compose_regions",
    "blur_masks",
    "CompositionalMapping",
    # label_sets
    "LIP_LABELS",
    "LIP_20_TO_7",
    "DEEPFASHION_MM_LABELS",
    "DEEPFASHION_MM_24_TO_7",
    "deepfashion_mm_to_fashiongan",
    # region_colors
    "RegionColors",
    "add_region_colors",
    # region_keep
    "KEEP_MASK_KINDS",
    "keep_source_regions",
    "KeepSourceRegions",
    # seg_encoding
    "OFFICIAL_PALETTE",
    "OFFICIAL_BLUR_KERNEL",
    "BORDER_TYPES",
    "color_code_segmentation",
    "ColorCodeEncoding",
    # create_norm, create_act
    "get_norm_layer",
    "get_activation",
    # conv_norm_act
    "ConvNormAct",
    "DownBlock",
    "UpBlock",
    "Conv3x3Block",
    # unet
    "UNetEncoder",
    "UNetDecoder",
    "unet_channels",
    # weight_init
    "init_weights",
]
