"""Download one version into a staging dir, verify it, and rename it into place.

``<base>/<model>/.staging-<version>-<random>/`` is ignored by the server (not an integer);
only a fully verified dir is ``rename()``d to ``<base>/<model>/<version>/``. Files are
downloaded in parallel (each large S3 file also as parallel ranged GETs), and each file is
hashed as soon as it lands, so verification overlaps the remaining downloads.

With a trust anchor (``trust``), ``model.sig`` is fetched into staging too, ``manifest.json`` is
written with the exact bytes read from the store (what was signed), and ``verify_version`` checks
the signature and every file against it before the rename, reusing the sha256 each file was just
checked with (``manifest_digests``): a refusal raises ``SignatureError`` and nothing is renamed.
A version already on disk is verified again from its files before it is handed out.

Example::

    >>> from pathlib import Path
    >>> local_versions(Path("/nonexistent"))
    []
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from serving.signing import SignatureError, Trust, manifest_digests, verify_version
from serving.store import Store, StoreIntegrityError, StoreNotFoundError
from serving.store.manifest import MANIFEST_NAME, Manifest, sha256_file
from serving.store.repository import SIGNATURE_NAME

__all__ = ["Downloader", "DiskFullError", "FetchResult", "local_versions", "clean_staging", "prune", "remove_version",
           "STAGING_PREFIX"]

log = logging.getLogger(__name__)

STAGING_PREFIX = ".staging-"


class DiskFullError(OSError):
    """Not enough free space on the model volume for a version."""


@dataclasses.dataclass(frozen=True)
class FetchResult:
    path: Path
    #: Bytes received, retried ranges included.
    bytes: int
    download_seconds: float
    verify_seconds: float
    #: Bytes received and then thrown away because a range was retried (a connection broke mid-file).
    retried_bytes: int = 0
    #: Who signed it (``serving.signing.SignerInfo``), when a trust anchor is configured.
    signer: object | None = None


def local_versions(model_dir: Path) -> list[int]:
    """Integer-named dirs (what the server sees) that hold the manifest the sidecar leaves last."""
    if not model_dir.is_dir():
        return []
    found = []
    for child in model_dir.iterdir():
        if child.is_dir() and child.name.isdigit() and (child / MANIFEST_NAME).is_file():
            found.append(int(child.name))
    return sorted(found)


def clean_staging(model_dir: Path) -> list[Path]:
    """Delete staging leftovers (a killed sidecar, a failed download). Returns what was removed."""
    removed = []
    if model_dir.is_dir():
        for child in model_dir.iterdir():
            if child.name.startswith(STAGING_PREFIX):
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child)
    return removed


def prune(model_dir: Path, keep: set[int], keep_count: int) -> list[int]:
    """Delete version dirs beyond the newest ``keep_count``; versions in ``keep`` always stay."""
    versions = local_versions(model_dir)
    newest = set(sorted(versions)[-keep_count:]) if keep_count else set()
    removed = []
    for version in versions:
        if version not in keep and version not in newest:
            remove_version(model_dir, version)
            removed.append(version)
    return removed


def remove_version(model_dir: Path, version: int) -> None:
    """Rename out of the server's view first (atomic), then delete."""
    final = model_dir / str(version)
    if final.is_dir():
        doomed = model_dir / f"{STAGING_PREFIX}{version}-delete-{os.getpid()}"
        final.rename(doomed)
        shutil.rmtree(doomed, ignore_errors=True)


class _RateLimiter:
    """A token bucket shared by a download's threads; 0 = unlimited."""

    def __init__(self, bytes_per_second: int) -> None:
        self.rate = bytes_per_second
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def __call__(self, nbytes: int) -> None:
        if not self.rate:
            return
        with self._lock:
            now = time.monotonic()
            self._next = max(self._next, now) + nbytes / self.rate
            delay = self._next - now
        if delay > 0:
            time.sleep(delay)


class Downloader:
    def __init__(self, store: Store, model: str, model_dir: Path, *, concurrency: int = 4,
                 rate_limit_bytes_per_second: int = 0, headroom_bytes: int = 0,
                 on_bytes: Callable[[int], None] | None = None,
                 on_retry: Callable[[int], None] | None = None, trust: Trust | None = None) -> None:
        self.store = store
        self.model = model
        self.model_dir = model_dir
        self.concurrency = concurrency
        self.rate_limit = rate_limit_bytes_per_second
        self.headroom_bytes = headroom_bytes
        self.on_bytes = on_bytes
        self.on_retry = on_retry
        #: Versions must carry a valid model.sig (None or unconfigured: no signature check).
        self.trust = trust if trust is not None and trust.configured else None

    def check_space(self, manifest: Manifest) -> None:
        self.model_dir.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(self.model_dir).free
        need = manifest.total_bytes + self.headroom_bytes
        if free < need:
            raise DiskFullError(
                f"{self.model} version {manifest.version} needs {need} bytes (with headroom) but "
                f"{self.model_dir} has {free} free: enlarge the volume or lower --keep-versions")

    def verify_local(self, version: int) -> object | None:
        """With a trust anchor: check the signature of ``<version>/`` on disk, hashing its files
        (SignatureError on refusal); the signer, or None without an anchor."""
        if self.trust is None:
            return None
        return verify_version(self.model_dir / str(version), self.trust)

    def fetch(self, manifest: Manifest, manifest_bytes: bytes | None = None) -> FetchResult:
        """Download + verify into staging, then rename to ``<version>/``. Staging is removed on failure.

        ``manifest_bytes``: ``manifest.json`` exactly as read from the store (required with a trust
        anchor: the signature covers those bytes, not a re-serialisation of them).
        """
        final = self.model_dir / str(manifest.version)
        if final.is_dir():
            started = time.monotonic()
            signer = self.verify_local(manifest.version)
            return FetchResult(final, 0, 0.0, time.monotonic() - started, signer=signer)
        if self.trust is not None and manifest_bytes is None:
            raise ValueError("a signed download needs the manifest's bytes as read from the store")
        self.check_space(manifest)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{manifest.version}-", dir=self.model_dir))
        started = time.monotonic()
        try:
            moved, retried = self._download_and_hash(manifest, staging)
            downloaded = time.monotonic()
            (staging / MANIFEST_NAME).write_bytes(manifest_bytes if manifest_bytes is not None
                                                  else manifest.to_json().encode())
            signer = self._verify_signature(manifest, manifest_bytes, staging)
            staging.chmod(0o755)
            staging.rename(final)
            verified = time.monotonic()
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return FetchResult(final, moved, downloaded - started, verified - downloaded, retried, signer)

    def _verify_signature(self, manifest: Manifest, manifest_bytes: bytes | None, staging: Path) -> object | None:
        """model.sig into staging, then the signature over every file, with the digests just checked."""
        if self.trust is None or manifest_bytes is None:
            return None
        try:
            (staging / SIGNATURE_NAME).write_bytes(
                self.store.read_bytes(f"{self.model}/{manifest.version}/{SIGNATURE_NAME}"))
        except StoreNotFoundError:
            pass  # verify_version refuses it as unsigned, naming the trust anchors
        try:
            return verify_version(staging, self.trust, file_digests=manifest_digests(manifest, manifest_bytes))
        except SignatureError as exc:
            where = f"{self.model}/{manifest.version}"
            message = str(exc).replace(str(staging), where)
            raise SignatureError(exc.reason, message if where in message else f"{where}: {message}") from exc

    def _download_and_hash(self, manifest: Manifest, staging: Path) -> tuple[int, int]:
        limiter = _RateLimiter(self.rate_limit)
        counted = [0, 0]  # received, rewound
        lock = threading.Lock()

        def progress(nbytes: int) -> None:
            # s3transfer reports a negative count when it rewinds a range to retry it (a connection broke
            # mid-file): those bytes come again, so they are retried bytes, not a download going backwards.
            if nbytes < 0:
                with lock:
                    counted[1] -= nbytes
                if self.on_retry:
                    self.on_retry(-nbytes)
                return
            with lock:
                counted[0] += nbytes
            if self.on_bytes:
                self.on_bytes(nbytes)
            limiter(nbytes)

        def one(entry) -> str | None:
            dest = staging / entry.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.store.download_file(f"{self.model}/{manifest.version}/{entry.path}", dest, progress)
            size = dest.stat().st_size
            if size != entry.size:
                return f"{entry.path}: size {size} != {entry.size}"
            if sha256_file(dest) != entry.sha256:
                return f"{entry.path}: sha256 mismatch"
            return None

        largest_first = sorted(manifest.files, key=lambda f: -f.size)
        with concurrent.futures.ThreadPoolExecutor(self.concurrency, thread_name_prefix=f"dl-{self.model}") as pool:
            futures = [pool.submit(one, entry) for entry in largest_first]
            try:
                problems = [p for p in (f.result() for f in futures) if p]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
        if problems:
            raise StoreIntegrityError(
                f"{self.model} version {manifest.version} failed verification: " + "; ".join(problems))
        if counted[1]:
            log.info("%s version %s: %s bytes were received again after broken connections", self.model,
                     manifest.version, counted[1])
        return counted[0], counted[1]
