"""serving.signing.verify: a version passes only if the signature holds AND the directory holds exactly
the signed files with the signed digests, whether the caller passes the download's digests or not."""
from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
from pathlib import Path

import pytest

from serving.signing import (
    SignatureError,
    SigningConfig,
    TrustConfigError,
    load_signer,
    load_trust,
    sign_staged,
    manifest_digests,
    verify_bytes,
    verify_version,
)
from serving.store.manifest import Manifest, sha256_file
from tests.signing.versions import IDENTITY, Keys, Pki, make_version, sign_dir

DIGEST_MODES = ["hash", "download-digests"]


def _digests(root: Path) -> dict[str, str]:
    """What the sidecar's download computed: each file's sha256 as it landed, manifest.json's bytes."""
    manifest = Manifest.from_json((root / "manifest.json").read_bytes())
    return manifest_digests(manifest, (root / "manifest.json").read_bytes())


def _verify(root: Path, trust, mode: str):
    return verify_version(root, trust, file_digests=_digests(root) if mode != "hash" else None)


def _reason(root: Path, trust, mode: str = "hash") -> str:
    with pytest.raises(SignatureError) as info:
        _verify(root, trust, mode)
    assert str(info.value)  # every refusal says what is wrong
    return info.value.reason


@pytest.mark.parametrize("mode", DIGEST_MODES)
def test_a_signed_version_verifies_and_says_who_and_what(signed_version: Path, keys: Keys, mode: str) -> None:
    info = _verify(signed_version, load_trust([keys.pub]), mode)
    assert info.method == "key" and info.trusted_key == keys.pub
    assert info.key_fingerprint == load_signer(SigningConfig(key=keys.key)).fingerprint
    assert "manifest.json" in info.files and "model.sig" not in info.files
    assert info.files["saved_model.pb"] == sha256_file(signed_version / "saved_model.pb")
    assert info.statement_name == "fuel/1" and len(info.root_digest) == 64


@pytest.mark.parametrize("mode", DIGEST_MODES)
def test_an_extra_file_is_refused(signed_version: Path, keys: Keys, mode: str) -> None:
    (signed_version / "variables" / "evil.so").write_bytes(b"payload")
    digests = _digests(signed_version)
    if mode != "hash":
        digests["variables/evil.so"] = sha256_file(signed_version / "variables" / "evil.so")
    with pytest.raises(SignatureError, match="not signed: variables/evil.so") as info:
        verify_version(signed_version, load_trust([keys.pub]), file_digests=digests if mode != "hash" else None)
    assert info.value.reason == "tampered"


@pytest.mark.parametrize("mode", DIGEST_MODES)
def test_a_missing_file_is_refused(signed_version: Path, keys: Keys, mode: str) -> None:
    (signed_version / "fingerprint.pb").unlink()
    with pytest.raises(SignatureError, match="signed but missing: fingerprint.pb"):
        verify_version(signed_version, load_trust([keys.pub]),
                       file_digests=_digests(signed_version) if mode != "hash" else None)


@pytest.mark.parametrize("mode", DIGEST_MODES)
def test_one_changed_byte_is_refused(signed_version: Path, keys: Keys, mode: str) -> None:
    path = signed_version / "variables" / "variables.data-00000-of-00001"
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    digests = _digests(signed_version)
    digests["variables/variables.data-00000-of-00001"] = sha256_file(path)  # what a download of it computes
    with pytest.raises(SignatureError, match="changed since signing: variables/variables.data") as info:
        verify_version(signed_version, load_trust([keys.pub]), file_digests=digests if mode != "hash" else None)
    assert info.value.reason == "tampered"


@pytest.mark.parametrize("mode", DIGEST_MODES)
def test_a_changed_manifest_is_refused(signed_version: Path, keys: Keys, mode: str) -> None:
    manifest = json.loads((signed_version / "manifest.json").read_text())
    manifest["allow_breaking_change"] = True  # the one flag an attacker would flip
    (signed_version / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    with pytest.raises(SignatureError, match="changed since signing: manifest.json"):
        _verify(signed_version, load_trust([keys.pub]), mode)


@pytest.mark.parametrize("mode", DIGEST_MODES)
def test_another_key_is_unknown(tmp_path: Path, keys: Keys, mode: str) -> None:
    root, manifest = make_version(tmp_path / "v")
    sign_dir(root, manifest, SigningConfig(key=keys.other_key))
    assert _reason(root, load_trust([keys.pub]), mode) == "unknown_key"
    assert _verify(root, load_trust([keys.pub, keys.other_pub]), mode).trusted_key == keys.other_pub


def test_unsigned_is_refused_when_any_anchor_is_configured(tmp_path: Path, keys: Keys, pki: Pki) -> None:
    root, manifest = make_version(tmp_path / "v")
    (root / "manifest.json").write_text(manifest.to_json())
    assert _reason(root, load_trust([keys.pub])) == "unsigned"
    assert _reason(root, load_trust(trusted_ca=pki.ca)) == "unsigned"
    with pytest.raises(TrustConfigError, match="no trust anchor"):
        verify_version(root, load_trust())


def test_a_forged_statement_under_a_real_signature_is_a_bad_signature(signed_version: Path, keys: Keys) -> None:
    bundle = json.loads((signed_version / "model.sig").read_text())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["predicate"]["resources"][0]["digest"] = "0" * 64
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    (signed_version / "model.sig").write_text(json.dumps(bundle))
    assert _reason(signed_version, load_trust([keys.pub])) == "bad_signature"


@pytest.mark.parametrize("garbage", [b"", b"{}", b"not json", b'{"mediaType": "x", "verificationMaterial": {}}'])
def test_garbage_signature_is_malformed(signed_version: Path, keys: Keys, garbage: bytes) -> None:
    (signed_version / "model.sig").write_bytes(garbage)
    assert _reason(signed_version, load_trust([keys.pub])) == "malformed"


def test_a_symlink_is_refused(signed_version: Path, keys: Keys) -> None:
    os.symlink("/etc/passwd", signed_version / "assets.extra" / "link")
    assert _reason(signed_version, load_trust([keys.pub])) == "tampered"


def test_download_digests_are_used_instead_of_hashing_again(signed_version: Path, keys: Keys) -> None:
    digests = _digests(signed_version)
    trust = load_trust([keys.pub])
    # The files on disk are not read for digests the caller vouches for ...
    (signed_version / "saved_model.pb").write_bytes(b"X" * (signed_version / "saved_model.pb").stat().st_size)
    assert verify_version(signed_version, trust, file_digests=digests).files["saved_model.pb"] == digests[
        "saved_model.pb"]
    # ... but every vouched digest is still compared with the signed one ...
    with pytest.raises(SignatureError, match="changed since signing: saved_model.pb"):
        verify_version(signed_version, trust, file_digests={**digests, "saved_model.pb": "1" * 64})
    # ... and a file the caller did not hash is hashed here.
    del digests["saved_model.pb"]
    with pytest.raises(SignatureError, match="changed since signing: saved_model.pb"):
        verify_version(signed_version, trust, file_digests=digests)


# -- certificate mode -------------------------------------------------------------------------------
def _cert_signed(tmp_path: Path, cert: Path, key: Path, chain: tuple[Path, ...], now=None) -> Path:
    root, manifest = make_version(tmp_path / "cv")
    signer = load_signer(SigningConfig(key=key, certificate=cert, chain=chain), now=now)
    (root / "model.sig").write_bytes(sign_staged(root, manifest, signer))
    return root


@pytest.mark.parametrize("mode", DIGEST_MODES)
def test_certificate_mode_verifies_against_the_plant_ca(tmp_path: Path, pki: Pki, mode: str) -> None:
    root = _cert_signed(tmp_path, pki.cert, pki.key, (pki.chain,))
    info = _verify(root, load_trust(trusted_ca=pki.ca, identity=IDENTITY), mode)
    assert info.method == "certificate" and "training line 3" in info.subject and "Plant Issuing CA" in info.issuer
    assert IDENTITY in info.identities and info.not_after > datetime.datetime.now(datetime.timezone.utc)
    # an issuing CA alone is a valid anchor too (the chain may stop at any certificate of the bundle)
    assert _verify(root, load_trust(trusted_ca=pki.chain), mode).method == "certificate"


@pytest.mark.parametrize("mode", DIGEST_MODES)
def test_an_expired_leaf_is_refused(tmp_path: Path, pki: Pki, mode: str) -> None:
    signed_at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)  # while it was valid
    root = _cert_signed(tmp_path, pki.expired_cert, pki.expired_key, (pki.chain,), now=signed_at)
    assert _reason(root, load_trust(trusted_ca=pki.ca), mode) == "expired_certificate"


@pytest.mark.parametrize("mode", DIGEST_MODES)
def test_a_certificate_from_another_ca_is_refused(tmp_path: Path, pki: Pki, mode: str) -> None:
    root = _cert_signed(tmp_path, pki.foreign_cert, pki.foreign_key, ())
    assert _reason(root, load_trust(trusted_ca=pki.ca), mode) == "untrusted_certificate"


def test_the_required_identity_must_match(tmp_path: Path, pki: Pki) -> None:
    root = _cert_signed(tmp_path, pki.cert, pki.key, (pki.chain,))
    assert _reason(root, load_trust(trusted_ca=pki.ca, identity="someone@else.example")) == "identity_mismatch"
    assert _verify(root, load_trust(trusted_ca=pki.ca, identity="training line 3"), "hash")  # the subject CN


def test_each_anchor_accepts_only_its_own_kind(tmp_path: Path, keys: Keys, pki: Pki, signed_version: Path) -> None:
    cert_signed = _cert_signed(tmp_path, pki.cert, pki.key, (pki.chain,))
    assert _reason(signed_version, load_trust(trusted_ca=pki.ca)) == "unknown_key"
    assert _reason(cert_signed, load_trust([keys.pub])) == "untrusted_certificate"
    both = load_trust([keys.pub], trusted_ca=pki.ca)
    assert {_verify(signed_version, both, "hash").method, _verify(cert_signed, both, "hash").method} == {
        "key", "certificate"}


# -- one document with a detached signature (rollout.json) -------------------------------------------
def test_detached_signature_of_a_document(keys: Keys) -> None:
    signer, trust = load_signer(SigningConfig(key=keys.key)), load_trust([keys.pub])
    data = b'{"pinned": 2}'
    signature = signer.sign_bytes("fuel/rollout.json", data)
    info = verify_bytes(data, signature, trust, name="fuel/rollout.json")
    assert info.files == {".": hashlib.sha256(data).hexdigest()} and info.statement_name == "fuel/rollout.json"
    for bad_data, name, reason in [(b'{"pinned": 1}', "fuel/rollout.json", "tampered"),
                                   (data, "defect/rollout.json", "tampered")]:
        with pytest.raises(SignatureError) as info:
            verify_bytes(bad_data, signature, trust, name=name)
        assert info.value.reason == reason
    with pytest.raises(SignatureError) as info:
        verify_bytes(data, None, trust, name="fuel/rollout.json")
    assert info.value.reason == "unsigned"
