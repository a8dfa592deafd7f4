"""The official-style sentence of a synthetic sample: subject, colour, sleeve and category, official words."""

from __future__ import annotations

import numpy as np

from fashion_gan.data.contract import CATEGORY_NAMES, COLOR_NAMES, SLEEVE_NAMES, check_index
from fashion_gan.data.synthetic.attributes import check_attrs
from fashion_gan.data.synthetic.tables import MULTI, U, cdf, pattern_type

__all__ = ["make_sentence", "sentence"]

# Subjects with their weights; the official sentences say "the lady" far more often than "the woman".
_SUBJECTS_F = (
    ("the lady was wearing", 4.0),
    ("the lady wore", 4.0),
    ("the lady is wearing", 4.0),
    ("the lady wears", 0.8),
    ("the woman was wearing", 0.5),
    ("the woman wore", 0.4),
    ("a woman wearing", 0.4),
    ("the lady dressed in", 0.3),
    ("the girl is wearing", 0.2),
)
_SUBJECTS_M = (
    ("the man was wearing", 4.0),
    ("the man is wearing", 3.0),
    ("the man wore", 1.0),
    ("a man wearing", 0.3),
    ("the boy was wearing", 0.2),
)
_SUBJ_CDF_F = cdf([w for _, w in _SUBJECTS_F])
_SUBJ_CDF_M = cdf([w for _, w in _SUBJECTS_M])
_MULTI_WORDS = ("multicolor", "multi-colored", "multicolored", "multi-color")
_MULTI_CDF = cdf([4, 2, 2, 2])
_PATTERN_SUFFIXES = (" with a pattern",)  # stripes, checks, argyle
_DOTS_SUFFIXES = (" with flowers", " printed with flowers", " with a pattern")  # the dot print


def make_sentence(attrs: dict[str, np.ndarray], j: int) -> str:
    """The official-style sentence of sample ``j`` of a dict of attributes.

    ``attrs`` comes from [`sample_attributes`][fashion_gan.data.synthetic.sample_attributes]. The sentence
    names the gender, the garment colour, sleeve (omitted when unspecified) and category, e.g.
    ``"the lady was wearing a blue long-sleeved blouse."``; every word is in the official vocabulary.

    Args:
        attrs: the attribute dict of ``B`` samples.
        j: which sample, an int in ``[0, B - 1]``.

    Examples:
        >>> from fashion_gan.data.synthetic import sample_attributes
        >>> make_sentence(sample_attributes(0, "train", [0]), 0)
        'the lady wears a red long-sleeved hoodie.'
    """
    return sentence(attrs, check_index("j", j, check_attrs(attrs)))


def sentence(attrs: dict[str, np.ndarray], j: int) -> str:
    """``make_sentence`` without the checks (``attrs`` already checked, ``j`` in range)."""
    u = attrs["u"][j]
    male = bool(attrs["gender"][j])
    subjects, subject_cdf = (_SUBJECTS_M, _SUBJ_CDF_M) if male else (_SUBJECTS_F, _SUBJ_CDF_F)
    subject = subjects[int(np.searchsorted(subject_cdf, u[U["subject"]], side="right"))][0]
    color = int(attrs["color"][j])
    if color == MULTI:
        color_word = _MULTI_WORDS[int(np.searchsorted(_MULTI_CDF, u[U["multi_word"]], side="right"))]
        # A third of the multicolour sentences mention the print; flowers only for the dot print.
        suffixes = _DOTS_SUFFIXES if pattern_type(u[U["pat_type"]]) == 4 else _PATTERN_SUFFIXES
        suffix_u = u[U["suffix"]]
        suffix = (
            ""
            if suffix_u < 2 / 3
            else suffixes[min(int((suffix_u - 2 / 3) * 3 * len(suffixes)), len(suffixes) - 1)]
        )
    else:
        color_word, suffix = COLOR_NAMES[color], ""
    sleeve = int(attrs["sleeve"][j])
    words = [color_word] if sleeve == 3 else [color_word, SLEEVE_NAMES[sleeve]]
    if sleeve != 3 and u[U["order"]] < 0.2:
        words.reverse()
    article = "an" if words[0][0] in "aeiou" else "a"
    return f"{subject} {article} {' '.join(words)} {CATEGORY_NAMES[int(attrs['category'][j])]}{suffix}."
