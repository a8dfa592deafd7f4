"""FashionGAN data: synthetic mannequins (the default) and the official release, one sample contract.

- [`contract`][fashion_gan.data.contract]: the item/batch layout, label/attribute names, the official
  vocabulary.
- [`synthetic`][fashion_gan.data.synthetic]: [`SyntheticMannequins`][fashion_gan.data.SyntheticMannequins],
  procedurally drawn people (lazy, deterministic, no files).
- [`release`][fashion_gan.data.release]: the official release's files (``ind.mat``,
  ``language_original.mat``, ``G2.h5``) and their readers.
- [`official`][fashion_gan.data.official]: [`OfficialFashionGAN`][fashion_gan.data.OfficialFashionGAN] over
  the official ``data_release`` layout.
- [`cache`][fashion_gan.data.cache]: [`prepare_cache`][fashion_gan.data.prepare_cache], ``G2.h5`` -> compact
  uint8 memory maps.
- [`export`][fashion_gan.data.export]: [`export_official_layout`][fashion_gan.data.export_official_layout],
  synthetic data -> the official layout.
- [`contact_sheet`][fashion_gan.data.contact_sheet]: PNG grids of samples with segmentations and sentences.

h5py, scipy and Pillow are imported only by the functions that need them.
"""

from fashion_gan.data.cache import open_cache, prepare_cache
from fashion_gan.data.contact_sheet import (
    LABEL_COLORS,
    colorize_labels,
    draw_contact_sheet,
    save_contact_sheet,
)
from fashion_gan.data.contract import (
    CATEGORY_NAMES,
    COLOR_NAMES,
    GENDER_NAMES,
    LABEL_NAMES,
    MAX_WORDS,
    NUM_LABELS,
    SLEEVE_NAMES,
    UNKNOWN_ATTRIBUTE,
    WEARER_ATTRIBUTES,
    collate,
    official_vocabulary,
    uncollate,
    validate_batch,
    validate_sample,
)
from fashion_gan.data.export import export_official_layout
from fashion_gan.data.official import OfficialFashionGAN
from fashion_gan.data.release import DatasetFormatError, load_metadata
from fashion_gan.data.synthetic import SyntheticMannequins

__all__ = [
    "CATEGORY_NAMES",
    "COLOR_NAMES",
    "GENDER_NAMES",
    "LABEL_COLORS",
    "LABEL_NAMES",
    "MAX_WORDS",
    "NUM_LABELS",
    "SLEEVE_NAMES",
    "UNKNOWN_ATTRIBUTE",
    "WEARER_ATTRIBUTES",
    "DatasetFormatError",
    "OfficialFashionGAN",
    "SyntheticMannequins",
    "collate",
    "colorize_labels",
    "draw_contact_sheet",
    "export_official_layout",
    "load_metadata",
    "official_vocabulary",
    "open_cache",
    "prepare_cache",
    "save_contact_sheet",
    "uncollate",
    "validate_batch",
    "validate_sample",
]
