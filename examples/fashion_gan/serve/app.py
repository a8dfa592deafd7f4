"""The web demo as an ASGI application (Starlette): one HTML page, its script and style, a JSON API.

| route | answer |
|---|---|
| ``GET /`` | the page (``static/index.html``; its script and style under ``/static``) |
| ``GET /api/info`` | the run: trained models, identity modes, people, legend, vocabulary |
| ``GET /api/check?sentence=...`` | the sentence's unknown words (the page asks as you type) |
| ``GET /api/people/{i}/image.png`` | thumbnail of gallery person ``i`` (``labels.png``: its label map) |
| ``POST /api/person`` | an uploaded ``image`` + ``labels``, checked, as PNGs to preview |
| ``POST /api/redress`` | one person in one sentence: input, label map, segmentation, render |
| ``POST /api/grid`` | one person in every grid sentence, one PNG |
| ``GET /api/loss-curves.png`` | the run's loss curves ([`plot_run`][fashion_gan.plots.plot_run]) |

The POST routes take a form (``multipart/form-data``): ``person`` (a test-split index) or the files ``image``
and ``labels``; ``sentence``; ``model``; ``identity``; ``seed``. Every error is JSON ``{"error": message}``
with a 4xx status (a 500 for a fault of the server, which keeps serving), and the page shows the message.
Bodies over ``max_upload_bytes`` are refused with 413
([`BodySizeLimit`][fashion_gan.serve.limits.BodySizeLimit]).
The models run in a worker thread, so a redress never blocks the page's other requests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .demo import DemoRun
from .errors import RequestError
from .limits import MAX_BODY_BYTES, BodySizeLimit
from .people import read_uploaded_person

__all__ = ["create_app", "STATIC"]

#: The page's files (package data of ``fashion_gan``): ``index.html``, ``app.js``, ``app.css``.
STATIC = Path(__file__).with_name("static")
#: Form fields and files a POST may carry, and the largest non-file field in bytes.
_MAX_FIELDS, _MAX_FILES, _MAX_FIELD_BYTES = 8, 2, 16 * 1024


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _request_error(request: Request, err: RequestError) -> JSONResponse:
    return _error(err.status, str(err))


async def _http_error(request: Request, err: HTTPException) -> JSONResponse:
    if err.status_code == 404:
        return _error(404, f"not found: {request.url.path}")
    if err.status_code == 405:
        return _error(405, f"method {request.method} not allowed on {request.url.path}")
    return _error(err.status_code, str(err.detail))


async def _server_error(request: Request, err: Exception) -> JSONResponse:
    return _error(500, f"the server failed on this request ({type(err).__name__}: {err})")


def _int(fields: dict, name: str, *, default: int | None = None) -> int:
    raw = fields.get(name, "")
    if raw.strip() == "":
        if default is None:
            raise RequestError(f"{name}: expected an int, got nothing")
        return default
    try:
        return int(raw)
    except ValueError:
        raise RequestError(f"{name}: expected an int, got {raw!r}") from None


async def _read_form(request: Request) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """The POST's text fields, and its files as (file name, bytes); empty file inputs are left out."""
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    async with request.form(
        max_files=_MAX_FILES, max_fields=_MAX_FIELDS, max_part_size=_MAX_FIELD_BYTES
    ) as form:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                if value.filename or data:
                    files[name] = (value.filename or name, data)
            else:
                fields[name] = value
    return fields, files


def _person(demo: DemoRun, fields: dict, files: dict) -> dict:
    """A test person by index (``person``), or the uploaded files ``image`` and ``labels``."""
    if files:
        missing = [name for name in ("image", "labels") if name not in files]
        if missing:
            raise RequestError(
                f"upload: expected both the image and its label map, got no {' and no '.join(missing)}"
            )
        (image_name, image), (labels_name, labels) = files["image"], files["labels"]
        return read_uploaded_person(
            image, labels, image_size=demo.image_size, image_name=image_name, labels_name=labels_name
        )
    if fields.get("person", "").strip() == "":
        raise RequestError("person: expected a test person's index, or an uploaded image and label map")
    return demo.gallery.person(_int(fields, "person"))


def _choices(fields: dict) -> dict:
    return {
        "model": fields.get("model") or "compositional",
        "identity": fields.get("identity") or "structural",
        "seed": _int(fields, "seed", default=0),
    }


def create_app(
    run_dir: str | Path,
    *,
    device="cpu",
    people: int = 12,
    draw_grid: Callable | None = None,
    grid_sentences: Sequence[str] = (),
    preload: bool = True,
    max_upload_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """The web demo of a trained run as a Starlette application (run it with uvicorn).

    Args:
        run_dir: the run folder.
        device: where the models run.
        people: how many test people the gallery shows.
        draw_grid: how the grid is drawn (the command line passes
            [`redress_grid`][fashion_gan.cli.commands.redress_grid]); see
            [`DemoRun`][fashion_gan.serve.demo.DemoRun].
        grid_sentences: the grid's sentences (the command line passes its 8 demo sentences).
        preload: load every model before the first request.
        max_upload_bytes: the largest request body accepted.

    Returns:
        The application; ``app.state.demo`` is its [`DemoRun`][fashion_gan.serve.demo.DemoRun].
    """
    demo = DemoRun(
        run_dir,
        device=device,
        people=people,
        draw_grid=draw_grid,
        grid_sentences=grid_sentences,
        preload=preload,
    )

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def info(request: Request) -> Response:
        return JSONResponse({**demo.info(), "max_upload_bytes": max_upload_bytes})

    async def check(request: Request) -> Response:
        return JSONResponse(demo.check_sentence(request.query_params.get("sentence", "")))

    async def thumbnail(request: Request) -> Response:
        png = demo.gallery.thumbnail(request.path_params["index"], request.path_params["kind"])
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=3600"})

    async def person(request: Request) -> Response:
        fields, files = await _read_form(request)
        chosen = await run_in_threadpool(_person, demo, fields, files)
        return JSONResponse(await run_in_threadpool(demo.preview, chosen))

    async def redress(request: Request) -> Response:
        fields, files = await _read_form(request)
        chosen = await run_in_threadpool(_person, demo, fields, files)
        sentence = fields.get("sentence", "")
        return JSONResponse(await run_in_threadpool(demo.redress, chosen, sentence, **_choices(fields)))

    async def grid(request: Request) -> Response:
        fields, files = await _read_form(request)
        chosen = await run_in_threadpool(_person, demo, fields, files)
        return JSONResponse(await run_in_threadpool(demo.grid, chosen, **_choices(fields)))

    async def loss_curves(request: Request) -> Response:
        png = await run_in_threadpool(demo.loss_curves)
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-cache"})

    routes = [
        Route("/", page),
        Route("/api/info", info),
        Route("/api/check", check),
        Route("/api/people/{index:int}/{kind}.png", thumbnail),
        Route("/api/person", person, methods=["POST"]),
        Route("/api/redress", redress, methods=["POST"]),
        Route("/api/grid", grid, methods=["POST"]),
        Route("/api/loss-curves.png", loss_curves),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(BodySizeLimit, max_bytes=max_upload_bytes)],
        exception_handlers={
            RequestError: _request_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.state.demo = demo
    return app
