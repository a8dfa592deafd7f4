"""TensorBoard logging of a training run, beside metrics.jsonl (which stays the source of truth).

With ``train.tensorboard`` (``fashion-gan train --tensorboard``) each model writes
``<run>/<model>/tensorboard/``: every logged number of metrics.jsonl as a scalar (losses, gradient norms,
skipped steps, images/s), the learning rates, the sample sheets as images, and the run configuration as
hyper-parameters. View it with ``tensorboard --logdir <run>``. A resumed run purges the events after its start
step, so curves never double.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["TensorBoardLog", "flat_config"]


def flat_config(config: dict, prefix: str = "") -> dict[str, object]:
    """A nested config dict as ``section.field -> value`` with values TensorBoard accepts (str for sequences).

    Examples:
        >>> flat_config({"train": {"lr": 0.001, "betas": (0.5, 0.999)}, "preset": "demo"})
        {'train.lr': 0.001, 'train.betas': '(0.5, 0.999)', 'preset': 'demo'}
    """
    out: dict[str, object] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_config(value, prefix=f"{name}."))
        elif value is None or isinstance(value, (bool, int, float, str)):
            out[name] = "None" if value is None else value
        else:
            out[name] = str(tuple(value)) if isinstance(value, (list, tuple)) else str(value)
    return out


class TensorBoardLog:
    """One model's TensorBoard event files.

    Args:
        folder: where the events go (``<run>/<model>/tensorboard``).
        start_step: the step training starts from (events after it, from an interrupted run, are dropped).
        config: the run configuration (``RunConfig.to_dict()``), written as hyper-parameters on a fresh start.
    """

    def __init__(self, folder: Path, *, start_step: int, config: dict) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as err:  # pragma: no cover - tensorboard is in the "fashion" extra
            raise ModuleNotFoundError(
                "train.tensorboard: expected the tensorboard package (pip install 'condgan[fashion]'), "
                "got none"
            ) from err
        # Events of steps after the checkpoint (an interrupted run went further) are dropped, not doubled.
        self.writer = SummaryWriter(log_dir=str(folder), purge_step=start_step + 1 if start_step else None)
        if start_step == 0:
            text = "\n".join(f"- `{k}`: {v}" for k, v in flat_config(config).items())
            self.writer.add_text("config", text, global_step=0)

    def scalars(self, record: dict, *, step: int, lrs: dict[str, float]) -> None:
        """Every number of a metrics.jsonl ``record`` and the optimizers' learning rates at ``step``."""
        for key, value in record.items():
            if key != "step" and isinstance(value, (int, float)) and not isinstance(value, bool):
                group = "loss" if key.startswith(("d_", "g_")) and "grad" not in key else "train"
                self.writer.add_scalar(f"{group}/{key}", value, global_step=step)
        for name, lr in lrs.items():
            self.writer.add_scalar(f"lr/{name}", lr, global_step=step)

    def image(self, path: Path, *, step: int) -> None:
        """A sample sheet PNG as an image at ``step``."""
        from PIL import Image

        with Image.open(path) as picture:
            array = np.asarray(picture.convert("RGB"))
        self.writer.add_image("samples", array, global_step=step, dataformats="HWC")

    def hparams(self, config: dict, final: dict[str, float]) -> None:
        """The run configuration as hyper-parameters, with the last logged losses as their metrics."""
        metrics = {f"final/{k}": float(v) for k, v in final.items() if k.startswith(("d_", "g_"))}
        self.writer.add_hparams(flat_config(config), metrics, run_name=".")

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()
