"""The verifying side needs ``cryptography`` alone: verify_version, verify_bytes and load_trust, in key
and certificate mode, run in a process where model_signing, OpenSSL, sigstore and pydantic cannot be
imported, and never try to import them (the sidecar image installs none of them)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from serving.signing import SigningConfig, load_signer
from tests.signing.versions import Keys, Pki, make_version, sign_dir
from tests.support import REPO


def test_verifying_imports_no_signing_library(tmp_path: Path, keys: Keys, pki: Pki, signed_version: Path) -> None:
    root, manifest = make_version(tmp_path / "cert" / "1")
    sign_dir(root, manifest, SigningConfig(key=pki.key, certificate=pki.cert, chain=(pki.chain,)))
    doc = tmp_path / "rollout.json"
    doc.write_bytes(b'{"pinned": 1}')
    (tmp_path / "rollout.json.sig").write_bytes(
        load_signer(SigningConfig(key=keys.key)).sign_bytes("fuel/rollout.json", doc.read_bytes()))
    result = subprocess.run([sys.executable, "-m", "tests.signing.lean_verify", str(signed_version), str(keys.pub),
                             str(root), str(pki.ca), str(doc), str(tmp_path / "rollout.json.sig")],
                            capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["found"] == {"key": "key", "certificate": "certificate", "pointer": "fuel/rollout.json",
                               "tampered": "tampered"}
    assert report["loaded"] == [] and report["attempts"] == []


def test_importing_the_sidecar_loads_no_signing_library() -> None:
    script = ("import sys, serving.signing, serving.sidecar.worker, serving.sidecar.cli; "
              "print(sorted(m for m in sys.modules if m.split('.')[0] in "
              "('model_signing', 'OpenSSL', 'sigstore', 'sigstore_models', 'pydantic')))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
