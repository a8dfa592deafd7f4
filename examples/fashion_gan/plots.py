"""Loss curves of a run: every model's discriminator, generator and reconstruction losses against the step.

Each model folder of a run holds a ``metrics.jsonl`` (one record per logged step, written by the training
loop through [`MetricsLog`][condgan.train.MetricsLog]). [`plot_run`][fashion_gan.plots.plot_run] draws one
panel per model into a PNG; ``fashion-gan plot --run RUN`` and the web demo call it.

In a panel, the left axis holds the adversarial losses (``d_total`` bold, its real / mismatched / fake parts
thin, and ``g_adv``); the right axis holds the reconstruction loss ``g_rec`` (cross-entropy to the label map
for stage 1, L1 to the image otherwise), whose scale differs. Matplotlib draws through its Agg canvas directly
(no pyplot, no global backend switch), so plotting works without a display and inside a server's threads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from condgan._checks import check_number
from condgan.train import read_metrics

from .modeling import STAGES, all_stages
from .visualize import save_png

__all__ = [
    "ADVERSARIAL_SERIES",
    "RECONSTRUCTION_SERIES",
    "read_loss_curves",
    "smooth_curve",
    "draw_loss_curves",
    "plot_run",
    "PANEL_SIZE",
    "PANEL_COLUMNS",
    "DPI",
]

#: Left-axis series of a panel, drawn in this order: (metrics key, legend label, line width).
ADVERSARIAL_SERIES: tuple[tuple[str, str, float], ...] = (
    ("d_total", "D total", 1.8),
    ("d_real", "D real", 0.8),
    ("d_mismatch", "D mismatched", 0.8),
    ("d_fake", "D fake", 0.8),
    ("g_adv", "G adversarial", 1.8),
)
#: Right-axis series: the reconstruction loss of the generator.
RECONSTRUCTION_SERIES: tuple[str, str] = ("g_rec", "G reconstruction")

#: Size of one panel in inches (width, height); with `DPI`, 500 x 320 pixels.
PANEL_SIZE: tuple[float, float] = (5.0, 3.2)
#: Panels per row of the figure.
PANEL_COLUMNS = 2
#: Resolution of the PNG.
DPI = 100

Curves = dict[str, dict[str, tuple[list[int], list[float]]]]


def _model_order(folder: str) -> tuple[int, str]:
    """Registry order (stage 1, the render variants, One-Step), then other folders by name."""
    names = [stage.name for stage in all_stages()]
    return (names.index(folder), "") if folder in names else (len(names), folder)


def read_loss_curves(run_dir: str | Path) -> Curves:
    """The loss series of every model of a run that has a ``metrics.jsonl`` with records.

    Args:
        run_dir: a run folder (model folders below it, each with its ``metrics.jsonl``).

    Returns:
        ``{model folder: {metrics key: (steps, values)}}``, models in the stage registry's order; only the
        keys of `ADVERSARIAL_SERIES` and `RECONSTRUCTION_SERIES` that a model logged, and only
        finite values (a step whose loss was NaN, e.g. a skipped fp16 step, is left out of that series).

    Raises:
        FileNotFoundError: ``run_dir`` is not a folder, or no model below it has logged a record.

    Examples:
        >>> import json, tempfile
        >>> run = Path(tempfile.mkdtemp())
        >>> (run / "shape").mkdir()
        >>> _ = (run / "shape" / "metrics.jsonl").write_text(
        ...     json.dumps({"step": 10, "d_total": 1.4, "g_adv": 0.7, "g_rec": 2.0}) + "\\n")
        >>> read_loss_curves(run)
        {'shape': {'d_total': ([10], [1.4]), 'g_adv': ([10], [0.7]), 'g_rec': ([10], [2.0])}}
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run_dir: expected a run folder, got {str(run_dir)!r} (not a folder)")
    keys = [key for key, _, _ in ADVERSARIAL_SERIES] + [RECONSTRUCTION_SERIES[0]]
    curves: Curves = {}
    for path in sorted(run_dir.glob("*/metrics.jsonl"), key=lambda p: _model_order(p.parent.name)):
        series: dict[str, tuple[list[int], list[float]]] = {}
        for record in read_metrics(path):
            for key in keys:
                value = record.get(key)
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    steps, values = series.setdefault(key, ([], []))
                    steps.append(int(record["step"]))
                    values.append(float(value))
        if series:
            curves[path.parent.name] = {key: series[key] for key in keys if key in series}
    if not curves:
        raise FileNotFoundError(
            f"run_dir: expected model folders with a metrics.jsonl under {run_dir}, found none with records; "
            f"train a model first (fashion-gan train --out {run_dir} --stage ...)"
        )
    return curves


def smooth_curve(values: Sequence[float], weight: float) -> list[float]:
    """Exponential moving average ``s_t = weight * s_(t-1) + (1 - weight) * x_t``, started at ``x_0``.

    Args:
        values: the series.
        weight: in ``[0, 1)``; 0 returns the values unchanged, 0.9 smooths strongly.

    Examples:
        >>> smooth_curve([1.0, 3.0, 3.0], 0.5)
        [1.0, 2.0, 2.5]
        >>> smooth_curve([1.0, 3.0], 0.0)
        [1.0, 3.0]
    """
    check_number("smooth", weight, low=0.0, high=1.0)
    out: list[float] = []
    for x in values:
        out.append(x if not out else weight * out[-1] + (1 - weight) * x)
    return out


def _title(folder: str) -> str:
    stage = STAGES.get(folder)
    return stage.title if stage is not None else folder


def draw_loss_curves(
    curves: Mapping[str, Mapping[str, tuple[Sequence[int], Sequence[float]]]], *, smooth: float = 0.0
):
    """A matplotlib Figure with one panel per model of ``curves``.

    Panels fill rows of `PANEL_COLUMNS`; the figure is ``PANEL_SIZE`` per panel, so its pixel size at
    `DPI` follows from the number of models. The panel titles are the models' evaluation titles.

    Args:
        curves: ``{model folder: {metrics key: (steps, values)}}``, as
            [`read_loss_curves`][fashion_gan.plots.read_loss_curves] gives.
        smooth: exponential smoothing weight in ``[0, 1)`` (see
            [`smooth_curve`][fashion_gan.plots.smooth_curve]); the raw series stays visible, faint, behind
            a smoothed one.

    Examples:
        >>> series = {"d_total": ([1, 2], [1.4, 1.2]), "g_rec": ([1, 2], [2.0, 1.5])}
        >>> fig = draw_loss_curves({"shape": series, "onestep_87": series})
        >>> [ax.get_title() for ax in fig.axes if ax.get_title()]
        ['Stage 1 (shape)', 'One-Step GAN (8-7)']
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not curves:
        raise ValueError("curves: expected at least one model's series, got none")
    smooth_curve([], smooth)  # the weight's check, before any drawing
    columns = min(PANEL_COLUMNS, len(curves))
    rows = math.ceil(len(curves) / columns)
    fig = Figure(figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, (folder, series) in zip(axes, curves.items(), strict=False):
        _draw_panel(ax, folder, series, smooth)
    for ax in axes[len(curves) :]:
        ax.set_visible(False)
    return fig


def _draw_panel(ax, folder: str, series, smooth: float) -> None:
    """One model's panel: adversarial losses on the left axis, the reconstruction on a twin right axis."""
    handles = []

    def line(axis, key, label, width, colour):
        steps, values = series[key]
        if smooth:
            axis.plot(steps, values, color=colour, linewidth=0.6, alpha=0.25)
            values = smooth_curve(values, smooth)
        (handle,) = axis.plot(steps, values, color=colour, linewidth=width, label=label)
        handles.append(handle)

    for i, (key, label, width) in enumerate(ADVERSARIAL_SERIES):
        if key in series:
            line(ax, key, label, width, f"C{i}")
    ax.set_title(_title(folder), fontsize=10)
    ax.set_xlabel("step")
    ax.set_ylabel("adversarial loss")
    ax.grid(alpha=0.3)
    key, label = RECONSTRUCTION_SERIES
    if key in series:
        twin = ax.twinx()
        line(twin, key, label, 1.4, "black")
        handles[-1].set_linestyle("--")
        twin.set_ylabel("reconstruction")
    ax.legend(handles=handles, fontsize=7, loc="upper right")


def plot_run(run_dir: str | Path, out: str | Path | None = None, *, smooth: float = 0.0) -> Path:
    """Draw the loss curves of every model of a run into a PNG; return its path.

    Args:
        run_dir: the run folder.
        out: the PNG to write (default ``<run_dir>/loss_curves.png``); written atomically (temporary file,
            then rename).
        smooth: exponential smoothing weight in ``[0, 1)`` (0: the raw values).

    Returns:
        The PNG's path: `PANEL_COLUMNS` panels per row, one per model with records, each
        ``PANEL_SIZE`` inches at `DPI`.

    Raises:
        FileNotFoundError: no model of the run has logged a record (see
            [`read_loss_curves`][fashion_gan.plots.read_loss_curves]).

    Examples:
        >>> import json, tempfile
        >>> run = Path(tempfile.mkdtemp())
        >>> (run / "shape").mkdir()
        >>> records = [{"step": s, "d_total": 1.0 / s, "g_adv": 0.5, "g_rec": 2.0 / s} for s in (1, 2)]
        >>> lines = [json.dumps(record) for record in records]
        >>> _ = (run / "shape" / "metrics.jsonl").write_text("\\n".join(lines) + "\\n")
        >>> plot_run(run).name
        'loss_curves.png'
    """
    curves = read_loss_curves(run_dir)
    out = Path(out) if out is not None else Path(run_dir) / "loss_curves.png"
    fig = draw_loss_curves(curves, smooth=smooth)
    fig.canvas.draw()
    picture = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).convert("RGB")
    return save_png(picture, out)
