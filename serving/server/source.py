"""The file-system poller (``FileSystemStoragePathSource``): lists every configured base path and hands
each model's aspired versions to the manager.

If any base path is missing, the whole poll is aborted, for every model, as TF Serving does. With
``--file_system_poll_wait_seconds=0`` the disk is read once per config change only.
"""
from __future__ import annotations

import logging
import threading

from serving.server.manager import ModelManager
from serving.server.versions import BasePathMissing, aspired_versions, list_versions

__all__ = ["FileSystemSource"]

log = logging.getLogger(__name__)


class FileSystemSource:
    def __init__(self, manager: ModelManager, poll_wait_seconds: float) -> None:
        self._manager = manager
        self._wait = poll_wait_seconds
        self._poke = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fs-poll", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poll_now(self) -> None:
        """Ask for a poll right away (after a config change)."""
        self._poke.set()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()

    def poll_once(self) -> bool:
        """One poll; False when it was aborted because a base path is missing."""
        models = self._manager.configured_models()
        found: dict[str, dict[int, str]] = {}
        for name, (base_path, policy) in models.items():
            try:
                on_disk = list_versions(base_path)
            except BasePathMissing as exc:
                log.error("File system storage path source: %s for servable %s; aborting this poll for all "
                          "models", exc, name)
                return False
            except OSError as exc:
                log.error("File system storage path source: cannot list %s for servable %s: %s", base_path, name, exc)
                return False
            if not on_disk:
                log.warning("No versions of servable %s found under base path %s", name, base_path)
            found[name] = aspired_versions(on_disk, policy)
        for name, aspired in found.items():
            self._manager.set_aspired(name, aspired)
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self._poke.clear()
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - the poller must survive anything on disk
                log.exception("file system poll failed")
            timeout = self._wait if self._wait > 0 else None
            self._poke.wait(timeout)
