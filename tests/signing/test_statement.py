"""serving.signing.statement: bundles this offline verifier cannot or will not check."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from serving.signing import SignatureError, load_trust
from serving.signing.statement import parse_bundle, verify_statement
from tests.signing.versions import Keys


def _bundle(signed_version: Path) -> dict:
    return json.loads((signed_version / "model.sig").read_bytes())


def _reason(bundle: dict, trust) -> str:
    with pytest.raises(SignatureError) as info:
        verify_statement(json.dumps(bundle).encode(), trust)
    return info.value.reason


def test_a_keyless_sigstore_bundle_is_unsupported_offline(signed_version: Path, keys: Keys) -> None:
    bundle = _bundle(signed_version)
    bundle["verificationMaterial"] = {"certificate": {"rawBytes": base64.b64encode(b"x").decode()},
                                      "tlogEntries": []}
    assert _reason(bundle, load_trust([keys.pub])) == "unsupported_format"


def test_an_envelope_without_signatures_is_malformed(signed_version: Path, keys: Keys) -> None:
    bundle = _bundle(signed_version)
    bundle["dsseEnvelope"]["signatures"] = []
    assert _reason(bundle, load_trust([keys.pub])) == "malformed"


def test_old_bundles_without_tlog_entries_or_key_hint_still_parse(signed_version: Path, keys: Keys) -> None:
    bundle = _bundle(signed_version)
    del bundle["verificationMaterial"]["tlogEntries"]
    del bundle["verificationMaterial"]["publicKey"]["hint"]
    parsed = parse_bundle(json.dumps(bundle).encode())
    assert parsed.key_hint is None and parsed.mode == "key"
    info = verify_statement(json.dumps(bundle).encode(), load_trust([keys.other_pub, keys.pub]))
    assert info.trusted_key == keys.pub  # found by trying each trusted key
    assert _reason(bundle, load_trust([keys.other_pub])) == "unknown_key"


def test_a_wrong_key_hint_is_an_unknown_key(signed_version: Path, keys: Keys) -> None:
    bundle = _bundle(signed_version)
    bundle["verificationMaterial"]["publicKey"]["hint"] = "0" * 64
    assert _reason(bundle, load_trust([keys.pub])) == "unknown_key"
