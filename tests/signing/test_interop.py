"""Interop both ways with the upstream CLI of the OpenSSF reference library (``model_signing``):
what we sign, it verifies; what it signs, we verify (key and certificate modes, offline)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from serving.signing import (
    SignatureError,
    SigningConfig,
    load_signer,
    load_trust,
    manifest_digests,
    verify_bytes,
    verify_version,
)
from serving.store.manifest import Manifest
from tests.signing.versions import Keys, Pki, make_version, sign_dir

MODEL_SIGNING = str(Path(sys.executable).parent / "model_signing")


def upstream(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MODEL_SIGNING, *args], capture_output=True, text=True, timeout=120)


def _version(tmp_path: Path) -> Path:
    root, manifest = make_version(tmp_path / "v")
    (root / "manifest.json").write_text(manifest.to_json())
    return root


def test_upstream_verifies_our_key_signature_and_catches_tampering(signed_version: Path, keys: Keys) -> None:
    sig = str(signed_version / "model.sig")
    ok = upstream("verify", "key", str(signed_version), "--signature", sig, "--public_key", str(keys.pub))
    assert ok.returncode == 0 and "Verification succeeded" in ok.stdout, ok.stderr
    (signed_version / "manifest.json").write_text((signed_version / "manifest.json").read_text() + " ")
    bad = upstream("verify", "key", str(signed_version), "--signature", sig, "--public_key", str(keys.pub))
    assert bad.returncode != 0 and "manifest.json" in bad.stderr
    other = upstream("verify", "key", str(signed_version), "--signature", sig, "--public_key", str(keys.other_pub))
    assert other.returncode != 0


def test_upstream_verifies_our_certificate_signature(tmp_path: Path, pki: Pki) -> None:
    root, manifest = make_version(tmp_path / "v")
    sign_dir(root, manifest, SigningConfig(key=pki.key, certificate=pki.cert, chain=(pki.chain,)))
    result = upstream("verify", "certificate", str(root), "--signature", str(root / "model.sig"),
                      "--certificate_chain", str(pki.ca))
    assert result.returncode == 0 and "Verification succeeded" in result.stdout, result.stderr


def test_upstream_verifies_our_detached_pointer_signature(tmp_path: Path, keys: Keys) -> None:
    doc = tmp_path / "rollout.json"
    doc.write_text('{"pinned": 3}')
    (tmp_path / "rollout.json.sig").write_bytes(
        load_signer(SigningConfig(key=keys.key)).sign_bytes("fuel/rollout.json", doc.read_bytes()))
    result = upstream("verify", "key", str(doc), "--signature", str(tmp_path / "rollout.json.sig"),
                      "--public_key", str(keys.pub))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("with_digests", [False, True])
def test_we_verify_an_upstream_key_signature(tmp_path: Path, keys: Keys, with_digests: bool) -> None:
    root = _version(tmp_path)
    signed = upstream("sign", "key", str(root), "--signature", str(root / "model.sig"), "--private_key", str(keys.key))
    assert signed.returncode == 0, signed.stderr
    digests = None
    if with_digests:
        digests = manifest_digests(Manifest.from_json((root / "manifest.json").read_bytes()),
                                   (root / "manifest.json").read_bytes())
    info = verify_version(root, load_trust([keys.pub]), file_digests=digests)
    assert info.method == "key" and info.statement_name == "v" and "manifest.json" in info.files
    (root / "saved_model.pb").write_bytes(b"changed")
    with pytest.raises(SignatureError) as refused:
        verify_version(root, load_trust([keys.pub]))
    assert refused.value.reason == "tampered"


def test_we_verify_an_upstream_certificate_signature_and_refuse_its_expired_one(tmp_path: Path, pki: Pki) -> None:
    for name, cert, key in (("good", pki.cert, pki.key), ("old", pki.expired_cert, pki.expired_key)):
        root = _version(tmp_path / name)
        signed = upstream("sign", "certificate", str(root), "--signature", str(root / "model.sig"),
                          "--private_key", str(key), "--signing_certificate", str(cert),
                          "--certificate_chain", str(pki.chain))
        assert signed.returncode == 0, signed.stderr  # upstream signs with an expired certificate ...
    assert verify_version(tmp_path / "good" / "v", load_trust(trusted_ca=pki.ca)).method == "certificate"
    with pytest.raises(SignatureError) as refused:  # ... we do not accept it
        verify_version(tmp_path / "old" / "v", load_trust(trusted_ca=pki.ca))
    assert refused.value.reason == "expired_certificate"


def test_we_verify_an_upstream_single_file_signature(tmp_path: Path, keys: Keys) -> None:
    doc = tmp_path / "rollout.json"
    doc.write_text('{"pinned": 3}')
    signed = upstream("sign", "key", str(doc), "--signature", str(tmp_path / "rollout.json.sig"),
                      "--private_key", str(keys.key))
    assert signed.returncode == 0, signed.stderr
    info = verify_bytes(doc.read_bytes(), (tmp_path / "rollout.json.sig").read_bytes(), load_trust([keys.pub]))
    assert info.statement_name == "rollout.json"
