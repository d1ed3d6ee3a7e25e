"""Fixtures for the server's own tests: tiny SavedModels (seconds to build) and servers on loopback.

- ``tiny_store``: a read-only store with ``fuel/1`` and ``defect/1`` from ``tests.server.tinymodels``;
- ``tiny_store_copy``: a private writable copy;
- ``inproc_server``: a factory for an in-process ``ModelServer`` on free loopback ports, stopped at teardown;
- ``serve_proc``: a factory for a ``plantserve serve`` subprocess, stopped at teardown;
- ``echo_server``: a factory for a REST server on loopback whose API echoes requests (``helpers.Echo``).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest

from tests.support import PLANTSERVE, Proc, free_port, port_open, wait_until


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.server.tinymodels import build_store

    return build_store(tmp_path_factory.mktemp("tiny_store"))


@pytest.fixture
def tiny_store_copy(tiny_store: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "store"
    shutil.copytree(tiny_store, dest)
    return dest


@pytest.fixture
def inproc_server() -> Callable:
    from serving.server import flags
    from serving.server.app import ModelServer

    started = []

    def start(*args: str, rest: bool = True):
        grpc_port = free_port()
        argv = [f"--port={grpc_port}", *args]
        if rest:
            argv.append(f"--rest_api_port={free_port()}")
        server = ModelServer(flags.parse(argv).settings, host="127.0.0.1")
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop(grace=1.0)


class ServeProc:
    def __init__(self, proc: Proc, grpc_port: int, rest_port: int) -> None:
        self.proc, self.grpc_port, self.rest_port = proc, grpc_port, rest_port

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"


@pytest.fixture
def serve_proc(tmp_path: Path) -> Callable:
    procs: list[Proc] = []

    def start(*args: str, wait: bool = True, timeout: float = 120) -> ServeProc:
        grpc_port, rest_port = free_port(), free_port()
        argv = [*PLANTSERVE, "serve", f"--port={grpc_port}", f"--rest_api_port={rest_port}", *args]
        proc = Proc(argv, tmp_path / f"serve-{grpc_port}.log")
        procs.append(proc)
        if wait:  # on failure the fixture's teardown stops it (it is already in ``procs``)
            wait_until(lambda: port_open(rest_port) or (not proc.alive() and (_ for _ in ()).throw(
                RuntimeError(proc.output()))), timeout=timeout, what="plantserve serve")
        return ServeProc(proc, grpc_port, rest_port)

    yield start
    for proc in procs:
        proc.stop()


@pytest.fixture
def echo_server():
    servers = []

    def start(**limits):
        from serving.server.rest_server import RestLimits, RestServer
        from tests.server.helpers import Echo

        api = Echo()
        server = RestServer(0, api, RestLimits(**{"max_body_bytes": 1 << 20, "num_threads": 2, **limits}),
                            host="127.0.0.1")
        server.start()
        servers.append(server)
        return server, api

    yield start
    for server in servers:
        server.stop(grace=1)
