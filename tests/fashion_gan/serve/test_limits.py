"""The cap on request bodies: a declared or streamed size over it is a JSON 413; under it, nothing changes."""

from __future__ import annotations

import re

import pytest
from fashion_gan.serve.errors import RequestError
from fashion_gan.serve.limits import BodySizeLimit, BodyTooLarge
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

CAP = 1000


async def _echo(request: Request):
    body = await request.body()
    return JSONResponse({"received": len(body)})


async def _refused(request: Request, err: RequestError):
    return JSONResponse({"error": str(err)}, status_code=err.status)


@pytest.fixture(scope="module")
def client():
    app = Starlette(
        routes=[Route("/echo", _echo, methods=["POST"])],
        middleware=[Middleware(BodySizeLimit, max_bytes=CAP)],
        exception_handlers={RequestError: _refused},
    )
    with TestClient(app) as test_client:
        yield test_client


def chunks(total: int, size: int = 300):
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)


@pytest.mark.parametrize("size", [0, 1, CAP])
def test_bodies_up_to_the_cap_pass_whole(client, size):
    assert client.post("/echo", content=b"x" * size).json() == {"received": size}
    assert client.post("/echo", content=chunks(size)).json() == {"received": size}


def test_a_declared_size_over_the_cap_is_refused_before_the_app_runs(client):
    response = client.post("/echo", content=b"x" * (CAP + 1))
    assert response.status_code == 413
    assert response.json() == {"error": "upload: expected at most 1000 bytes, got 1001 bytes"}


def test_a_streamed_body_over_the_cap_is_stopped_while_it_streams(client):
    # A generator is sent chunked, without Content-Length: only the count of received bytes can stop it.
    response = client.post("/echo", content=chunks(5 * CAP))
    assert response.status_code == 413
    message = response.json()["error"]
    assert re.fullmatch(
        r"upload: expected at most 1000 bytes, got more than that \(\d+ (bytes|KiB) so far\)", message
    )


def test_a_content_length_that_is_not_a_number_is_refused(client):
    response = client.post("/echo", content=b"abc", headers={"content-length": "lots"})
    assert response.status_code == 400
    assert response.json() == {"error": "upload: expected a Content-Length in bytes, got 'lots'"}


def test_body_too_large_message_and_status():
    err = BodyTooLarge(4 * 1024 * 1024, 3000, streamed=True)
    assert (
        err.status == 413
        and str(err) == "upload: expected at most 4.0 MiB, got more than that (2 KiB so far)"
    )
