"""The conformance suite's server: ``plantserve serve`` by default, or any TF Serving given by
``PLANTSERVE_TFS_GRPC``/``PLANTSERVE_TFS_REST`` (see README.md for how that server must be started).

Default mode: a private copy of the session's ``model_store`` (the training package's real models),
laid out by ``tests.conformance.layout``, served on free loopback ports with the flags the README gives
for the real server.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conformance.client import Target
from tests.conformance.layout import prepare
from tests.support import PLANTSERVE, Proc, free_port, port_open, wait_until

#: The flags the suite's server runs with (the README's docker command passes the same ones).
SERVER_FLAGS = ("--file_system_poll_wait_seconds=1", "--max_num_load_retries=0",
                "--load_retry_interval_micros=100000")


def start_plantserve(store: Path, log_dir: Path, *extra: str, wait: bool = True, config: bool = True,
                     log_level: str = "INFO") -> tuple[Proc, int, int]:
    grpc_port, rest_port = free_port(), free_port()
    args = [*PLANTSERVE, "--log-level", log_level, "serve", f"--port={grpc_port}", f"--rest_api_port={rest_port}",
            *SERVER_FLAGS]
    if config:
        args += [f"--model_config_file={store / 'models.config'}",
                 f"--monitoring_config_file={store / 'monitoring.config'}"]
    proc = Proc([*args, *extra], log_dir / f"plantserve-{grpc_port}.log")
    if wait:
        try:
            wait_until(lambda: port_open(rest_port) or (not proc.alive() and (_ for _ in ()).throw(
                RuntimeError(proc.output()))), timeout=180, what="plantserve serve to open its ports")
        except BaseException:
            proc.stop()
            raise
    return proc, grpc_port, rest_port


@pytest.fixture(scope="session")
def target(model_store: Path, tmp_path_factory: pytest.TempPathFactory):
    grpc_target, rest_url = os.environ.get("PLANTSERVE_TFS_GRPC"), os.environ.get("PLANTSERVE_TFS_REST")
    if grpc_target and rest_url:
        store = Path(os.environ["PLANTSERVE_TFS_STORE"])
        yield Target(grpc_target, rest_url.rstrip("/"), store, os.environ.get("PLANTSERVE_TFS_MODEL_ROOT", "/models"),
                     external=True)
        return
    store = tmp_path_factory.mktemp("conformance") / "store"
    shutil.copytree(model_store, store)
    prepare(store)
    proc, grpc_port, rest_port = start_plantserve(store, store.parent)
    try:
        yield Target(f"127.0.0.1:{grpc_port}", f"http://127.0.0.1:{rest_port}", store, str(store), external=False)
    finally:
        proc.stop()


@pytest.fixture
def standin_store(model_store: Path, tmp_path: Path) -> Path:
    """A private laid-out store for tests that start their own ``plantserve serve``."""
    store = tmp_path / "store"
    shutil.copytree(model_store, store)
    return prepare(store)


@pytest.fixture
def restore_config(target: Target):
    """Put the README's model config back after a test that reloads the config."""
    yield
    target.reload(target.base_config())
