"""The layout of one model in a store, and the operations on its versions.

::

    <model>/<version>/...           the SavedModel files of a version
    <model>/<version>/model.sig     the OpenSSF model-signing bundle over every file above (optional),
                                    written just before the manifest
    <model>/<version>/manifest.json written last: the version is visible only once it exists
    <model>/.claims/<version>       version-number claims, created exclusively, never deleted
    <model>/rollout.json            the fleet rollout pointer (see serving.sidecar.pointer)
    <model>/rollout.json.sig        its detached signature (optional)

Version numbers are claimed with an exclusive create (``O_EXCL`` locally, ``If-None-Match: *``
on S3), so two publishers can never take the same number, and a number is never reused
even after its version is deleted.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import logging
from collections import defaultdict
from pathlib import Path

from .base import ProgressFn, Store
from .errors import StoreConflictError, StoreNotFoundError
from .manifest import MANIFEST_NAME, Manifest, ManifestError, verify_dir

__all__ = ["ModelRepository", "FetchedVersion", "CLAIMS_DIR", "SIGNATURE_NAME"]

log = logging.getLogger(__name__)

CLAIMS_DIR = ".claims"
#: A version's signature (serving.signing), beside its files; never listed in its manifest.
SIGNATURE_NAME = "model.sig"
#: Files moved at once by publish() and fetch(); each S3 file also splits into parallel parts.
TRANSFER_CONCURRENCY = 4
#: How many numbers reserve_next() tries before giving up (each failure means a concurrent publisher).
_MAX_CLAIM_ATTEMPTS = 64


def _as_version(name: str) -> int | None:
    """TF Serving's rule: a child whose name parses as an int64 is a version ("007" is 7)."""
    try:
        value = int(name, 10)
    except ValueError:
        return None
    return value if name.strip() == name and value >= 0 else None


@dataclasses.dataclass(frozen=True)
class FetchedVersion:
    """A version downloaded byte for byte as published (see ``ModelRepository.fetch_exact``)."""

    manifest: Manifest
    #: Relative path -> sha256 of every file written, manifest.json included (each checked on arrival).
    digests: dict[str, str]
    signed: bool
    #: Objects under the version's prefix that its manifest does not list (never downloaded).
    unlisted: list[str]


class ModelRepository:
    def __init__(self, store: Store, model: str) -> None:
        if not model or "/" in model or model.startswith("."):
            raise ValueError(f"invalid model name {model!r}")
        self.store = store
        self.model = model
        #: version -> why it is ignored, so that a lasting problem is logged once, not on every poll.
        self._ignored: dict[int, str] = {}

    def _ignore(self, version: int, why: str) -> None:
        if self._ignored.get(version) != why:
            log.warning("ignoring %s version %s: %s", self.model, version, why)
            self._ignored[version] = why

    def _listing(self) -> dict[int, dict[str, int]]:
        """version -> {relative path: size} for every numeric dir, complete or not."""
        found: dict[int, dict[str, int]] = defaultdict(dict)
        for obj in self.store.list(f"{self.model}/"):
            head, _, rel = obj.key[len(self.model) + 1:].partition("/")
            version = _as_version(head)
            if version is not None and rel:
                found[version][rel] = obj.size
        return found

    def versions(self) -> list[int]:
        """Versions with a valid manifest whose files are all present at the listed sizes, ascending."""
        ready = []
        for version, files in sorted(self._listing().items()):
            if MANIFEST_NAME not in files:
                continue
            try:
                manifest = self.manifest(version)
            except (ManifestError, StoreNotFoundError) as exc:
                self._ignore(version, str(exc))
                continue
            missing = [f.path for f in manifest.files if files.get(f.path) != f.size]
            if missing:
                self._ignore(version, f"files missing or truncated: {missing[:5]}")
                continue
            if self._ignored.pop(version, None) is not None:
                log.info("%s version %s is complete now", self.model, version)
            ready.append(version)
        return ready

    def latest(self) -> int | None:
        versions = self.versions()
        return versions[-1] if versions else None

    def manifest(self, version: int) -> Manifest:
        return self._parse_manifest(version, self.store.read_bytes(f"{self.model}/{version}/{MANIFEST_NAME}"))

    def _parse_manifest(self, version: int, data: bytes) -> Manifest:
        manifest = Manifest.from_json(data)
        if manifest.model != self.model or manifest.version != version:
            raise ManifestError(
                f"manifest at {self.model}/{version} describes {manifest.model}/{manifest.version}"
            )
        return manifest

    def reserve_next(self) -> int:
        """Claim the next version number: one above every claim and every version dir ever seen."""
        claimed = {
            v for obj in self.store.list(f"{self.model}/{CLAIMS_DIR}/")
            if (v := _as_version(obj.key.rsplit("/", 1)[-1])) is not None
        }
        candidate = max(claimed | set(self._listing()) | {0}) + 1
        for _ in range(_MAX_CLAIM_ATTEMPTS):
            try:
                self.store.create_exclusive(f"{self.model}/{CLAIMS_DIR}/{candidate}", b"")
                return candidate
            except StoreConflictError:
                candidate += 1
        raise StoreConflictError(f"could not claim a version of {self.model} after {_MAX_CLAIM_ATTEMPTS} tries")

    def publish(self, local_dir: Path, manifest: Manifest, progress: ProgressFn | None = None,
                signature: bytes | None = None) -> str:
        """Upload every file of ``manifest`` from ``local_dir``, then ``signature`` as ``model.sig``, then
        the manifest last. Returns the URI.

        A signature covers ``manifest.json`` too, so it must have been computed over
        ``local_dir/manifest.json`` holding exactly ``manifest.to_json()`` (see
        ``serving.signing.publish.sign_staged``); anything else is refused before any upload.
        If anything fails or is interrupted before the manifest is written, the objects uploaded so
        far (the signature included) are removed (best effort), so no half-written version is left
        behind; its number stays claimed and is never reused.
        """
        verify_dir(local_dir, manifest)
        manifest_bytes = manifest.to_json().encode()
        if signature is not None:
            staged = local_dir / MANIFEST_NAME
            if not staged.is_file() or staged.read_bytes() != manifest_bytes:
                raise ValueError(f"{staged} is not the manifest being published: sign after writing it")
        prefix = f"{self.model}/{manifest.version}"
        pool = concurrent.futures.ThreadPoolExecutor(TRANSFER_CONCURRENCY)
        try:
            futures = [
                pool.submit(self.store.upload_file, f"{prefix}/{f.path}", local_dir / f.path, progress)
                for f in manifest.files
            ]
            for future in futures:
                future.result()
            pool.shutdown(wait=True)
            if signature is not None:
                self.store.write_bytes(f"{prefix}/{SIGNATURE_NAME}", signature)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            self._remove_partial(prefix)
            raise
        self.store.write_bytes(f"{prefix}/{MANIFEST_NAME}", manifest_bytes)
        return f"{self.store.uri}/{prefix}"

    def _remove_partial(self, prefix: str) -> None:
        try:
            for obj in list(self.store.list(f"{prefix}/")):
                self.store.delete(obj.key)
            self.store.delete(prefix)  # the emptied directory, for a local store
        except Exception as exc:  # noqa: BLE001 - the original error is the one to report
            log.warning("could not remove the partial upload at %s: %s (it has no manifest, so it is invisible)",
                        prefix, exc)

    def fetch(self, version: int, dest: Path, progress: ProgressFn | None = None,
              manifest: Manifest | None = None) -> Manifest:
        """Download a version's files into ``dest`` and verify them against its manifest.

        The caller owns ``dest`` (the sidecar passes a non-numeric staging dir and renames it).
        Raises StoreIntegrityError on any size or sha256 mismatch.
        """
        manifest = manifest or self.manifest(version)
        prefix = f"{self.model}/{version}"
        with concurrent.futures.ThreadPoolExecutor(TRANSFER_CONCURRENCY) as pool:
            futures = [
                pool.submit(self.store.download_file, f"{prefix}/{f.path}", dest / f.path, progress)
                for f in manifest.files
            ]
            for future in futures:
                future.result()
        verify_dir(dest, manifest)
        (dest / MANIFEST_NAME).write_text(manifest.to_json())
        return manifest

    def signature(self, version: int) -> bytes | None:
        """The version's ``model.sig``, or None when it was published unsigned."""
        try:
            return self.store.read_bytes(f"{self.model}/{version}/{SIGNATURE_NAME}")
        except StoreNotFoundError:
            return None

    def fetch_exact(self, version: int, dest: Path, progress: ProgressFn | None = None) -> FetchedVersion:
        """Download a version as published: its files (each verified against the manifest), the
        manifest's own bytes and ``model.sig`` when there is one, ready for signature verification."""
        manifest_bytes = self.store.read_bytes(f"{self.model}/{version}/{MANIFEST_NAME}")
        manifest = self._parse_manifest(version, manifest_bytes)
        self.fetch(version, dest, progress, manifest=manifest)
        (dest / MANIFEST_NAME).write_bytes(manifest_bytes)
        signature = self.signature(version)
        if signature is not None:
            (dest / SIGNATURE_NAME).write_bytes(signature)
        listed = {f.path for f in manifest.files} | {MANIFEST_NAME, SIGNATURE_NAME}
        unlisted = [o.key.split("/", 2)[2] for o in self.store.list(f"{self.model}/{version}/")
                    if o.key.split("/", 2)[2] not in listed]
        digests = {f.path: f.sha256 for f in manifest.files}
        digests[MANIFEST_NAME] = hashlib.sha256(manifest_bytes).hexdigest()
        return FetchedVersion(manifest, digests, signature is not None, unlisted)
