"""One model's view of the store: the fleet pointer, the complete versions, and downloads,
with backoff after store errors and the sync metrics.

Example::

    >>> DownloadOutcome("ok").ok
    True
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from typing import Callable

from serving.signing import SignatureError
from serving.store import Store, StoreError, StoreIntegrityError, StoreNotFoundError
from serving.store.manifest import MANIFEST_NAME, Manifest, ManifestError
from serving.store.repository import SIGNATURE_NAME, ModelRepository

from .metrics import SidecarMetrics
from .pointer import PointerFollower, RolloutPointer
from .settings import Settings
from .sync import DiskFullError, Downloader

__all__ = ["StoreView", "DownloadOutcome"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DownloadOutcome:
    #: ok | integrity_error | signature_error | disk_full | store_error | local_error (the metric's label)
    result: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.result == "ok"


class StoreView:
    def __init__(self, model: str, store: Store, settings: Settings, downloader: Downloader,
                 metrics: SidecarMetrics, clock: Callable[[], float]) -> None:
        self.model = model
        self.repo = ModelRepository(store, model)
        self.settings = settings
        self.downloader = downloader
        self.metrics = metrics
        self.clock = clock
        self.follower = PointerFollower(store, model, settings.pointer_trust, downloader.model_dir)
        self.pointer: RolloutPointer = self.follower.pointer
        #: Why the store's pointer is not followed right now (None: it is).
        self.pointer_refusal: str | None = None
        self._counted_refusal: str | None = None
        self.versions: list[int] = []
        self.last_error: str | None = None
        self._failures = 0
        self.retry_at = 0.0

    @property
    def uri(self) -> str:
        return self.repo.store.uri

    def backing_off(self) -> bool:
        """A store error was seen and its retry time has not come: make no request now."""
        return self.clock() < self.retry_at

    def refresh(self) -> bool:
        """Re-read the pointer and the versions, unless backing off. False on a store error."""
        if self.backing_off():
            return False
        try:
            self.pointer = self.follower.read()
            self.versions = self.repo.versions()
        except StoreError as exc:
            self.failed(exc)
            return False
        self.pointer_refusal = self.follower.refusal
        if self.pointer_refusal != self._counted_refusal and self.follower.refusal_reason:
            self.metrics.pointer_refused.labels(self.model, self.follower.refusal_reason).inc()  # once per condition
        self._counted_refusal = self.pointer_refusal
        self.metrics.pinned.labels(self.model).set(self.pointer.pinned or 0)
        self._succeeded()
        return True

    def _succeeded(self) -> None:
        self.metrics.store_reachable.set(1)
        self.metrics.last_success.labels(self.model).set(self.clock())
        self._failures = 0
        #: No store request before this time (backoff after errors).
        self.retry_at = 0.0
        self.last_error = None

    def failed(self, exc: StoreError) -> None:
        """Count the error by kind and back off exponentially (capped at 8 poll intervals)."""
        self.metrics.store_errors.labels(self.model, exc.kind).inc()
        if exc.kind not in ("not_found", "integrity"):
            self.metrics.store_reachable.set(0)
        self._failures += 1
        poll = self.settings.poll_interval_seconds
        backoff = min(poll * 2 ** (self._failures - 1), poll * 8)
        self.retry_at = self.clock() + backoff
        self.last_error = f"store error ({exc.kind}), retrying in {backoff:.1f}s: {exc}"

    def manifest_digest(self, version: int) -> str:
        """What a bad mark is judged on: the manifest's sha256; with a trust anchor, the signature's too
        (``manifest:signature``), so that signing a refused version, or signing it again, retries it."""
        prefix = f"{self.model}/{version}"
        digest = hashlib.sha256(self.repo.store.read_bytes(f"{prefix}/{MANIFEST_NAME}")).hexdigest()
        if self.downloader.trust is None:
            return digest
        try:
            signature = hashlib.sha256(self.repo.store.read_bytes(f"{prefix}/{SIGNATURE_NAME}")).hexdigest()
        except StoreNotFoundError:
            signature = "unsigned"
        return f"{digest}:{signature}"

    def _manifest(self, version: int) -> tuple[Manifest, bytes]:
        """The version's manifest, and its bytes exactly as stored (what a signature covers)."""
        data = self.repo.store.read_bytes(f"{self.model}/{version}/{MANIFEST_NAME}")
        manifest = Manifest.from_json(data)
        if manifest.model != self.model or manifest.version != version:
            raise ManifestError(f"manifest at {self.model}/{version} describes {manifest.model}/{manifest.version}")
        return manifest, data

    def verify_local(self, version: int) -> DownloadOutcome:
        """With a trust anchor: the signature of the version already on disk (the stable one at start-up)."""
        try:
            signer = self.downloader.verify_local(version)
        except SignatureError as exc:
            return DownloadOutcome("signature_error", f"{self.model} version {version} on disk refused "
                                                      f"({exc.reason}): {exc}")
        if signer is not None:
            log.info("%s version %s on disk: signed by %s", self.model, version, signer.describe())
        return DownloadOutcome("ok")

    def download(self, version: int) -> DownloadOutcome:
        """Fetch + verify + rename ``version`` into the model dir; never raises for store trouble."""
        try:
            manifest, manifest_bytes = self._manifest(version)
            started = time.monotonic()
            result = self.downloader.fetch(manifest, manifest_bytes)
            self.metrics.download_seconds.labels(self.model).observe(time.monotonic() - started)
            if result.signer is not None:
                log.info("%s version %s: signature verified in %.2f s, signed by %s", self.model, version,
                         result.verify_seconds, result.signer.describe())
        except SignatureError as exc:
            outcome = DownloadOutcome("signature_error", f"refused ({exc.reason}): {exc}")
        except StoreIntegrityError as exc:
            outcome = DownloadOutcome("integrity_error", str(exc))
        except DiskFullError as exc:
            outcome = DownloadOutcome("disk_full", str(exc))
        except ManifestError as exc:
            outcome = DownloadOutcome("store_error", str(exc))
        except StoreError as exc:
            self.failed(exc)
            outcome = DownloadOutcome("store_error", self.last_error or str(exc))
        except OSError as exc:  # the local volume (permissions, I/O): not the version's fault, retried
            outcome = DownloadOutcome("local_error", f"cannot write {self.model} version {version} to the "
                                                      f"model volume: {exc}")
        else:
            outcome = DownloadOutcome("ok")
            self._succeeded()
        self.metrics.downloads.labels(self.model, outcome.result).inc()
        return outcome
