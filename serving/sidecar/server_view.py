"""One model's view of the server: reconcile the shared config, read per-version states, and
publish labels, states and availability as metrics. Everything goes through TF Serving's own
interfaces (gRPC ModelService, and the Prometheus page for automatic rollback).

Example (with the in-process fake of tests/sidecar/fakes.py)::

    view = ServerView("fuel", FakeServer(), ServingConfig(...), metrics, settings, Path("/models/fuel"))
    view.reconcile(); view.observe(stable=3, verified=True)  # -> True once 3 is AVAILABLE and labelled
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from . import server_metrics
from .applier import ServingConfig
from .metrics import SidecarMetrics
from .settings import Settings
from .sync import local_versions
from .tfserving import ServerClient

__all__ = ["ServerView"]

_SERVING = ("AVAILABLE", "LOADING", "START")


class ServerView:
    def __init__(self, model: str, client: ServerClient, config: ServingConfig, metrics: SidecarMetrics,
                 settings: Settings, model_dir: Path,
                 scrape: Callable[[str], server_metrics.Snapshot] | None = None) -> None:
        self.model = model
        self.client = client
        self.config = config
        self.metrics = metrics
        self.settings = settings
        self.model_dir = model_dir
        self._scrape = scrape
        self.states: dict[int, tuple[str, str]] = {}

    def state_of(self, version: int | None) -> str:
        return self.states.get(version, ("",))[0] if version is not None else ""

    def reconcile(self) -> None:
        """Re-apply the config when it changed, the connection dropped (a restarted server lost what was
        applied by RPC), a wanted version is not being served, or labels wait for AVAILABLE versions.
        Raises ServerError when the server is unreachable or refuses."""
        states = self.client.status(self.model)
        desired = self.config.desired(self.model)
        if desired and any(states.get(v, ("",))[0] not in _SERVING for v in desired.versions):
            self.config.mark_stale()
        if self.config.ensure(self.settings.load_timeout_seconds):
            if self.config.pending_labels(self.model):  # versions that just became AVAILABLE
                self.config.ensure(self.settings.rpc_timeout_seconds)
            states = self.client.status(self.model)
        self.states = states

    def refresh(self) -> None:
        self.states = self.client.status(self.model)

    def observe(self, stable: int | None, verified: bool) -> bool:
        """Publish per-version states and labels; return whether ``stable`` is serving plant traffic."""
        on_disk = set(local_versions(self.model_dir))
        for version, (state, _msg) in self.states.items():
            if version in on_disk or state != "END":
                self.metrics.set_version_state(self.model, version, state)
            else:
                self.metrics.forget_version(self.model, version)
        labels = self.config.applied_labels(self.model)
        available = self.state_of(stable) == "AVAILABLE" and labels.get("stable") == stable and verified
        self.metrics.available.labels(self.model).set(1 if available else 0)
        for label in ("stable", "previous"):
            self.metrics.label_version.labels(self.model, label).set(labels.get(label, 0))
        return available

    def scrape(self) -> server_metrics.Snapshot:
        """The server's request counts and latency for this model (OSError when its REST port is down)."""
        if self._scrape is not None:
            return self._scrape(self.model)
        url = self.settings.server_rest + self.settings.server_metrics_path
        return server_metrics.scrape(url, self.model, self.settings.rpc_timeout_seconds)
