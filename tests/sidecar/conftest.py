"""Fixtures of the sidecar's tests: SavedModels built once per session, a module-scoped loopback
S3 server, and pods (server + sidecar pairs) that are always stopped."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import start_moto
from tests.sidecar.harness import Pod
from tests.sidecar.models import Spec, build

SPECS = {
    "v_scale1": Spec(scale=1.0),
    "v_scale2": Spec(scale=2.0),
    "v_scale3": Spec(scale=3.0),
    "fail_above": Spec(scale=4.0, fail_above=100.0),
    "slow": Spec(scale=5.0, slow_iterations=300),
    "big": Spec(scale=6.0, pad_bytes=12_000_000, shards_bytes=3_000_000),
    "big2": Spec(scale=7.0, pad_bytes=12_000_000, shards_bytes=3_000_000),
}


@pytest.fixture(scope="session")
def saved_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("saved_models")
    return {name: build(root / name, spec) for name, spec in SPECS.items()}


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory):
    server = start_moto(tmp_path_factory.mktemp("moto"))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in server.env.items():
            mp.setenv(key, value)
        try:
            yield server
        finally:
            server.proc.stop()


@pytest.fixture
def pods():
    started: list[Pod] = []
    yield started
    for pod in started:
        pod.stop()
