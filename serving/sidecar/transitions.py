"""The actions a model's worker applies (``decide.plan`` names them): each moves the model from one
phase to the next, and is the only code that does.

================  ==============================  ===========================================
action            method                          phases
================  ==============================  ===========================================
VerifyStable      ``_verify_stable``              loading -> verifying -> serving
RollBack          ``_roll_back``                  watching -> rolling_back -> serving
CloseWindow       ``_close_window``               watching -> serving
SwitchBack        ``_switch_back``                serving/watching -> rolling_back -> watching
RollOut           ``_roll_out`` (``rollout.py``)  serving/watching -> rolling_out -> watching
================  ==============================  ===========================================

A mixin of :class:`serving.sidecar.worker.ModelWorker`: it uses the worker's state, its commit and its
records (``_commit``, ``_mark_bad``, ``_fail``, ``_event``, ``_enter``).
"""
from __future__ import annotations

import logging

from serving.store import StoreError
from serving.store.manifest import Manifest, ManifestError

from .decide import RollBack
from .probe import GoldenError, replay_golden
from .rollout import Candidate, Rejected, check_behaviour, check_compatible, load_shadow, promote
from .server_config import shadow_name
from .state import Phase
from .sync import prune, remove_version
from .tfserving import ServerError

__all__ = ["Transitions"]

log = logging.getLogger(__name__)


class Transitions:
    """The version-changing half of the worker (see the module docstring)."""

    def _verify_stable(self, version: int) -> bool:
        """The version chosen at start-up skipped the gates: replay its golden samples once it is loaded,
        before the pod reports ready. A failure marks it bad (False); the next plan moves off it."""
        self._enter(Phase.VERIFYING, f"version {version} loaded")
        try:
            manifest = self._local_manifest(version)
        except (OSError, ManifestError) as exc:
            self._fail("verify", f"cannot read the manifest of version {version} on disk: {exc}; it is not "
                                 "trusted until it can be checked", reason="verify_unreadable")
            return True
        try:
            if manifest.golden is None:
                log.warning("%s: version %s has no golden samples: serving it unchecked", self.model, version)
            else:
                replay_golden(self.client, self.model, version, manifest)
        except (GoldenError, ServerError) as exc:
            self._mark_bad(version, "golden", f"start-up check: {exc}")
            return False
        with self._lock:
            self.verified = True
        self._ok("verify")
        self._observe_server()
        return True

    def _roll_back(self, action: RollBack) -> None:
        log.warning("%s: rolling back version %s: %s", self.model, action.version, action.reason)
        self._mark_bad(action.version, "rolled_back", action.reason, count_rejected=False)
        self._switch_back(self.state.previous, f"automatic rollback of version {action.version}: {action.reason}",
                          keep_old=False)

    def _close_window(self, previous: int) -> None:
        log.info("%s: rollback window over, unloading version %s", self.model, previous)
        self.judge.stop()
        self._commit(stable=self.state.stable, previous=None, previous_until=0.0, verified=self.verified)
        try:
            self.config.apply(self.settings.rpc_timeout_seconds)
        except ServerError as exc:
            self._fail("server", f"could not unload version {previous} yet: {exc}")
        self._prune()
        self._observe_server()
        self.on_change()

    def _switch_back(self, target: int | None, why: str, keep_old: bool) -> None:
        """Instant: ``target`` (the previous version) is loaded. Move ``stable`` first, then unload the old."""
        old = self.state.stable
        if target is None or old is None:
            return
        self._enter(Phase.ROLLING_BACK, why)
        self.config.set(self.model, self.base_path, (old, target), {"stable": target, "previous": old})
        try:
            self.config.apply(self.settings.rpc_timeout_seconds)
        except ServerError as exc:
            self._fail("server", f"could not move stable back to {target}, will retry: {exc}")
            return
        if self.config.applied_labels(self.model).get("stable") != target:
            self._fail("server", f"could not move stable back to {target}; will retry")
            return
        previous = old if keep_old else None
        until = self.clock() + self.settings.rollback_window_seconds if keep_old else 0.0
        self.judge.stop()
        self._refresh_states()
        self._commit(stable=target, previous=previous, previous_until=until, verified=True,  # it passed its gates
                     record=(old if not keep_old else target, "rolled_back", why, {}))
        try:
            self.config.apply(self.settings.rpc_timeout_seconds)
        except ServerError as exc:
            self._fail("server", f"version {old} stays loaded for now: {exc}")
        self.metrics.rollouts.labels(self.model, "rolled_back", "automatic" if not keep_old else "pointer").inc()
        self._event("RolledBack", why, warning=True)
        self._enter(Phase.WATCHING if previous is not None else Phase.SERVING)
        self._observe_server()
        self.on_change()

    def _roll_out(self, version: int) -> None:
        manifest = self._candidate_manifest(version)
        if manifest is None:
            return
        stable_manifest = None
        if self.state.stable is not None:
            try:
                stable_manifest = self._local_manifest(self.state.stable)
            except (OSError, ManifestError) as exc:
                # The compatibility gate fails closed: a candidate is never checked against nothing.
                self._fail("rollout", f"version {version} waits: the stable version's manifest cannot be read "
                                      f"({exc}), so its compatibility cannot be checked", reason="compatibility_unverifiable")
                return
        cand = Candidate(self.model, version, manifest, self.base_path)
        with self._lock:
            self.candidate = cand
        self._enter(Phase.ROLLING_OUT, f"version {version}")
        self._event("RolloutStarted", f"version {version}: download, verify, load, golden, latency probe "
                                      f"against stable {self.state.stable}")
        try:
            with cand.timed("download", self.metrics):
                if not self._download(version):
                    return
            with cand.timed("verify", self.metrics):
                check_compatible(stable_manifest, cand, self.store.pointer.allows_breaking(version))
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
            self._fail("rollout", f"server trouble during the rollout of version {version}, will retry: {exc}",
                       reason="server")
            self.config.remove(shadow_name(self.model))
            return
        finally:
            with self._lock:
                self.candidate = None
            if self.phase is Phase.ROLLING_OUT:
                self._enter(Phase.WATCHING if self.state.previous is not None else Phase.SERVING)
        self._promoted(cand, old, probe)

    def _promoted(self, cand: Candidate, old: int | None, probe: dict[str, float]) -> None:
        version = cand.version
        keep = self.settings.rollback_window_seconds > 0 and old is not None
        previous = old if keep else None
        until = self.clock() + self.settings.rollback_window_seconds if keep else 0.0
        try:
            baseline = self.server.scrape()
        except OSError as exc:
            baseline = None
            self.metrics.judging_blind.labels(self.model).inc()
            self._fail("judge", f"no server metrics at {self.settings.server_rest} ({exc}): version {version} is "
                                "judged from the first page that can be read", reason="judging_blind")
        if previous is not None:
            self.judge.start(baseline, self.client.connection_epoch)
        else:
            self.judge.stop()
        self._refresh_states()
        self._commit(stable=version, previous=previous, previous_until=until, verified=True,
                     record=(version, "promoted", f"version {version} is stable (previous {previous})",
                             {**cand.steps, **({"probe": probe} if probe else {})}))
        try:
            self.config.apply(self.settings.rpc_timeout_seconds)
        except ServerError as exc:
            self._fail("server", f"version {version} is stable; the config follows on the next tick: {exc}")
        self._prune()
        self.metrics.rollouts.labels(self.model, "promoted", "ok").inc()
        self._ok("rollout")
        log.info("%s: promoted version %s (previous %s), steps %s", self.model, version, previous, cand.steps)
        self._event("Promoted", f"version {version} is stable (steps {cand.steps})")
        self._enter(Phase.WATCHING if previous is not None else Phase.SERVING)
        self._observe_server()
        self.on_change()

    def _reject(self, cand: Candidate, exc: Rejected) -> None:
        log.warning("%s: version %s rejected at %s: %s", self.model, cand.version, exc.step, exc.detail)
        self.config.remove(shadow_name(self.model))
        if self.state.stable is not None:
            self.config.set(self.model, self.base_path,
                            tuple(v for v in (self.state.stable, self.state.previous) if v is not None),
                            {"stable": self.state.stable,
                             **({"previous": self.state.previous} if self.state.previous is not None else {})})
        try:
            self.config.apply(self.settings.rpc_timeout_seconds)
        except ServerError as err:
            log.warning("%s: could not unload candidate %s yet: %s", self.model, cand.version, err)
        self._mark_bad(cand.version, exc.step, exc.detail, steps=cand.steps)
        if cand.version not in (self.state.stable, self.state.previous):
            remove_version(self.dir, cand.version)
        self.on_change()

    # -- helpers --------------------------------------------------------------------------
    def _candidate_manifest(self, version: int) -> Manifest | None:
        """From the store (honouring its back-off), or from disk for a version the store no longer lists."""
        if version in self.store.versions:
            if self.store.backing_off():
                return None  # the store's own error is recorded; no request until its retry time
            try:
                return self.store.repo.manifest(version)
            except StoreError as exc:
                self.store.failed(exc)
                self._fail("store", self.store.last_error or str(exc))
                return None
            except ManifestError as exc:
                self._fail("rollout", f"cannot read the manifest of {self.model} version {version}: {exc}")
                return None
        try:
            return self._local_manifest(version)
        except (OSError, ManifestError) as exc:
            self._fail("rollout", f"cannot read the manifest of {self.model} version {version} on disk: {exc}")
            return None

    def _prune(self) -> None:
        keep = {v for v in (self.state.stable, self.state.previous) if v is not None}
        for version in prune(self.dir, keep, self.settings.keep_versions):
            log.info("%s: pruned version %s from disk", self.model, version)
            self.metrics.forget_version(self.model, version)
