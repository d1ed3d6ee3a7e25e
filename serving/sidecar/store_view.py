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

from serving.store import Store, StoreError, StoreIntegrityError
from serving.store.manifest import MANIFEST_NAME, ManifestError
from serving.store.repository import ModelRepository

from .metrics import SidecarMetrics
from .pointer import PointerError, RolloutPointer, read_pointer
from .settings import Settings
from .sync import DiskFullError, Downloader

__all__ = ["StoreView", "DownloadOutcome"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DownloadOutcome:
    result: str  # ok | integrity_error | disk_full | store_error | local_error (the metric's label)
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
        self.pointer = RolloutPointer()
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
            try:
                self.pointer = read_pointer(self.repo.store, self.model)
            except PointerError as exc:
                log.warning("%s: %s; keeping the last good pointer", self.model, exc)
            self.versions = self.repo.versions()
        except StoreError as exc:
            self.failed(exc)
            return False
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
        return hashlib.sha256(self.repo.store.read_bytes(f"{self.model}/{version}/{MANIFEST_NAME}")).hexdigest()

    def download(self, version: int) -> DownloadOutcome:
        """Fetch + verify + rename ``version`` into the model dir; never raises for store trouble."""
        try:
            manifest = self.repo.manifest(version)
            started = time.monotonic()
            self.downloader.fetch(manifest)
            self.metrics.download_seconds.labels(self.model).observe(time.monotonic() - started)
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
