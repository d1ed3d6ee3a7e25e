"""serving.signing.info and errors: one-line descriptions, JSON, and the closed set of reasons."""
from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from serving.signing import REASONS, SignatureError, SignerInfo


def test_describe_and_to_dict() -> None:
    until = datetime.datetime(2027, 1, 2, tzinfo=datetime.timezone.utc)
    cert = SignerInfo(method="certificate", key_fingerprint="f" * 64, subject="CN=line 3", issuer="CN=Plant CA",
                      not_before=until - datetime.timedelta(days=365), not_after=until, identities=("a@b",),
                      files={"b": "2", "a": "1"})
    assert cert.describe() == "certificate CN=line 3 (issuer CN=Plant CA, valid until 2027-01-02)"
    data = json.loads(json.dumps(cert.to_dict()))
    assert data["not_after"] == "2027-01-02T00:00:00+00:00" and list(data["files"]) == ["a", "b"]
    key = SignerInfo(method="key", key_fingerprint="ab" * 32, trusted_key=Path("/keys/line-3.pub"))
    assert key.describe() == "key sha256:abababababababab… (/keys/line-3.pub)"
    assert key.to_dict()["trusted_key"] == "/keys/line-3.pub"


def test_reasons_are_a_closed_set() -> None:
    assert {"unsigned", "bad_signature", "unknown_key", "tampered", "expired_certificate",
            "identity_mismatch"} <= set(REASONS)
    assert SignatureError("tampered", "x").kind == "signature"
    with pytest.raises(ValueError, match="unknown signature failure reason"):
        SignatureError("nope", "x")
