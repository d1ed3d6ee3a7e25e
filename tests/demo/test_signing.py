"""serving.demo.signing: the throwaway key, signing reused versions, and a version tampered with after
signing that passes every size and sha256 check and fails only the signature (no TensorFlow needed)."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from serving.demo.signing import DemoKey, publish_tampered, sign_reused
from serving.signing import SignatureError, SigningConfig, load_trust, verify_version
from serving.store import open_store
from serving.store.repository import ModelRepository
from tests.signing.versions import make_version, sign_dir
from tests.tls import write_key_pair


def _publish(store, tmp: Path, version: int, key: Path | None = None) -> None:
    root, manifest = make_version(tmp / f"staged-{version}", version=version)
    (root / "manifest.json").write_text(manifest.to_json())
    if key is not None:
        sign_dir(root, manifest, SigningConfig(key=key))
    ModelRepository(store, "fuel").publish(root, manifest, signature=(root / "model.sig").read_bytes()
                                           if key else None)


def test_the_key_is_made_once_and_private(tmp_path: Path) -> None:
    key = DemoKey.ensure(tmp_path)
    assert stat.S_IMODE(key.private.stat().st_mode) == 0o600
    pem = key.private.read_bytes()
    assert DemoKey.ensure(tmp_path) == key and key.private.read_bytes() == pem  # reused by the next run


def test_reused_versions_are_signed_unless_the_demo_key_signed_them(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "store"), create=True)
    key = DemoKey.ensure(tmp_path / "work")
    other, _ = write_key_pair(tmp_path, "earlier-demo")
    _publish(store, tmp_path, 1)
    _publish(store, tmp_path, 2, key=other)
    assert sign_reused(store, "fuel", 1, key) == "it was published unsigned"
    assert sign_reused(store, "fuel", 2, key) == "its signature was refused (unknown_key)"
    for version in (1, 2):
        assert sign_reused(store, "fuel", version, key) is None
        fetched = ModelRepository(store, "fuel").fetch_exact(version, tmp_path / f"check-{version}")
        assert verify_version(tmp_path / f"check-{version}", load_trust([key.public]), file_digests=fetched.digests)


def test_a_tampered_version_passes_integrity_and_fails_the_signature(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "store"), create=True)
    key = DemoKey.ensure(tmp_path / "work")
    _publish(store, tmp_path, 1)
    version, changed = publish_tampered(store, "fuel", 1, key)
    assert version == 2 and changed == "variables/variables.data-00000-of-00001"
    dest = tmp_path / "fetched"
    fetched = ModelRepository(store, "fuel").fetch_exact(2, dest)  # sizes and sha256 match the manifest
    assert fetched.signed and fetched.manifest.version == 2
    with pytest.raises(SignatureError, match="changed since signing: manifest.json, variables/variables.data") as info:
        verify_version(dest, load_trust([key.public]), file_digests=fetched.digests)
    assert info.value.reason == "tampered"
