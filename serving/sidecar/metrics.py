"""The sidecar's Prometheus metrics, on a registry the caller owns (``registry=``).

TF Serving exports no availability and no per-version state; these families fill that gap,
and describe the sidecar's own sync and rollout work.

Example::

    >>> from prometheus_client import CollectorRegistry
    >>> m = SidecarMetrics(CollectorRegistry())
    >>> m.set_version_state("fuel", 3, "AVAILABLE")
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["SidecarMetrics", "STATES", "PHASES", "ROLLOUT_STEPS", "REJECTION_REASONS", "LABELS"]

STATES = ("UNKNOWN", "START", "LOADING", "AVAILABLE", "UNLOADING", "END")
#: state.Phase values (kept here as strings so that this module imports nothing of the worker's).
PHASES = ("starting", "loading", "verifying", "serving", "rolling_out", "watching", "rolling_back", "degraded")
ROLLOUT_STEPS = ("download", "verify", "load", "golden", "latency_probe", "promote")
#: Why a version is rejected: the gate (a rollout step, or integrity/signature found at download).
REJECTION_REASONS = ("integrity", "signature", "compatibility", "load", "golden", "latency_probe", "promote")
LABELS = ("stable", "previous")
_SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class SidecarMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.label_version = Gauge(
            "plantserve_model_label_version", "Version a label points at (0 = none)",
            ["model", "label"], registry=registry)
        self.version_state = Gauge(
            "plantserve_model_version_state", "1 for the current state of a version, from GetModelStatus",
            ["model", "version", "state"], registry=registry)
        self.available = Gauge(
            "plantserve_model_available", "1 when the stable version is AVAILABLE and labelled",
            ["model"], registry=registry)
        self.downloads = Counter(
            "plantserve_sync_downloads", "Version downloads by result",
            ["model", "result"], registry=registry)
        self.download_bytes = Counter(
            "plantserve_sync_download_bytes", "Bytes downloaded", ["model"], registry=registry)
        self.download_retried_bytes = Counter(
            "plantserve_sync_download_retried_bytes", "Bytes received again after a connection broke mid-file",
            ["model"], registry=registry)
        self.download_seconds = Histogram(
            "plantserve_sync_download_seconds", "Download+verify time of a version",
            ["model"], buckets=_SECONDS_BUCKETS, registry=registry)
        self.last_success = Gauge(
            "plantserve_sync_last_success_timestamp_seconds", "Unix time of the last successful sync",
            ["model"], registry=registry)
        self.rollouts = Counter(
            "plantserve_rollout", "Rollouts by result, and why: the gate that rejected a version (integrity, "
            "signature, compatibility, load, golden, latency_probe, promote), `automatic` or `pointer` for a "
            "rollback, `ok` for a promotion", ["model", "result", "reason"], registry=registry)
        self.step_seconds = Histogram(
            "plantserve_rollout_step_seconds", "Time spent in each rollout step",
            ["model", "step"], buckets=_SECONDS_BUCKETS, registry=registry)
        self.store_errors = Counter(
            "plantserve_store_errors", "Store errors by kind", ["model", "kind"], registry=registry)
        self.store_reachable = Gauge(
            "plantserve_store_reachable", "1 when the last store request succeeded", registry=registry)
        self.phase = Gauge(
            "plantserve_model_phase", "1 for the phase a model's worker is in (see /status)",
            ["model", "phase"], registry=registry)
        self.failures = Counter(
            "plantserve_sidecar_failures", "Problems a model's worker met, by reason (each condition counted once)",
            ["model", "reason"], registry=registry)
        self.judging_blind = Counter(
            "plantserve_rollout_judging_blind", "Times a promoted version could not be judged: no server metrics",
            ["model"], registry=registry)
        self.pointer_refused = Counter(
            "plantserve_pointer_refused", "Fleet pointers not followed (each condition counted once), by reason: "
            "a signature reason (unsigned, tampered, unknown_key, bad_signature, ...), replay (a signed pointer of "
            "an older generation), deleted (while pointer signing is required), invalid (not a pointer)",
            ["model", "reason"], registry=registry)
        self.pinned = Gauge(
            "plantserve_pointer_pinned_version", "Version pinned by the fleet pointer (0 = none)",
            ["model"], registry=registry)
        self._states: dict[tuple[str, str], str] = {}

    def init_model(self, model: str) -> None:
        """Create every labelled child at zero so that dashboards see the families from the start."""
        for result in ("ok", "integrity_error", "signature_error", "store_error", "disk_full", "local_error"):
            self.downloads.labels(model, result)
        for result, reason in (("promoted", "ok"), ("rolled_back", "automatic"), ("rolled_back", "pointer"),
                               *(("rejected", gate) for gate in REJECTION_REASONS)):
            self.rollouts.labels(model, result, reason)
        for label in LABELS:
            self.label_version.labels(model, label).set(0)
        self.download_bytes.labels(model)
        self.judging_blind.labels(model)
        self.download_retried_bytes.labels(model)
        self.available.labels(model).set(0)
        self.pinned.labels(model).set(0)

    def set_phase(self, model: str, phase: str) -> None:
        for p in PHASES:
            self.phase.labels(model, p).set(1 if p == phase else 0)

    def set_version_state(self, model: str, version: int, state: str) -> None:
        key = (model, str(version))
        previous = self._states.get(key)
        if previous == state:
            return
        if previous is not None:
            self.version_state.labels(model, str(version), previous).set(0)
        self.version_state.labels(model, str(version), state).set(1)
        self._states[key] = state

    def forget_version(self, model: str, version: int) -> None:
        """Drop a pruned version's series so that memory and cardinality stay bounded."""
        state = self._states.pop((model, str(version)), None)
        if state is not None:
            for s in STATES:
                try:
                    self.version_state.remove(model, str(version), s)
                except KeyError:
                    pass
