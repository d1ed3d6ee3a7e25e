"""Fixtures shared by every test package.

- ``s3_server``: moto's standalone S3 server over HTTP on a free loopback port (the same
  protocol MinIO and AWS speak), with credentials in the environment of the test process.
- ``model_store``: a local store holding fuel and defect version 1, trained once per session
  by ``plantserve train`` (the real training package, real SavedModels).

Every ``plantserve serve`` a test starts binds loopback: ``PLANTSERVE_SERVE_HOST`` is set for the
whole session (children inherit it).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from labkit.moto import S3_ENV, S3Server, start_moto  # noqa: F401 - fixtures' and tests' import
from tests.support import run_cli


@pytest.fixture(scope="session", autouse=True)
def servers_bind_loopback():
    from serving.server.flags import HOST_ENV

    before = os.environ.get(HOST_ENV)
    os.environ[HOST_ENV] = "127.0.0.1"
    yield
    if before is None:
        os.environ.pop(HOST_ENV, None)
    else:
        os.environ[HOST_ENV] = before


@pytest.fixture
def s3_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    server = start_moto(tmp_path)
    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    try:
        yield server
    finally:
        server.proc.stop()


@pytest.fixture(scope="session")
def model_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local store with ``fuel/1`` and ``defect/1`` (plus manifests), trained with default settings.

    Set PLANTSERVE_TEST_STORE to reuse an existing store (local development only).
    """
    reuse = os.environ.get("PLANTSERVE_TEST_STORE")
    if reuse:
        return Path(reuse)
    store = tmp_path_factory.mktemp("store")
    for model in ("fuel", "defect"):
        run_cli("train", model, "--store", str(store), check=True)
    return store


@pytest.fixture
def model_store_copy(model_store: Path, tmp_path: Path) -> Path:
    """A private, writable copy of ``model_store`` for tests that change it."""
    dest = tmp_path / "store"
    shutil.copytree(model_store, dest)
    return dest
