"""Serving the demo with uvicorn: in the foreground (``fashion-gan serve``) or in a thread (tests)."""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from condgan._checks import check_int

__all__ = ["require_serve_extra", "listen", "background_server", "serve_run"]

#: What the demo imports, as (module, the package that installs it).
_NEEDS = (("starlette", "starlette"), ("uvicorn", "uvicorn"), ("multipart", "python-multipart"))


def require_serve_extra() -> None:
    """Raise ModuleNotFoundError naming what is missing when the ``serve`` extra is not installed."""
    missing = [package for module, package in _NEEDS if importlib.util.find_spec(module) is None]
    if missing:
        raise ModuleNotFoundError(
            f"the web demo needs {', '.join(missing)}: pip install 'condgan[serve]' "
            "(or '.[serve]' in a checkout)"
        )


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port`` (port 0: a free one), or an OSError that names the address.

    Examples:
        >>> sock = listen("127.0.0.1", 0)
        >>> sock.getsockname()[1] > 0
        True
        >>> sock.close()
    """
    check_int("port", port, low=0, high=65535)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as err:
        raise OSError(f"--host {host}: not an address to listen on ({err})") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(64)
    except OSError as err:
        sock.close()
        raise OSError(f"--port {port}: cannot listen on {host}:{port} ({err.strerror or err})") from None
    return sock


def _server(app):
    import uvicorn

    return uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))


@contextlib.contextmanager
def background_server(app, *, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread while the block runs; yields its ``http://host:port``.

    Args:
        app: an ASGI application (e.g. [`create_app`][fashion_gan.serve.app.create_app]'s).
        host: the address to listen on.
        port: the port; 0 picks a free one.
        timeout: seconds to wait for the server to start.
    """
    sock = listen(host, port)
    server = _server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the demo server did not start within {timeout} s")
            time.sleep(0.01)
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()


def serve_run(
    run_dir: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    people: int = 12,
    device="cpu",
    draw_grid: Callable | None = None,
    grid_sentences: Sequence[str] = (),
) -> None:
    """``fashion-gan serve``: load the run's models, then serve the demo until interrupted (Ctrl-C).

    Without the ``serve`` extra it prints what to install and exits with status 2. The other arguments are
    [`create_app`][fashion_gan.serve.app.create_app]'s.
    """
    try:
        require_serve_extra()
    except ModuleNotFoundError as err:
        print(f"fashion-gan serve: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    from ..config import resolve_device
    from .app import create_app

    device = resolve_device(device, what="--device")
    sock = listen(host, port)  # before loading anything: a busy port is an error at once
    try:
        start = time.perf_counter()
        app = create_app(
            run_dir, device=device, people=people, draw_grid=draw_grid, grid_sentences=grid_sentences
        )
        demo = app.state.demo
        url = f"http://{host}:{sock.getsockname()[1]}/"
        seconds = time.perf_counter() - start
        print(
            f"fashion-gan serve: {', '.join(demo.models)} of {demo.run_dir} loaded in {seconds:.1f} s; "
            f"open {url} (Ctrl-C stops)",
            flush=True,
        )
        _server(app).run(sockets=[sock])
    finally:
        sock.close()
