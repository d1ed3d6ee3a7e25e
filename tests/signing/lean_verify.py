"""Run as a script: verify versions and a pointer with the signing libraries unimportable.

Usage: python -m tests.signing.lean_verify KEY_VERSION_DIR PUB CERT_VERSION_DIR CA DOC DOC_SIG
A meta path finder refuses ``model_signing``, ``OpenSSL``, ``sigstore*`` and ``pydantic``; the last line
printed is JSON: what each verification found, and the blocked modules loaded or attempted (both empty).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.blocking import Blocker

BLOCKED = ("model_signing", "OpenSSL", "sigstore", "sigstore_models", "sigstore_protobuf_specs", "pydantic")


def main() -> int:
    blocker = Blocker(BLOCKED).install()
    from serving.signing import SignatureError, load_trust, verify_bytes, verify_version

    key_dir, pub, cert_dir, ca, doc, doc_sig = map(Path, sys.argv[1:7])
    found = {
        "key": verify_version(key_dir, load_trust([pub])).method,
        "certificate": verify_version(cert_dir, load_trust(trusted_ca=ca)).method,
        "pointer": verify_bytes(doc.read_bytes(), doc_sig.read_bytes(), load_trust([pub])).statement_name,
    }
    (key_dir / "saved_model.pb").write_bytes(b"changed")
    try:
        verify_version(key_dir, load_trust([pub]))
    except SignatureError as exc:
        found["tampered"] = exc.reason
    print(json.dumps({"found": found, **blocker.report()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
