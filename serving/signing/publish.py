"""Signing at publish: the staged local copy, once its manifest is final.

``sign_staged`` writes ``manifest.json`` into the staged directory (the exact bytes
``ModelRepository.publish`` uploads last), signs every file there, and checks the statement
lists exactly the manifest's files plus ``manifest.json``, so what readers download is what was
signed. ``publish`` then uploads the files, ``model.sig``, and the manifest last.

Example (``plantserve train`` does this when given ``--signing-key``)::

    signature = sign_staged(export_dir, manifest, load_signer(SigningConfig(key=Path("key.pem"))))
    repo.publish(export_dir, manifest, progress, signature=signature)
"""
from __future__ import annotations

import logging
from pathlib import Path

from serving.store.manifest import MANIFEST_NAME, Manifest

from .errors import SigningConfigError
from .signer import Signer

__all__ = ["sign_staged"]

log = logging.getLogger(__name__)


def sign_staged(local_dir: Path, manifest: Manifest, signer: Signer) -> bytes:
    """Write ``local_dir/manifest.json`` and return the ``model.sig`` bytes over the whole directory."""
    local_dir = Path(local_dir)
    (local_dir / MANIFEST_NAME).write_bytes(manifest.to_json().encode())
    signed = signer.sign_version(local_dir, f"{manifest.model}/{manifest.version}")
    expected = {f.path: f.sha256 for f in manifest.files}
    covered = {path: digest for path, digest in signed.files.items() if path != MANIFEST_NAME}
    if covered != expected or MANIFEST_NAME not in signed.files:
        stray = sorted(set(covered) ^ set(expected))
        raise SigningConfigError(f"the staged copy {local_dir} changed after its manifest was computed "
                                 f"({', '.join(stray) or 'digests differ'}): nothing was published")
    log.info("signed %s/%s with %s", manifest.model, manifest.version, signer.describe())
    return signed.bundle
