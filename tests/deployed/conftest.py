"""Fixtures of the as-deployed test: the plantserve image's virtualenv, built once per session."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.deployed.images import sidecar_venv as build_sidecar_venv


@pytest.fixture(scope="session")
def image_venv() -> Path:
    """Exactly what docker/plantserve.Dockerfile installs, plus this checkout's plantserve (cached)."""
    return build_sidecar_venv()
