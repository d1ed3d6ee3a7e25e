"""serving.signing.bundle: the Sigstore bundle and DSSE envelope read from JSON, model-signing's bundles
included, and each kind of damage named."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from serving.signing import SignatureError, SigningConfig, load_signer
from serving.signing.bundle import PAYLOAD_TYPE, pae, parse_bundle
from tests.signing.versions import Keys, Pki


def test_pae_is_dsse_v1() -> None:
    assert pae(b"hello") == b"DSSEv1 28 application/vnd.in-toto+json 5 hello"
    assert pae(b"x", "t") == b"DSSEv1 1 t 1 x"


def test_key_and_certificate_bundles_written_by_model_signing(signed_version: Path, keys: Keys, pki: Pki) -> None:
    parsed = parse_bundle((signed_version / "model.sig").read_bytes())
    assert parsed.mode == "key" and len(parsed.key_hint) == 64 and parsed.certificates == ()
    assert parsed.envelope.payload_type == PAYLOAD_TYPE and len(parsed.envelope.signatures) == 1
    assert json.loads(parsed.envelope.payload)["subject"][0]["name"] == "fuel/1"
    cert_mode = parse_bundle(load_signer(SigningConfig(key=pki.key, certificate=pki.cert, chain=(pki.chain,)))
                             .sign_bytes("x", b"x"))
    assert cert_mode.mode == "certificate" and len(cert_mode.certificates) == 2


def _damaged(signed_version: Path, change) -> str:
    bundle = json.loads((signed_version / "model.sig").read_bytes())
    change(bundle)
    with pytest.raises(SignatureError) as info:
        parse_bundle(json.dumps(bundle).encode())
    return str(info.value)


@pytest.mark.parametrize("change, says", [
    (lambda b: b.update(mediaType="application/json"), "not a Sigstore bundle"),
    (lambda b: b["dsseEnvelope"].update(payload="not base64!"), "dsseEnvelope.payload is not valid base64"),
    (lambda b: b["dsseEnvelope"]["signatures"][0].update(sig=7), "not a base64 string"),
    (lambda b: b.pop("dsseEnvelope"), "neither dsseEnvelope nor messageSignature"),
    (lambda b: b.update(verificationMaterial={"tlogEntries": []}), "has no publicKey"),
    (lambda b: b.update(verificationMaterial={"x509CertificateChain": {"certificates": []}}), "is empty"),
])
def test_damage_is_malformed_and_named(signed_version: Path, change, says: str) -> None:
    assert says in _damaged(signed_version, change)


def test_a_message_signature_bundle_has_no_envelope(signed_version: Path) -> None:
    bundle = json.loads((signed_version / "model.sig").read_bytes())
    del bundle["dsseEnvelope"]
    bundle["messageSignature"] = {"signature": base64.b64encode(b"x").decode()}
    assert parse_bundle(json.dumps(bundle).encode()).envelope is None
