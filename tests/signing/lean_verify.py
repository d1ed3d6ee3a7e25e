"""Run as a script: verify versions and a pointer with the signing libraries unimportable.

Usage: python -m tests.signing.lean_verify KEY_VERSION_DIR PUB CERT_VERSION_DIR CA DOC DOC_SIG
A meta path finder refuses ``model_signing``, ``OpenSSL``, ``sigstore*`` and ``pydantic``; the last line
printed is JSON: what each verification found, and the blocked modules loaded or attempted (both empty).
"""
from __future__ import annotations

import importlib.abc
import json
import sys
from pathlib import Path

BLOCKED = ("model_signing", "OpenSSL", "sigstore", "sigstore_models", "sigstore_protobuf_specs", "pydantic")
attempts: list[str] = []


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in BLOCKED:
            attempts.append(fullname)
            raise ModuleNotFoundError(f"{fullname} is blocked in this test", name=fullname)
        return None


def main() -> int:
    sys.meta_path.insert(0, Blocker())
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
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print(json.dumps({"found": found, "loaded": loaded, "attempts": attempts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
