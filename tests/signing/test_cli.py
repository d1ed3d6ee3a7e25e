"""``plantserve verify``: a real subprocess against local and S3 (moto over HTTP) stores."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from serving.signing import SigningConfig, load_signer, sign_staged
from serving.store import open_store
from serving.store.repository import ModelRepository
from tests.signing.versions import IDENTITY, Keys, Pki, make_version
from tests.support import run_cli


def _publish(store_uri: str, tmp_path: Path, config: SigningConfig | None, model: str = "fuel") -> int:
    repo = ModelRepository(open_store(store_uri, create=True), model)
    version = repo.reserve_next()
    root, manifest = make_version(tmp_path / f"staged-{version}", model=model, version=version)
    signature = sign_staged(root, manifest, load_signer(config)) if config else None
    repo.publish(root, manifest, signature=signature)
    return version


def test_verify_prints_the_signer_and_every_file(tmp_path: Path, keys: Keys) -> None:
    store = str(tmp_path / "store")
    _publish(store, tmp_path, SigningConfig(key=keys.key))
    result = run_cli("verify", "fuel", "1", "--store", store, "--trusted-keys", str(keys.pub))
    assert result.returncode == 0, result.stderr
    fingerprint = load_signer(SigningConfig(key=keys.key)).fingerprint
    assert "signature OK" in result.stdout and f"key sha256:{fingerprint}" in result.stdout
    assert str(keys.pub) in result.stdout and "statement   fuel/1" in result.stdout
    assert "manifest.json" in result.stdout and "variables/variables.data-00000-of-00001" in result.stdout
    assert "downloading fuel version 1" in result.stderr and "verified in" in result.stderr
    as_json = json.loads(run_cli("verify", "fuel", "1", "--store", store, "--trusted-keys", str(keys.pub),
                                 "--json", "--quiet").stdout)
    assert as_json["ok"] and as_json["signer"]["key_fingerprint"] == fingerprint


@pytest.mark.parametrize("damage, reason", [
    ("unsigned", "unsigned"),
    ("other-key", "unknown_key"),
    ("manifest", "tampered"),
    ("file", "tampered"),
])
def test_verify_refuses_with_exit_1_and_the_reason(tmp_path: Path, keys: Keys, damage: str, reason: str) -> None:
    store_dir = tmp_path / "store"
    store = str(store_dir)
    key = {"unsigned": None, "other-key": SigningConfig(key=keys.other_key)}.get(damage, SigningConfig(key=keys.key))
    _publish(store, tmp_path, key)
    if damage == "manifest":  # a valid manifest, re-pointing a file at other bytes, signature left alone
        manifest = json.loads((store_dir / "fuel/1/manifest.json").read_text())
        manifest["metrics"]["mae"] = 0.01
        (store_dir / "fuel/1/manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    if damage == "file":  # same size: only the digest check can tell
        path = store_dir / "fuel/1/saved_model.pb"
        path.write_bytes(b"X" * path.stat().st_size)
    result = run_cli("verify", "fuel", "1", "--store", store, "--trusted-keys", str(keys.pub))
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert f"REFUSED ({reason})" in result.stderr and "Traceback" not in result.stderr


def test_bad_input_exits_2(tmp_path: Path, keys: Keys) -> None:
    store = str(tmp_path / "store")
    _publish(store, tmp_path, SigningConfig(key=keys.key))
    no_trust = run_cli("verify", "fuel", "1", "--store", store, env={"PLANTSERVE_TRUSTED_KEYS": ""})
    assert no_trust.returncode == 2 and "--trusted-keys" in no_trust.stderr
    absent = run_cli("verify", "fuel", "7", "--store", store, "--trusted-keys", str(keys.pub))
    assert absent.returncode == 2 and "not published" in absent.stderr
    bad_key = run_cli("verify", "fuel", "1", "--store", store, "--trusted-keys", str(keys.key))
    assert bad_key.returncode == 2 and "not a PEM public key" in bad_key.stderr
    assert "Traceback" not in no_trust.stderr + absent.stderr + bad_key.stderr


def test_verify_a_certificate_signed_version_on_s3(s3_server, tmp_path: Path, pki: Pki) -> None:
    uri = s3_server.make_bucket("plant-models") + "/line-3"
    _publish(uri, tmp_path, SigningConfig(key=pki.key, certificate=pki.cert, chain=(pki.chain,)))
    open_store(uri).write_bytes("fuel/1/notes.txt", b"dropped in the bucket")
    result = run_cli("verify", "fuel", "1", "--store", uri, "--trusted-ca", str(pki.ca),
                     "--trusted-identity", IDENTITY, env=s3_server.env)
    assert result.returncode == 0, result.stderr
    assert "certificate CN=training line 3" in result.stdout and "issuer CN=Plant Issuing CA" in result.stdout
    assert IDENTITY in result.stdout and "notes.txt" in result.stdout  # reported, never downloaded
    wrong = run_cli("verify", "fuel", "1", "--store", uri, "--trusted-ca", str(pki.other_ca), env=s3_server.env)
    assert wrong.returncode == 1 and "REFUSED (untrusted_certificate)" in wrong.stderr
