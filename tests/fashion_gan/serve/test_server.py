"""Serving: a real uvicorn in a thread, the socket's errors, the missing extra, ``fashion-gan serve``."""

from __future__ import annotations

import importlib.util
import socket

import httpx
import pytest
from fashion_gan import cli
from fashion_gan.serve import server
from fashion_gan.serve.server import background_server, listen, require_serve_extra, serve_run


def test_background_server_answers_real_http(demo_app):
    with background_server(demo_app) as url:
        assert url.startswith("http://127.0.0.1:")
        info = httpx.get(f"{url}/api/info", timeout=30).json()
        assert [m["name"] for m in info["models"]] == ["compositional", "ih1_skip", "onestep_87"]
        page = httpx.get(url + "/", timeout=30)
        assert page.status_code == 200 and "app.js" in page.text
    with pytest.raises(httpx.ConnectError):  # stopped when the block ends
        httpx.get(f"{url}/api/info", timeout=5)


def test_listen_on_a_busy_port_names_it():
    busy = listen("127.0.0.1", 0)
    port = busy.getsockname()[1]
    try:
        with pytest.raises(OSError, match=rf"--port {port}: cannot listen on 127.0.0.1:{port}"):
            # SO_REUSEADDR lets a second socket bind a port in TIME_WAIT, not one that is listening.
            listen("127.0.0.1", port)
    finally:
        busy.close()


def test_listen_errors():
    with pytest.raises(ValueError, match="port: expected an int in \\[0, 65535\\], got 70000"):
        listen("127.0.0.1", 70000)
    with pytest.raises(OSError, match="--host no.such.host.invalid: not an address to listen on"):
        listen("no.such.host.invalid", 0)


def test_a_missing_extra_names_the_package_to_install(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "multipart" else real(name))
    with pytest.raises(ModuleNotFoundError, match=r"needs python-multipart: pip install 'condgan\[serve\]'"):
        require_serve_extra()
    with pytest.raises(SystemExit) as info:
        serve_run("anywhere")
    assert info.value.code == 2
    assert "fashion-gan serve: error: the web demo needs python-multipart" in capsys.readouterr().err


class _StubServer:
    """Stands in for uvicorn's server: records the sockets instead of serving forever."""

    sockets: list = []

    def run(self, sockets):
        _StubServer.sockets = sockets
        assert sockets[0].getsockname()[1] > 0


def test_serve_command_loads_the_models_then_serves(trained_run, monkeypatch, capsys):
    monkeypatch.setattr(server, "_server", lambda app: _StubServer())
    assert cli.main(["serve", "--run", str(trained_run), "--port", "0", "--people", "2"]) == 0
    out = capsys.readouterr().out
    assert "compositional, ih1_skip, onestep_87 of" in out and "open http://127.0.0.1:" in out
    assert _StubServer.sockets[0].fileno() == -1  # closed after serving


def test_serve_command_errors_are_one_line(trained_run, tmp_path, capsys):
    assert cli.main(["serve", "--run", str(tmp_path / "nowhere")]) == 2
    assert "fashion-gan serve: error: --run: no run folder at" in capsys.readouterr().err
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        assert cli.main(["serve", "--run", str(trained_run), "--port", str(port)]) == 2
        assert f"error: --port {port}: cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    finally:
        busy.close()
    assert cli.main(["serve", "--run", str(trained_run), "--device", "cuda:7", "--port", "0"]) == 2
    assert "--device" in capsys.readouterr().err


def test_serve_a_run_without_a_trained_redress_model(fresh_run, trained_run, capsys):
    import shutil

    shutil.copy(trained_run / "config.json", fresh_run / "config.json")
    assert cli.main(["serve", "--run", str(fresh_run), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "has no trained redress model" in err and "fashion-gan train --out" in err


@pytest.mark.parametrize("command", ["serve", "plot"])
def test_help_explains_every_option(command, capsys):
    import argparse

    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    for action in sub._actions:
        if not isinstance(action, argparse._HelpAction):
            assert action.help and " ".join(action.help.split()) in out, action.option_strings
