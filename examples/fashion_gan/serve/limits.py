"""A cap on the size of request bodies: uploads larger than a few megabytes are refused, not read.

The declared ``Content-Length`` is checked before the application runs; the bytes actually received are
counted as they stream in, so a client that declares nothing (chunked transfer) or declares less than it sends
is stopped at the cap too, without the body being buffered first.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

from .errors import RequestError

__all__ = ["BodySizeLimit", "BodyTooLarge", "MAX_BODY_BYTES"]

#: Default cap of a request body: 4 MiB (a person's two PNGs at 128x128 are a few tens of kilobytes).
MAX_BODY_BYTES = 4 * 1024 * 1024


def _size(n: int) -> str:
    """A byte count for people: ``"4.0 MiB"``, ``"12 KiB"``, ``"900 bytes"``."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} bytes"


class BodyTooLarge(RequestError):
    """A request body over the cap (HTTP 413): ``got`` bytes declared, or received so far (``streamed``).

    Examples:
        >>> str(BodyTooLarge(4 * 1024 * 1024, 5 * 1024 * 1024))
        'upload: expected at most 4.0 MiB, got 5.0 MiB'
    """

    def __init__(self, max_bytes: int, got: int, *, streamed: bool = False):
        got_text = f"more than that ({_size(got)} so far)" if streamed else _size(got)
        super().__init__(f"upload: expected at most {_size(max_bytes)}, got {got_text}", status=413)


class BodySizeLimit:
    """ASGI middleware: answer 413 to a body over ``max_bytes`` (declared, or counted while it streams).

    A body found too large while streaming raises [`BodyTooLarge`][fashion_gan.serve.limits.BodyTooLarge]
    inside the application's read of it, for the application's error handler to answer.

    Args:
        app: the ASGI application.
        max_bytes: the largest body accepted, in bytes.
    """

    def __init__(self, app, *, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            error = None
            if not declared.isdigit():
                got = declared.decode("latin-1")
                error = RequestError(f"upload: expected a Content-Length in bytes, got {got!r}")
            elif int(declared) > self.max_bytes:
                error = BodyTooLarge(self.max_bytes, int(declared))
            if error is not None:
                await JSONResponse({"error": str(error)}, status_code=error.status)(scope, receive, send)
                return
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes, received, streamed=True)
            return message

        await self.app(scope, counted_receive, send)
