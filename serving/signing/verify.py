"""Verify a version directory, or one document with its detached signature, against trust anchors.

A version passes only if ``model.sig`` verifies with a trusted key or certificate chain AND the
statement's set of files equals the directory's set of files (``model.sig`` aside) AND every
digest matches. ``file_digests`` lets a caller that has just hashed the files (the sidecar's
download checks each file's sha256 against ``manifest.json`` as it lands) pass those digests
instead of hashing the version a second time; the check stays exactly as strict, because the
set of files is still read from the directory and every digest is still compared with the
signed statement. A file missing from ``file_digests`` is hashed here.

Example::

    >>> from serving.signing.trust import Trust
    >>> try:
    ...     verify_version(Path("/models/fuel/3"), Trust())
    ... except TrustConfigError as exc:
    ...     print(exc)
    no trust anchor: give --trusted-keys and/or --trusted-ca

The sidecar, right after a download into staging (``manifest_bytes`` as read from the store)::

    info = verify_version(staging, trust, file_digests=manifest_digests(manifest, manifest_bytes))
"""
from __future__ import annotations

import datetime
import hashlib
import logging
import os
from pathlib import Path
from typing import Mapping

from serving.store.manifest import MANIFEST_NAME, Manifest, sha256_file
from serving.store.repository import SIGNATURE_NAME

from .errors import SignatureError, TrustConfigError
from .info import SignerInfo
from .statement import verify_statement
from .trust import Trust

__all__ = ["verify_version", "verify_bytes", "manifest_digests", "directory_files"]

log = logging.getLogger(__name__)
_LISTED = 5  # paths named per kind of difference in an error message


def manifest_digests(manifest: Manifest, manifest_bytes: bytes) -> dict[str, str]:
    """``file_digests`` for a download that checked every file against ``manifest``: its entries,
    plus the sha256 of the exact ``manifest.json`` bytes written next to them."""
    digests = {f.path: f.sha256 for f in manifest.files}
    digests[MANIFEST_NAME] = hashlib.sha256(manifest_bytes).hexdigest()
    return digests


def directory_files(root: Path) -> list[str]:
    """Every regular file under ``root`` as a relative '/' path, ``model.sig`` aside; a symlink
    anywhere is refused (a signed version holds plain files only)."""
    found = []
    for dirpath, dirs, names in os.walk(root):
        for name in dirs + names:
            full = Path(dirpath) / name
            if full.is_symlink():
                raise SignatureError("tampered", f"{full.relative_to(root).as_posix()} is a symlink")
        for name in names:
            rel = (Path(dirpath) / name).relative_to(root).as_posix()
            if rel != SIGNATURE_NAME:
                found.append(rel)
    return sorted(found)


def _listed(paths: list[str]) -> str:
    more = f" and {len(paths) - _LISTED} more" if len(paths) > _LISTED else ""
    return ", ".join(paths[:_LISTED]) + more


def _compare(root: Path, signed: Mapping[str, str], file_digests: Mapping[str, str] | None, what: str) -> None:
    actual = set(directory_files(root))
    extra, missing = sorted(actual - signed.keys()), sorted(signed.keys() - actual)
    problems = []
    if extra:
        problems.append(f"not signed: {_listed(extra)}")
    if missing:
        problems.append(f"signed but missing: {_listed(missing)}")
    if not problems:
        changed = []
        for path in sorted(actual):
            digest = (file_digests or {}).get(path)
            if digest is None:
                digest = sha256_file(root / path)
            if digest.lower() != signed[path].lower():
                changed.append(path)
        if changed:
            problems.append(f"changed since signing: {_listed(changed)}")
    if problems:
        raise SignatureError("tampered", f"{what} does not match its signature: " + "; ".join(problems))


def verify_version(version_dir: Path, trust: Trust, file_digests: Mapping[str, str] | None = None,
                   now: datetime.datetime | None = None) -> SignerInfo:
    """Check ``version_dir/model.sig`` against ``trust`` and the directory's files against it.

    ``file_digests``: relative path -> sha256 hex the caller has already computed from these
    very files (``manifest_digests``). Raises SignatureError (with ``reason``) on any failure.
    """
    if not trust.configured:
        raise TrustConfigError("no trust anchor: give --trusted-keys and/or --trusted-ca")
    root = Path(version_dir)
    try:
        bundle = (root / SIGNATURE_NAME).read_bytes()
    except FileNotFoundError as exc:
        raise SignatureError("unsigned", f"{root} has no {SIGNATURE_NAME}, and {trust.describe()} "
                                         "requires one") from exc
    info = verify_statement(bundle, trust, now)
    _compare(root, info.files, file_digests, str(root))
    log.debug("%s: signature by %s covers its %d files", root, info.describe(), len(info.files))
    return info


def verify_bytes(data: bytes, signature: bytes | None, trust: Trust, name: str | None = None,
                 now: datetime.datetime | None = None) -> SignerInfo:
    """Check a detached signature over one document (``rollout.json.sig``).

    ``name``, when given, must be the statement's subject name (``fuel/rollout.json``), so a
    signed document of one model cannot be replayed onto another.
    """
    if not trust.configured:
        raise TrustConfigError("no trust anchor: give --trusted-keys and/or --trusted-ca")
    what = name or "the document"
    if signature is None:
        raise SignatureError("unsigned", f"{what} has no detached signature, and {trust.describe()} requires one")
    info = verify_statement(signature, trust, now)
    digest = hashlib.sha256(data).hexdigest()
    if info.files != {".": digest}:
        raise SignatureError("tampered", f"{what} changed since signing (or the signature covers something else)")
    if name is not None and info.statement_name != name:
        raise SignatureError("tampered", f"the signature is for {info.statement_name!r}, not {name!r}")
    return info
