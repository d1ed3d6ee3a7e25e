"""serving.signing.signer: the bundle has the OpenSSF model-signing shape, and a bad key or
certificate is refused before anything is signed."""
from __future__ import annotations

import base64
import datetime
import hashlib
import json
from pathlib import Path

import pytest
from cryptography import x509

from serving.signing import SigningConfig, SigningConfigError, load_signer
from serving.signing.keys import key_hint, load_private_key
from tests.signing.versions import FILES, Keys, Pki, make_version
from tests.tls import issue_signing, make_ca


def _statement(bundle: bytes) -> tuple[dict, dict]:
    parsed = json.loads(bundle)
    return parsed, json.loads(base64.b64decode(parsed["dsseEnvelope"]["payload"]))


def test_version_bundle_is_a_dsse_in_toto_statement_of_every_file(tmp_path: Path, keys: Keys) -> None:
    root, manifest = make_version(tmp_path / "v")
    (root / "manifest.json").write_text(manifest.to_json())
    (root / "model.sig").write_text("an older signature is never signed over")
    signed = load_signer(SigningConfig(key=keys.key)).sign_version(root, "fuel/1")
    bundle, statement = _statement(signed.bundle)
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert bundle["verificationMaterial"]["tlogEntries"] == []  # offline: no transparency log
    assert bundle["verificationMaterial"]["publicKey"]["hint"] == key_hint(load_private_key(keys.key).public_key())
    assert bundle["dsseEnvelope"]["payloadType"] == "application/vnd.in-toto+json"
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://model_signing/signature/v1.0"
    assert statement["subject"][0]["name"] == "fuel/1"
    assert statement["predicate"]["serialization"] == {"method": "files", "hash_type": "sha256",
                                                       "allow_symlinks": False, "ignore_paths": ["model.sig"]}
    resources = {r["name"]: r["digest"] for r in statement["predicate"]["resources"]}
    assert set(resources) == set(FILES) | {"manifest.json"}
    assert resources["manifest.json"] == hashlib.sha256(manifest.to_json().encode()).hexdigest()
    assert signed.files == resources


def test_document_bundle_is_a_one_file_statement(keys: Keys) -> None:
    _, statement = _statement(load_signer(SigningConfig(key=keys.key)).sign_bytes("fuel/rollout.json", b"{}"))
    assert statement["subject"][0]["name"] == "fuel/rollout.json"
    assert statement["predicate"]["resources"] == [
        {"name": ".", "algorithm": "sha256", "digest": hashlib.sha256(b"{}").hexdigest()}]


def test_certificate_mode_ships_leaf_and_chain(keys: Keys, pki: Pki) -> None:
    signer = load_signer(SigningConfig(key=pki.key, certificate=pki.cert, chain=(pki.chain,)))
    bundle, _ = _statement(signer.sign_bytes("x", b"x"))
    chain = [x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"]))
             for c in bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]]
    assert [c.subject.rfc4514_string() for c in chain] == ["CN=training line 3", "CN=Plant Issuing CA"]
    assert "training line 3" in signer.describe()


def test_certificate_mode_refuses_what_verifiers_would_refuse(tmp_path: Path, keys: Keys, pki: Pki) -> None:
    with pytest.raises(SigningConfigError, match="is not for the key"):
        load_signer(SigningConfig(key=keys.key, certificate=pki.cert))
    with pytest.raises(SigningConfigError, match="not now: verifiers would refuse it"):
        load_signer(SigningConfig(key=pki.expired_key, certificate=pki.expired_cert))
    _, ca = make_ca("No-usage CA")
    plain = issue_signing(ca, "no usage", usage=False)
    (tmp_path / "plain.crt").write_bytes(plain.cert)
    (tmp_path / "plain.key").write_bytes(plain.key)
    with pytest.raises(SigningConfigError, match="neither digitalSignature"):
        load_signer(SigningConfig(key=tmp_path / "plain.key", certificate=tmp_path / "plain.crt"))
    with pytest.raises(SigningConfigError, match="--signing-chain needs --signing-cert"):
        SigningConfig(key=keys.key, chain=(pki.chain,))
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
    assert load_signer(SigningConfig(key=pki.expired_key, certificate=pki.expired_cert), now=past).certificate


def test_describe_and_fingerprint(keys: Keys) -> None:
    signer = load_signer(SigningConfig(key=keys.key))
    assert signer.describe() == f"key sha256:{signer.fingerprint}" and len(signer.fingerprint) == 64
