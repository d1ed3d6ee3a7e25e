"""The one ModelServerConfig the server runs, shared by every model's worker.

HandleReloadConfigRequest replaces the whole config, so workers never call it directly: each
sets its own entries here and asks for an apply. Applies are serialized and always have a
deadline. TF Serving's label rule is enforced here once: a label is sent only when its version
is AVAILABLE right now; otherwise it is held back and re-sent on the next apply (the two-step
label move, and the first start-up, where the server refuses labels on loading versions).

Example::

    >>> from pathlib import Path
    >>> cfg = ServingConfig(client=None, config_file=Path("/tmp/plantserve-doc.config"))
    >>> cfg.set("fuel", "/m/fuel", (3,), {"stable": 3})
    >>> cfg.pending_labels("fuel")
    {'stable': 3}
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Mapping

from .server_config import ModelEntry, to_proto, to_text, write_config_file
from .tfserving import ServerClient

__all__ = ["ServingConfig"]

log = logging.getLogger(__name__)


class ServingConfig:
    def __init__(self, client: ServerClient | None, config_file: Path) -> None:
        self.client = client
        self.config_file = config_file
        self._state = threading.Lock()   # short: the dicts below
        self._applying = threading.Lock()  # long: one reload at a time
        self._desired: dict[str, ModelEntry] = {}
        self._applied: dict[str, ModelEntry] = {}
        self._generation = 0
        self._applied_generation = -1
        self._applied_epoch: int | None = None
        self._written: str | None = None

    def set(self, name: str, base_path: str, versions: tuple[int, ...], labels: Mapping[str, int]) -> None:
        entry = ModelEntry(name, base_path, tuple(sorted(set(versions))), dict(labels))
        with self._state:
            if self._desired.get(name) != entry:
                self._desired[name] = entry
                self._generation += 1

    def remove(self, name: str) -> None:
        with self._state:
            if self._desired.pop(name, None) is not None:
                self._generation += 1

    def desired(self, name: str) -> ModelEntry | None:
        with self._state:
            return self._desired.get(name)

    def current(self) -> bool:
        """What was applied is still on the server: no reconnect since (a restarted server starts from its
        start-up file and has lost every config applied by RPC)."""
        return self.client is not None and self._applied_epoch == self.client.connection_epoch

    def applied_labels(self, name: str) -> dict[str, int]:
        """Labels the server has now; none after a reconnect until the config is applied again."""
        with self._state:
            entry = self._applied.get(name)
            return dict(entry.labels) if entry and self.current() else {}

    def pending_labels(self, name: str) -> dict[str, int]:
        """Labels wanted but not yet on the server."""
        have_labels = self.applied_labels(name)
        with self._state:
            want = self._desired.get(name)
            return {k: v for k, v in (want.labels.items() if want else []) if have_labels.get(k) != v}

    def write_startup_file(self, with_labels: bool = False) -> None:
        """The config the server starts (and restarts) with: the desired versions, no shadow candidates.
        Labels only ``with_labels``, when the server runs with --allow_version_labels_for_unavailable_models
        (TF Serving refuses a label on a version that is not AVAILABLE yet, and at start-up none is): a
        restarted server then answers ``stable`` from its first request."""
        with self._state:
            entries = [ModelEntry(e.name, e.base_path, e.versions, dict(e.labels) if with_labels else {})
                       for e in self._desired.values() if "__" not in e.name]
        text = to_text(entries)
        if text != self._written:
            write_config_file(self.config_file, entries)
            self._written = text

    def needs_apply(self) -> bool:
        with self._state:
            names = list(self._desired)
            stale = self._applied_generation != self._generation
        return (stale or self._applied_epoch != self.client.connection_epoch
                or any(self.pending_labels(n) for n in names))

    def mark_stale(self) -> None:
        """Force the next ensure() to re-send the config (e.g. the server lost a version)."""
        with self._state:
            self._generation += 1

    def apply(self, timeout_seconds: float) -> None:
        """Send the whole config, holding back labels whose version is not AVAILABLE now."""
        with self._applying:
            epoch = self.client.connection_epoch
            with self._state:
                generation = self._generation
                desired = list(self._desired.values())
                applied = dict(self._applied)
            entries = []
            reconnected = self._applied_epoch != epoch
            for entry in desired:
                labels = dict(entry.labels)
                if labels:
                    states = self.client.status(entry.name)
                    labels = {k: v for k, v in labels.items() if states.get(v, ("",))[0] == "AVAILABLE"}
                    # A label that cannot move yet stays where it was, if that version is still served.
                    before = None if reconnected else applied.get(entry.name)
                    for k, old in (before.labels.items() if before else []):
                        if k not in labels and k in entry.labels and old in entry.versions \
                                and states.get(old, ("",))[0] == "AVAILABLE":
                            labels[k] = old
                entries.append(ModelEntry(entry.name, entry.base_path, entry.versions, labels))
            log.debug("applying server config: %s", entries)
            self.client.reload(to_proto(entries), timeout_seconds)
            with self._state:
                self._applied = {e.name: e for e in entries}
                self._applied_generation = generation
                self._applied_epoch = epoch

    def ensure(self, timeout_seconds: float) -> bool:
        """Apply when something changed, the connection dropped, or labels are still pending."""
        if not self.needs_apply():
            return False
        self.apply(timeout_seconds)
        return True
