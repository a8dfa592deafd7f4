"""The evaluation as markdown: one table for the garment (control, realism), one for the person (identity)."""

from __future__ import annotations

import math

__all__ = ["CONTROL_COLUMNS", "IDENTITY_COLUMNS", "format_table"]

_F3 = "{:.3f}"

#: (key, title, format) of the control table: targets are the partner sentence's attributes.
CONTROL_COLUMNS = (
    ("model", "model", None),
    ("identity", "identity mode", None),
    ("acc_color_solid", "colour (solid)", _F3),
    ("acc_color_multi", "colour (multicolour)", _F3),
    ("pixel_color_solid", "colour read from pixels (solid)", _F3),
    ("print_rate_multi", "print shown (multicolour)", _F3),
    ("acc_sleeve", "sleeve", _F3),
    ("acc_category", "category", _F3),
    ("structure", "8x8 agreement (parsed)", _F3),
    ("stage1_structure", "stage-1 8x8 agreement", _F3),
    ("frechet_detector", "FD (detector feats)", "{:.4g}"),
    ("kid_detector", "KID (detector feats)", "{:.3g}"),
    ("diversity_l1", "diversity (L1 across z)", "{:.4f}"),
)
#: (key, title, format) of the identity table: targets are the input person's.
IDENTITY_COLUMNS = (
    ("model", "model", None),
    ("identity", "identity mode", None),
    ("hair_face_iou", "hair+face IoU", _F3),
    ("background_iou", "background IoU", _F3),
    ("hair_delta_e", "hair dE", "{:.2f}"),
    ("face_delta_e", "face dE", "{:.2f}"),
    ("skin_delta_e", "arm skin dE", "{:.2f}"),
    ("gender_kept", "gender kept", _F3),
    ("long_hair_kept", "long hair kept", _F3),
    ("hat_kept", "hat kept", _F3),
    ("sunglasses_kept", "sunglasses kept", _F3),
)


def _cell(value, fmt) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return str(value) if fmt is None else fmt.format(value)


def _table(rows, columns) -> list[str]:
    present = [c for c in columns if c[2] is None or any(row.get(c[0]) is not None for row in rows)]
    lines = ["| " + " | ".join(title for _, title, _ in present) + " |", "|" + "---|" * len(present)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(key), fmt) for key, _, fmt in present) + " |")
    return lines


def format_table(result: dict) -> str:
    """The evaluation result of [`evaluate_run`][fashion_gan.evaluation.evaluate.evaluate_run] as markdown.

    Examples:
        >>> result = {"run": "r", "preset": "demo", "data": "synthetic", "num_test": 2,
        ...           "rows": [{"model": "m", "identity": "none", "acc_sleeve": 0.5}]}
        >>> "| m | none | 0.500 |" in format_table(result)
        True
    """
    rows = result["rows"]
    lines = [
        f"Evaluation of `{result['run']}` ({result['preset']} preset, {result['data']} data, "
        f"{result['num_test']} test people redressed with their partner's sentence).",
        "",
        "**The garment follows the sentence** (targets: the partner sentence's attributes):",
        "",
        *_table(rows, CONTROL_COLUMNS),
        "",
        "**The person stays the same** (targets: the input person's; dE: CIELAB distance of mean colours):",
        "",
        *_table(rows, IDENTITY_COLUMNS),
        "",
        "Detector columns are read by attribute detectors trained on real training images ("
        + (
            f"{steps} steps, {people:,} distinct people; "
            if (steps := result.get("detector_steps")) and (people := result.get("detector_people"))
            else ""
        )
        + "the first row is their ceiling on real test images)"
        + (f", which see every image at {size}x{size}" if (size := result.get("detector_size")) else "")
        + "; FD/KID are on the detector's features, not Inception's (no FID weights offline).",
    ]
    return "\n".join(lines) + "\n"
