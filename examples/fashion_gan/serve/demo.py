"""What the web demo does, without HTTP: a run's models, people and vocabulary, and the redress of a person.

[`DemoRun`][fashion_gan.serve.demo.DemoRun] is what [`create_app`][fashion_gan.serve.app.create_app] serves;
each of its methods answers one kind of request, takes checked values and returns what the page shows (PNGs as
data URLs). What a request asks for that cannot be done is a
[`RequestError`][fashion_gan.serve.errors.RequestError] whose message the page shows.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from condgan.text.vocabulary import tokenize

from ..config import RunConfig
from ..inference.identity import IDENTITY_MODES, check_identity_mode
from ..inference.redress import redress_models
from ..plots import plot_run
from ..text import official_vocabulary
from .errors import RequestError
from .models import RedresserCache, trained_models
from .people import Gallery
from .pictures import data_url, image_png, labels_png, legend, png_bytes

__all__ = ["DemoRun", "check_sentence", "EXAMPLE_SENTENCE", "MAX_SENTENCE_CHARS", "MAX_SEED"]

#: The sentence the page starts with.
EXAMPLE_SENTENCE = "the lady wore a red long-sleeved dress."
#: The longest sentence accepted, in characters (the official sentences have at most 17 words).
MAX_SENTENCE_CHARS = 300
#: The largest noise seed accepted.
MAX_SEED = 2**31 - 1


def check_sentence(vocabulary, sentence: str) -> dict:
    """The words of a sentence and those ``vocabulary`` does not know, with the message the page shows.

    Args:
        vocabulary: a [`Vocabulary`][condgan.text.Vocabulary].
        sentence: what was typed so far.

    Returns:
        ``words`` (the tokens), ``unknown`` (each unknown word once, in order), ``ok`` (the sentence can be
        redressed) and ``message`` (empty when ``ok``).

    Examples:
        >>> checked = check_sentence(official_vocabulary(), "the lady wore a glittery dress.")
        >>> checked["unknown"], checked["message"]
        (['glittery'], "unknown words: 'glittery' (not in the 539-word vocabulary)")
        >>> check_sentence(official_vocabulary(), "the lady wore a red dress.")["ok"]
        True
    """
    words = tokenize(sentence)
    unknown = list(dict.fromkeys(word for word in words if word not in vocabulary))
    if len(sentence) > MAX_SENTENCE_CHARS:
        message = f"sentence: expected at most {MAX_SENTENCE_CHARS} characters, got {len(sentence)}"
    elif not words:
        message = "sentence: type a sentence, e.g. " + repr(EXAMPLE_SENTENCE)
    elif unknown:
        quoted = ", ".join(repr(word) for word in unknown)
        message = f"unknown words: {quoted} (not in the {len(vocabulary)}-word vocabulary)"
    else:
        message = ""
    return {"words": words, "unknown": unknown, "ok": not message, "message": message}


class DemoRun:
    """A trained run, ready to redress people for the web demo.

    Args:
        run_dir: the run folder (made by ``fashion-gan train``).
        device: where the models run.
        people: how many test people the gallery shows.
        draw_grid: ``draw_grid(redresser, people, sentences, *, seed, identity) -> (PIL image, raw output)``,
            the picture of one person in every sentence of ``grid_sentences``
            ([`redress_grid`][fashion_gan.cli.commands.redress_grid] of the command line); without it (or
            without sentences) the demo has no grid.
        grid_sentences: the sentences of the grid (the command line gives its 8 demo sentences).
        preload: load every model now, so that the first request does not wait for it.

    Raises:
        FileNotFoundError: ``run_dir`` has no config.json, or no trained redress model.
    """

    def __init__(
        self,
        run_dir: str | Path,
        *,
        device="cpu",
        people: int = 12,
        draw_grid: Callable | None = None,
        grid_sentences: Sequence[str] = (),
        preload: bool = True,
    ):
        self.run_dir = Path(run_dir)
        self.cfg = RunConfig.load(self.run_dir / "config.json")
        self.models = trained_models(self.run_dir)
        if not self.models:
            raise FileNotFoundError(
                f"run_dir: {self.run_dir} has no trained redress model (expected checkpoints of stage 1 and "
                f"a render model, or of a One-Step model); train them: fashion-gan train --out {self.run_dir}"
            )
        self.redressers = RedresserCache(self.run_dir, self.models, device=device)
        self.vocabulary = official_vocabulary()
        self.gallery = Gallery(self.cfg, size=people)
        self.draw_grid = draw_grid if grid_sentences else None
        self.grid_sentences = tuple(grid_sentences) if draw_grid is not None else ()
        for sentence in self.grid_sentences:
            self.vocabulary.encode(sentence)  # a grid sentence with unknown words: an error now, not later
        self._curves_lock = threading.Lock()
        self._curves: tuple[tuple, bytes] | None = None
        if preload:
            self.redressers.load_all()

    @property
    def image_size(self) -> int:
        """Side of the run's square images: uploads must have it."""
        return self.cfg.data.image_size

    def info(self) -> dict:
        """Everything the page needs to draw itself: models, modes, people, legend, vocabulary, limits."""
        return {
            "run": self.run_dir.name,
            "image_size": self.image_size,
            "models": [
                {"name": word, "title": stage.title, "two_stage": stage.two_stage}
                for word, stage in self.models.items()
            ],
            "identity_modes": list(IDENTITY_MODES),
            "people": {
                "count": len(self.gallery),
                "thumbnails": len(self.gallery.thumbnails),
                "sentences": self.gallery.sentences,
                "error": self.gallery.error,
            },
            "legend": legend(),
            "vocabulary": list(self.vocabulary.words),
            "example_sentence": EXAMPLE_SENTENCE,
            "grid_sentences": list(self.grid_sentences),
            "max_sentence_chars": MAX_SENTENCE_CHARS,
            "max_seed": MAX_SEED,
        }

    def check_sentence(self, sentence: str) -> dict:
        """[`check_sentence`][fashion_gan.serve.demo.check_sentence] in this run's vocabulary."""
        return check_sentence(self.vocabulary, sentence)

    def _sentence(self, sentence: str) -> str:
        checked = self.check_sentence(sentence)
        if not checked["ok"]:
            raise RequestError(checked["message"])
        return sentence

    def _model(self, model: str) -> str:
        if model not in redress_models():
            raise RequestError(f"model: expected one of {list(self.models)}, got {model!r}")
        if model not in self.models:
            raise RequestError(
                f"model: {model!r} is not trained in this run; trained: {', '.join(self.models)}", status=404
            )
        return model

    @staticmethod
    def _identity(identity: str) -> str:
        try:
            return check_identity_mode(identity)
        except ValueError as err:
            raise RequestError(str(err)) from None

    @staticmethod
    def _seed(seed: int) -> int:
        if not 0 <= seed <= MAX_SEED:
            raise RequestError(f"seed: expected an int in [0, {MAX_SEED}], got {seed}")
        return seed

    @staticmethod
    def preview(people: dict) -> dict:
        """The person as the page shows it before a redress: ``images`` ``input`` and ``input_labels``."""
        return {
            "images": {
                "input": data_url(image_png(people["image"][0])),
                "input_labels": data_url(labels_png(people["labels"][0])),
            }
        }

    def redress(self, people: dict, sentence: str, *, model: str, identity: str, seed: int) -> dict:
        """One person in one sentence: the input, its label map, stage 1's segmentation, the rendered image.

        Args:
            people: uint8 ``image`` (1, 3, H, W) and ``labels`` (1, H, W) (a test person or an upload).
            sentence: the description of the garment.
            model: a trained model's word (``compositional``, ``onestep_87``, ...).
            identity: ``structural``, ``none`` or ``official``.
            seed: the noise seed.

        Returns:
            The choices, ``images`` (data URLs of ``input``, ``input_labels``, ``segmentation`` (None for a
            One-Step model) and ``output``) and ``seconds``, the time the models took.
        """
        sentence, model = self._sentence(sentence), self._model(model)
        identity, seed = self._identity(identity), self._seed(seed)
        with self.redressers.lock:
            redresser = self.redressers.get(model)
            start = time.perf_counter()
            out = redresser.redress(people, [sentence], seed=seed, identity=identity)
            seconds = time.perf_counter() - start
        labels = out["labels"][0, 0]
        return {
            "sentence": sentence,
            "model": model,
            "identity": identity,
            "seed": seed,
            "two_stage": redresser.two_stage,
            "images": {
                **self.preview(people)["images"],
                "segmentation": data_url(labels_png(labels)) if redresser.two_stage else None,
                "output": data_url(image_png(out["images"][0, 0])),
            },
            "seconds": round(seconds, 4),
        }

    def grid(self, people: dict, *, model: str, identity: str, seed: int) -> dict:
        """The person in every grid sentence: one captioned PNG (``image``, a data URL), and ``seconds``."""
        if self.draw_grid is None:
            raise RequestError("grid: this demo was started without grid sentences", status=404)
        model, identity, seed = self._model(model), self._identity(identity), self._seed(seed)
        with self.redressers.lock:
            redresser = self.redressers.get(model)
            start = time.perf_counter()
            picture, _ = self.draw_grid(redresser, people, self.grid_sentences, seed=seed, identity=identity)
            seconds = time.perf_counter() - start
        return {
            "model": model,
            "identity": identity,
            "seed": seed,
            "sentences": list(self.grid_sentences),
            "image": data_url(png_bytes(picture)),
            "seconds": round(seconds, 4),
        }

    def loss_curves(self) -> bytes:
        """The loss curves PNG ([`plot_run`][fashion_gan.plots.plot_run]), redrawn when a log has grown."""
        logs = sorted(self.run_dir.glob("*/metrics.jsonl"))
        key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in logs)
        with self._curves_lock:
            if self._curves is None or self._curves[0] != key:
                with tempfile.TemporaryDirectory() as folder:
                    try:
                        path = plot_run(self.run_dir, Path(folder) / "loss_curves.png")
                    except FileNotFoundError as err:
                        raise RequestError(str(err), status=404) from None
                    self._curves = (key, path.read_bytes())
            return self._curves[1]
