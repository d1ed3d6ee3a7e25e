"""Fixtures of the signing tests: throwaway keys, a plant PKI, and a synthetic version."""
from __future__ import annotations

from pathlib import Path

import pytest

from serving.signing import SigningConfig
from tests.signing.versions import Keys, Pki, make_keys, make_pki, make_version, sign_dir


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    (tmp_path / "keys").mkdir()
    return make_keys(tmp_path / "keys")


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    (tmp_path / "pki").mkdir()
    return make_pki(tmp_path / "pki")


@pytest.fixture
def signed_version(tmp_path: Path, keys: Keys) -> Path:
    """fuel version 1, signed with ``keys.key``: its files, manifest.json and model.sig."""
    root, manifest = make_version(tmp_path / "1")
    return sign_dir(root, manifest, SigningConfig(key=keys.key))
