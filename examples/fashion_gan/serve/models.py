"""The redress models a run has trained, each loaded once and kept for every request."""

from __future__ import annotations

import threading
from pathlib import Path

from condgan.train import latest_checkpoint

from ..inference.redress import Redresser, redress_models
from ..modeling import Stage, get_stage

__all__ = ["trained_models", "RedresserCache"]


def _has_checkpoint(run_dir: Path, folder: str) -> bool:
    return latest_checkpoint(run_dir / folder / "checkpoints") is not None


def trained_models(run_dir: str | Path) -> dict[str, Stage]:
    """The ``generate --model`` words of a run that can redress: every stage-2 variant and One-Step baseline
    with a complete checkpoint (a stage-2 variant also needs stage 1's), in the registry's order.

    Examples:
        >>> import tempfile
        >>> trained_models(tempfile.mkdtemp())
        {}
    """
    run_dir = Path(run_dir)
    shape = _has_checkpoint(run_dir, get_stage("shape").name)
    return {
        word: stage
        for word, stage in redress_models().items()
        if _has_checkpoint(run_dir, stage.name) and (shape or not stage.two_stage)
    }


class RedresserCache:
    """One [`Redresser`][fashion_gan.inference.redress.Redresser] per model of a run, loaded on first use.

    Loading and running share one lock: on a CPU of a few cores, two redresses at once only slow each other
    down, and a model is never loaded twice by two requests that arrive together.

    Args:
        run_dir: the run folder.
        models: the model words that may be loaded (see
            [`trained_models`][fashion_gan.serve.models.trained_models]).
        device: where the models run.
    """

    def __init__(self, run_dir: str | Path, models, *, device="cpu"):
        self.run_dir = Path(run_dir)
        self.models = tuple(models)
        self.device = device
        self.lock = threading.Lock()
        self._loaded: dict[str, Redresser] = {}

    def get(self, model: str) -> Redresser:
        """The Redresser of ``model`` (loaded now if it is the first use); call it holding `lock`."""
        if model not in self.models:
            raise KeyError(model)
        if model not in self._loaded:
            self._loaded[model] = Redresser(self.run_dir, render=model, device=self.device)
        return self._loaded[model]

    def load_all(self) -> None:
        """Load every model now, so that no request waits for a model to load."""
        with self.lock:
            for model in self.models:
                self.get(model)

    def loaded(self) -> tuple[str, ...]:
        """The models loaded so far."""
        return tuple(self._loaded)
