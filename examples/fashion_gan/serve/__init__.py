"""``fashion-gan serve``: a local web demo of a trained run.

One HTML page, served from this machine with everything it needs (no CDN, no fonts or scripts from outside):
a gallery of the run's test people or an upload of your own picture and label map, a sentence box that flags
unknown words as you type and completes the vocabulary's words, the model (every trained stage-2 variant and
One-Step baseline), the identity mode and the seed; the result shows the input, stage 1's segmentation in
colour with its legend, and the rendered person side by side, as downloadable PNGs; a button draws the
person in the 8 demo sentences; the run's loss curves are one click away.

- [`app`][fashion_gan.serve.app]: the Starlette application and its routes (``create_app``).
- [`demo`][fashion_gan.serve.demo]: what each request does, without HTTP (``DemoRun``).
- [`models`][fashion_gan.serve.models], [`people`][fashion_gan.serve.people],
  [`pictures`][fashion_gan.serve.pictures], [`limits`][fashion_gan.serve.limits],
  [`errors`][fashion_gan.serve.errors]: the run's trained models (each loaded once), the people, the PNGs,
  the cap on uploads, the error a request can cause.
- [`server`][fashion_gan.serve.server]: uvicorn in the foreground (``serve_run``) or in a thread
  (``background_server``).

Needs the ``serve`` extra (``pip install 'condgan[serve]'``: starlette, uvicorn, python-multipart, httpx).
This package imports them only in ``app`` and ``limits``, so ``fashion-gan serve`` without them says what to
install.
"""

from __future__ import annotations

from .server import background_server, require_serve_extra, serve_run

__all__ = ["background_server", "require_serve_extra", "serve_run"]
