"""One model's worker: all of a model's work runs here, serially, one tick at a time.

A tick: read the store and the fleet pointer -> reconcile the server (re-apply the config after a
restart, refresh per-version states) -> judge the version promoted last (automatic rollback)
-> expire the rollback window -> decide the target version -> switch to ``previous`` instantly,
or run the candidate pipeline (serving.sidecar.rollout).
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Any, Callable

from serving.store import Store, StoreError
from serving.store.manifest import MANIFEST_NAME, Manifest, ManifestError

from . import server_metrics
from .applier import ServingConfig
from .decide import rollback_reason, startup_version, target_version, usable
from .k8s import NullReporter, Reporter
from .metrics import SidecarMetrics
from .probe import GoldenError, replay_golden
from .rollout import Candidate, Rejected, check_behaviour, check_compatible, load_shadow, promote
from .server_config import shadow_name
from .server_view import ServerView
from .settings import Settings
from .state import BadMark, ModelState, load_state, save_state
from .store_view import StoreView
from .sync import Downloader, clean_staging, local_versions, prune, remove_version
from .tfserving import ServerClient, ServerError

__all__ = ["ModelWorker"]

log = logging.getLogger(__name__)


class ModelWorker:
    def __init__(self, model: str, settings: Settings, store: Store, client: ServerClient,
                 config: ServingConfig, metrics: SidecarMetrics, reporter: Reporter | None = None,
                 on_change: Callable[[], None] = lambda: None, clock: Callable[[], float] = time.time,
                 scrape: Callable[[str], server_metrics.Snapshot] | None = None) -> None:
        self.model = model
        self.settings = settings
        self.dir = settings.model_base_path / model
        self.base_path = str(self.dir)
        self.client = client
        self.config = config
        self.metrics = metrics
        self.reporter = reporter or NullReporter()
        self.on_change = on_change
        self.clock = clock
        self.server = ServerView(model, client, config, metrics, settings, self.dir, scrape)
        downloader = Downloader(
            store, model, self.dir, concurrency=settings.download_concurrency,
            rate_limit_bytes_per_second=settings.download_rate_limit_bytes_per_second,
            headroom_bytes=settings.disk_headroom_bytes,
            on_bytes=lambda n: metrics.download_bytes.labels(model).inc(n),
            on_retry=lambda n: metrics.download_retried_bytes.labels(model).inc(n))
        self.store = StoreView(model, store, settings, downloader, metrics, clock)
        self.state = ModelState()
        self.bootstrapped = False
        self.available = False
        #: The stable version passed its golden replay here (start-up versions are checked once loaded).
        self.verified = False
        self.candidate: Candidate | None = None
        self.last_rollout: dict[str, Any] | None = None
        self.last_error: str | None = None
        self._baseline: server_metrics.Snapshot | None = None
        #: Restarted inside a rollback window: judge the stable version from a fresh baseline.
        self._rebaseline = False
        #: Held while the candidate is set or cleared, through a version change (state, server config,
        #: record, metrics), and by status(): a reader sees the state before a change or after it,
        #: never half of it.
        self._lock = threading.Lock()
        metrics.init_model(model)

    # -- the tick -------------------------------------------------------------------------
    def tick(self) -> None:
        if not self.bootstrapped:
            self.bootstrap()
            return
        self._refresh_store()
        if not self._reconcile():
            return
        self._verify_startup_version()
        self._judge_promotion()
        self._expire_window()
        self._act()
        self._publish()

    def bootstrap(self) -> None:
        """Before the server starts: pick the stable version and make sure it is verified on disk."""
        for leftover in clean_staging(self.dir):
            log.info("removed staging leftover %s", leftover)
        self.state = load_state(self.dir)
        self._refresh_store()
        local = local_versions(self.dir)
        p, s = self.store.pointer, self.state
        stable = startup_version(p, s, local, self.store.versions)
        if stable is None:
            self._error(f"no eligible version of {self.model} in {self.store.uri} or on disk yet")
            return
        if stable not in local and not self._download(stable):
            return
        if not (s.previous in local and s.previous != stable and s.previous_until > self.clock()
                and p.eligible(s.previous)):
            s.previous, s.previous_until = None, 0.0
        s.stable = stable
        save_state(self.dir, s)
        self._serve(stable, s.previous)
        self._rebaseline = s.previous is not None
        self.bootstrapped = True
        log.info("%s: starting with stable version %s (previous %s)", self.model, stable, s.previous)

    # -- store ----------------------------------------------------------------------------
    def _refresh_store(self) -> None:
        if not self.store.refresh():
            if self.store.last_error:
                self._error(self.store.last_error)
            return
        for version in [v for v in self.state.bad if v in self.store.versions]:
            try:
                republished = self.store.manifest_digest(version) != self.state.bad[version].manifest_sha256
            except StoreError as exc:
                self.store.failed(exc)
                return
            if republished:
                log.info("%s version %s was republished: clearing its bad mark", self.model, version)
                del self.state.bad[version]
                save_state(self.dir, self.state)

    def _download(self, version: int) -> bool:
        outcome = self.store.download(version)
        if outcome.result == "integrity_error":
            self._mark_bad(version, "integrity", outcome.detail)
        elif not outcome.ok:
            self._error(outcome.detail)
        return outcome.ok

    # -- server ---------------------------------------------------------------------------
    def _reconcile(self) -> bool:
        """Refresh states and re-apply the config when needed. False when the server is unreachable."""
        try:
            self.server.reconcile()
        except ServerError as exc:
            self.available = False
            self.metrics.available.labels(self.model).set(0)
            self._error(f"server not reachable or refused the config: {exc}")
            return False
        self.available = self.server.observe(self.state.stable, self.verified)
        return True

    def _observe(self) -> None:
        try:
            self.server.refresh()
        except ServerError as exc:
            self._error(f"server not reachable: {exc}")
            return
        self.available = self.server.observe(self.state.stable, self.verified)

    def _serve(self, stable: int, previous: int | None) -> None:
        versions = (stable,) if previous is None else (stable, previous)
        labels = {"stable": stable, **({"previous": previous} if previous is not None else {})}
        self.config.set(self.model, self.base_path, versions, labels)
        self.on_change()

    # -- after a promotion ----------------------------------------------------------------
    def _judge_promotion(self) -> None:
        """Within the window, roll back when the server's own metrics show errors or slowness."""
        if self.state.previous is None:
            return
        try:
            if self._baseline is None:
                if self._rebaseline:
                    self._baseline, self._rebaseline = self.server.scrape(), False
                return
            window = self.server.scrape().since(self._baseline)
        except OSError as exc:
            log.debug("%s: server metrics unavailable: %s", self.model, exc)
            return
        s = self.settings
        reason = rollback_reason(window, error_ratio=s.rollback_error_ratio, p99_ms=s.rollback_p99_ms,
                                 min_requests=s.rollback_min_requests)
        if reason:
            bad = self.state.stable
            log.warning("%s: rolling back version %s: %s", self.model, bad, reason)
            self._mark_bad(bad, "rolled_back", reason, count_rejected=False)
            self._switch_to_previous(f"automatic rollback of version {bad}: {reason}", keep_old=False)

    def _verify_startup_version(self) -> None:
        """The version chosen at start-up skipped the gates: replay its golden samples once it is
        loaded, before the pod reports ready. A failure marks it bad; the next decision moves off it."""
        stable = self.state.stable
        if self.verified or stable is None or self.server.state_of(stable) != "AVAILABLE":
            return
        manifest = self._stable_manifest()
        try:
            if manifest is None or manifest.golden is None:
                log.warning("%s: version %s has no golden samples: serving it unchecked", self.model, stable)
            else:
                replay_golden(self.client, self.model, stable, manifest)
        except (GoldenError, ServerError) as exc:
            self._mark_bad(stable, "golden", f"start-up check: {exc}")
            return
        self.verified = True
        self._observe()

    def _expire_window(self) -> None:
        s = self.state
        if s.previous is not None and self.clock() >= s.previous_until:
            log.info("%s: rollback window over, unloading version %s", self.model, s.previous)
            with self._lock:
                s.previous, s.previous_until, self._baseline = None, 0.0, None
                save_state(self.dir, s)
                self._serve(s.stable, None)
                self.config.apply(self.settings.rpc_timeout_seconds)
                self._prune()
                self._observe()

    def _prune(self) -> None:
        keep = {v for v in (self.state.stable, self.state.previous) if v is not None}
        for version in prune(self.dir, keep, self.settings.keep_versions):
            log.info("%s: pruned version %s from disk", self.model, version)
            self.metrics.forget_version(self.model, version)

    # -- deciding -------------------------------------------------------------------------
    def _act(self) -> None:
        target = target_version(self.store.pointer, self.state, local_versions(self.dir), self.store.versions)
        stable, previous = self.state.stable, self.state.previous
        if target is None or target == stable:
            return
        if target == previous and self.server.state_of(previous) == "AVAILABLE":
            unusable = stable is not None and not usable(self.store.pointer, self.state, stable)
            self._switch_to_previous(f"moved {self.model} to version {target} (fleet pointer or bad stable)",
                                     keep_old=not unusable)
            return
        self._rollout(target)

    def _switch_to_previous(self, why: str, keep_old: bool) -> None:
        """Instant: ``previous`` is loaded. Move ``stable`` first, then unload the old stable."""
        s = self.state
        old, new = s.stable, s.previous
        self.config.set(self.model, self.base_path, (old, new), {"stable": new, "previous": old})
        self.config.apply(self.settings.rpc_timeout_seconds)
        if self.config.applied_labels(self.model).get("stable") != new:
            self._error(f"could not move stable back to {new}; will retry")
            return
        with self._lock:
            if keep_old:
                s.stable, s.previous = new, old
                s.previous_until = self.clock() + self.settings.rollback_window_seconds
            else:
                s.stable, s.previous, s.previous_until = new, None, 0.0
            self._baseline = None
            self.verified = True  # ``previous`` passed the gates when it was promoted
            save_state(self.dir, s)
            self._serve(s.stable, s.previous)
            self.config.apply(self.settings.rpc_timeout_seconds)
            self.metrics.rollouts.labels(self.model, "rolled_back").inc()
            self._observe()
            self._record(old if not keep_old else new, "rolled_back", why, {})
        self.reporter.event(self.model, "RolledBack", why, warning=True)

    # -- the candidate pipeline -----------------------------------------------------------
    def _rollout(self, version: int) -> None:
        try:
            manifest = self.store.repo.manifest(version) if version in self.store.versions else \
                Manifest.from_json((self.dir / str(version) / MANIFEST_NAME).read_text())
        except (StoreError, ManifestError, OSError) as exc:
            self._error(f"cannot read the manifest of {self.model} version {version}: {exc}")
            return
        cand = Candidate(self.model, version, manifest, self.base_path)
        with self._lock:
            self.candidate = cand
        log.info("%s: rolling out version %s", self.model, version)
        self.reporter.event(self.model, "RolloutStarted", f"version {version}: download, verify, load, golden, "
                            f"latency probe against stable {self.state.stable}")
        try:
            with cand.timed("download", self.metrics):
                if not self._download(version):
                    return
            with cand.timed("verify", self.metrics):
                check_compatible(self._stable_manifest(), cand, self.store.pointer.allows_breaking(version))
            with cand.timed("load", self.metrics):
                load_shadow(cand, self.config, self.client, self.settings)
            probe = check_behaviour(cand, self.client, self.state.stable, self.settings, self.metrics)
            old = self.state.stable
            with cand.timed("promote", self.metrics):
                promote(cand, self.config, self.client, self.settings, old)
        except Rejected as exc:
            self._reject(cand, exc)
            return
        except ServerError as exc:
            self._error(f"server trouble during the rollout of version {version}, will retry: {exc}")
            self.config.remove(shadow_name(self.model))
            return
        finally:
            with self._lock:
                self.candidate = None
        s = self.state
        with self._lock:
            s.stable = version
            self.verified = True
            s.previous = old if self.settings.rollback_window_seconds > 0 else None
            s.previous_until = self.clock() + self.settings.rollback_window_seconds
            save_state(self.dir, s)
            try:
                self._baseline = self.server.scrape()
            except OSError as exc:
                self._baseline = None
                log.warning("%s: no server metrics at %s (%s): automatic rollback is off for version %s",
                            self.model, self.settings.server_rest, exc, version)
            self._serve(s.stable, s.previous)
            self.config.apply(self.settings.rpc_timeout_seconds)
            self._prune()
            self.metrics.rollouts.labels(self.model, "promoted").inc()
            self._observe()
            self._record(version, "promoted", f"version {version} is stable (previous {s.previous})",
                         {**cand.steps, **({"probe": probe} if probe else {})})
        log.info("%s: promoted version %s (previous %s), steps %s", self.model, version, s.previous, cand.steps)
        self.reporter.event(self.model, "Promoted", f"version {version} is stable (steps {cand.steps})")
        self.last_error = None

    def _stable_manifest(self) -> Manifest | None:
        if self.state.stable is None:
            return None
        try:
            return Manifest.from_json((self.dir / str(self.state.stable) / MANIFEST_NAME).read_text())
        except (OSError, ManifestError):
            return None

    def _reject(self, cand: Candidate, exc: Rejected) -> None:
        log.warning("%s: version %s rejected at %s: %s", self.model, cand.version, exc.step, exc.detail)
        self.config.remove(shadow_name(self.model))
        if self.state.stable is not None:
            self._serve(self.state.stable, self.state.previous)
        try:
            self.config.apply(self.settings.rpc_timeout_seconds)
        except ServerError as err:
            log.warning("%s: could not unload candidate %s yet: %s", self.model, cand.version, err)
        self._mark_bad(cand.version, exc.step, exc.detail, steps=cand.steps)
        if cand.version not in (self.state.stable, self.state.previous):
            remove_version(self.dir, cand.version)

    def _mark_bad(self, version: int, reason: str, detail: str, count_rejected: bool = True,
                  steps: dict[str, float] | None = None) -> None:
        try:
            digest = self.store.manifest_digest(version)
        except StoreError:
            digest = ""
        self.state.bad[version] = BadMark(reason, detail[:2000], digest, self.store.pointer.generation)
        self.state.trim_bad()
        save_state(self.dir, self.state)
        if count_rejected:
            self.metrics.rollouts.labels(self.model, "rejected").inc()
            self._record(version, "rejected", f"{reason}: {detail}", steps or {})
            self.reporter.event(self.model, "Rejected", f"version {version}: {reason}: {detail}", warning=True)
        self._error(f"version {version} marked bad ({reason}): {detail}")

    # -- reporting ------------------------------------------------------------------------
    def _error(self, message: str) -> None:
        if message[:2000] != self.last_error:  # a condition that persists is logged once
            log.warning("%s: %s", self.model, message)
        self.last_error = message[:2000]

    def _record(self, version: int, result: str, detail: str, steps: dict[str, Any]) -> None:
        self.last_rollout = {"version": version, "result": result, "detail": detail[:2000],
                             "steps_seconds": steps, "at": round(self.clock(), 3)}
        self.on_change()

    def _publish(self) -> None:
        self._observe()
        self.on_change()

    def status(self) -> dict[str, Any]:
        with self._lock:
            return self._status()

    def _status(self) -> dict[str, Any]:
        cand, s = self.candidate, self.state
        return {
            "stable": s.stable,
            "previous": s.previous,
            "previous_until": s.previous_until or None,
            "available": self.available,
            "labels": self.config.applied_labels(self.model),
            "versions_on_disk": local_versions(self.dir),
            "versions_in_store": list(self.store.versions),
            "server_states": {str(v): st for v, (st, _m) in sorted(self.server.states.items())},
            "candidate": {"version": cand.version, "step": cand.step} if cand else None,
            "pointer": {"pinned": self.store.pointer.pinned, "blocked": list(self.store.pointer.blocked),
                        "generation": self.store.pointer.generation},
            "bad": {str(v): dataclasses.asdict(m) for v, m in sorted(s.bad.items())},
            "last_rollout": self.last_rollout,
            "last_error": self.last_error,
        }
