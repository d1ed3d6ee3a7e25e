"""One model's worker: all of a model's work runs here, serially, one tick at a time.

A tick is observe -> plan -> apply:

- **observe** reads the store and the fleet pointer (with back-off after store errors), reconciles the
  server (the config is applied again after a restart; labels wait for AVAILABLE versions) and, inside a
  rollback window, judges the promoted version from the server's metrics (``judge.py``);
- **plan** (``decide.plan``, pure) turns the observation into actions;
- **apply** executes them (``transitions.py``): verify the start-up version, roll back, close the window,
  switch back to the still-loaded previous version, or take a candidate through ``rollout.py``.

The phase (``state.Phase``) is stored here at each transition. ``_lock`` guards only the in-memory state
that ``status()`` reads, so that a reader sees a version change whole or not at all; calls to the server,
the store and the Kubernetes API happen outside it, and Events and the pod annotation are sent after
the change is committed.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Any, Callable

from serving.store import Store, StoreError
from serving.store.manifest import MANIFEST_NAME, Manifest

from . import server_metrics
from .applier import ServingConfig
from .decide import (Action, CloseWindow, Observation, RollBack, RollOut, SwitchBack, VerifyStable, plan,
                     rollback_reason, startup_version, usable)
from .judge import PromotionJudge
from .k8s import NullReporter, Reporter
from .metrics import SidecarMetrics
from .rollout import Candidate
from .server_view import ServerView
from .settings import Settings
from .state import BadMark, ModelState, Phase, load_state, save_state
from .store_view import StoreView
from .sync import Downloader, clean_staging, local_versions, remove_version
from .tfserving import ServerClient, ServerError
from .transitions import Transitions

__all__ = ["ModelWorker"]

log = logging.getLogger(__name__)

#: How many plan/apply rounds one tick may take (a failed start-up check re-plans at once).
_ROUNDS_PER_TICK = 3


class ModelWorker(Transitions):
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
            on_retry=lambda n: metrics.download_retried_bytes.labels(model).inc(n), trust=settings.trust)
        self.store = StoreView(model, store, settings, downloader, metrics, clock)
        self.judge = PromotionJudge()
        #: Guards what status() reads: state, phase, verified, candidate, labels, records and errors.
        self._lock = threading.Lock()
        self.state = ModelState()
        self.phase = Phase.STARTING
        #: The stable version passed its golden replay in this process.
        self.verified = False
        self.available = False
        self.candidate: Candidate | None = None
        self.last_rollout: dict[str, Any] | None = None
        #: Active problems by source (store, server, rollout, verify, judge): each clears itself on success.
        self.errors: dict[str, str] = {}
        self._labels: dict[str, int] = {}
        self._outbox: list[tuple[str, str, bool]] = []
        metrics.init_model(model)
        metrics.set_phase(model, self.phase.value)

    @property
    def bootstrapped(self) -> bool:
        return self.phase is not Phase.STARTING

    @property
    def last_error(self) -> str | None:
        return next(reversed(self.errors.values()), None)

    # -- the tick -------------------------------------------------------------------------
    def tick(self) -> None:
        try:
            if self.phase is Phase.STARTING:
                self._bootstrap()
                return
            for _round in range(_ROUNDS_PER_TICK):
                observation = self._observe()
                if observation is None:
                    return
                actions = plan(observation)
                if not actions or not self._apply(actions):
                    break
            self._publish()
        finally:
            self._flush_events()

    def _apply(self, actions: list[Action]) -> bool:
        """Execute the plan in order; True when the state changed in a way that needs a new plan now."""
        for action in actions:
            if isinstance(action, VerifyStable):
                if not self._verify_stable(action.version):
                    return True
            elif isinstance(action, RollBack):
                self._roll_back(action)
                return False
            elif isinstance(action, CloseWindow):
                self._close_window(action.previous)
            elif isinstance(action, SwitchBack):
                self._switch_back(action.version, action.why, action.keep_old)
            elif isinstance(action, RollOut):
                self._roll_out(action.version)
        return False

    # -- phases and errors ----------------------------------------------------------------
    def _enter(self, phase: Phase, why: str = "") -> None:
        """Store a phase transition (call with or without the lock; the assignment is atomic)."""
        if phase is not self.phase:
            log.info("%s: %s -> %s%s", self.model, self.phase.value, phase.value, f" ({why})" if why else "")
            self.phase = phase
            self.metrics.set_phase(self.model, phase.value)

    def _fail(self, source: str, message: str, reason: str | None = None) -> None:
        """Record a problem with its source; a condition that persists is logged and counted once."""
        message = message[:2000]
        if self.errors.get(source) != message:
            log.warning("%s: %s", self.model, message)
            self.metrics.failures.labels(self.model, reason or source).inc()
        with self._lock:
            self.errors.pop(source, None)
            self.errors[source] = message

    def _ok(self, source: str) -> None:
        if source in self.errors:
            with self._lock:
                self.errors.pop(source, None)

    def _event(self, reason: str, message: str, warning: bool = False) -> None:
        self._outbox.append((reason, message, warning))

    def _flush_events(self) -> None:
        """Kubernetes Events go out after the state they describe is committed, never under the lock."""
        events, self._outbox = self._outbox, []
        for reason, message, warning in events:
            self.reporter.event(self.model, reason, message, warning=warning)

    # -- start-up -------------------------------------------------------------------------
    def _bootstrap(self) -> None:
        """Before the server starts: pick the stable version and make sure it is verified on disk."""
        for leftover in clean_staging(self.dir):
            log.info("removed staging leftover %s", leftover)
        state = load_state(self.dir)
        with self._lock:
            self.state = state
        self._refresh_store()
        local = local_versions(self.dir)
        p = self.store.pointer
        stable = startup_version(p, state, local, self.store.versions)
        if stable is None:
            self._fail("store", f"no eligible version of {self.model} in {self.store.uri} or on disk yet",
                       reason="no_version")
            return
        mark = state.bad.get(stable)
        if stable not in local and mark is not None and mark.reason == "signature" and not usable(p, state, stable):
            # A pin of a version whose signature was refused: not downloaded again until it changes.
            self._fail("store", f"version {stable} is pinned but was refused: {mark.detail[:500]}; it is tried "
                                "again once re-signed or republished, or pinned again", reason="no_version")
            return
        if stable in local:
            if not self._verify_on_disk(stable):  # signed models: the stable version on disk is checked too
                return
        elif not self._download(stable):
            return
        previous, until = state.previous, state.previous_until
        if not (previous in local and previous != stable and until > self.clock() and p.eligible(previous)
                and self._verify_on_disk(previous)):
            previous, until = None, 0.0
        self._commit(stable=stable, previous=previous, previous_until=until, verified=False)
        if previous is not None:
            self.judge.start(None, self.client.connection_epoch)  # a restart inside the window still judges
        self._ok("store")
        self._enter(Phase.LOADING, f"stable version {stable}, previous {previous}")
        self.on_change()

    # -- observing ------------------------------------------------------------------------
    def _observe(self) -> Observation | None:
        self._refresh_store()
        try:
            self.server.reconcile()
        except ServerError as exc:
            self._set_available(False)
            self._fail("server", f"server not reachable or refused the config: {exc}")
            self._enter(Phase.DEGRADED, "server unreachable")
            return None
        self._ok("server")
        self._observe_server()
        rollback = self._judge_window()
        return Observation(self.store.pointer, self.state, tuple(local_versions(self.dir)),
                           tuple(self.store.versions),
                           {v: st for v, (st, _m) in self.server.states.items()}, self.verified, self.clock(),
                           rollback)

    def _observe_server(self) -> None:
        stable = self.state.stable
        available = self.server.observe(stable, self.verified)
        self._set_available(available)
        if self.phase in (Phase.ROLLING_OUT, Phase.ROLLING_BACK):
            return
        if available:
            self._enter(Phase.WATCHING if self.state.previous is not None else Phase.SERVING)
        elif self.server.state_of(stable) == "AVAILABLE" and not self.verified:
            self._enter(Phase.VERIFYING, f"version {stable} loaded: replaying its golden samples")
        else:
            self._enter(Phase.LOADING, f"waiting for version {stable} to be AVAILABLE and labelled")

    def _set_available(self, available: bool) -> None:
        self.metrics.available.labels(self.model).set(1 if available else 0)
        labels = self.config.applied_labels(self.model)
        with self._lock:
            self.available = available
            self._labels = labels

    def _refresh_store(self) -> bool:
        """Read the pointer and the versions (unless backing off); clear bad marks of republished versions."""
        if not self.store.refresh():
            if self.store.last_error:
                self._fail("store", self.store.last_error)
            return False
        self._ok("store")
        refusal = self.store.pointer_refusal
        if refusal is None:
            self._ok("pointer")
        elif self.errors.get("pointer") != refusal[:2000]:
            self._event("PointerRefused", refusal, warning=True)
            self._fail("pointer", refusal, reason="pointer_refused")
        cleared = []
        for version in [v for v in self.state.bad if v in self.store.versions]:
            try:
                republished = self.store.manifest_digest(version) != self.state.bad[version].manifest_sha256
            except StoreError as exc:
                self.store.failed(exc)
                self._fail("store", self.store.last_error or str(exc))
                return False
            if republished:
                log.info("%s version %s was republished: clearing its bad mark", self.model, version)
                cleared.append(version)
        if cleared:
            with self._lock:
                for version in cleared:
                    del self.state.bad[version]
                save_state(self.dir, self.state)
        return True

    def _judge_window(self) -> str | None:
        """Inside the rollback window: why the promoted version must go, or None."""
        if self.state.previous is None or not self.judge.active:
            return None
        try:
            snapshot, error = self.server.scrape(), None
        except OSError as exc:
            snapshot, error = None, str(exc)
        verdict = self.judge.judge(snapshot, self.client.connection_epoch, error)
        if verdict.blind:
            self.metrics.judging_blind.labels(self.model).inc()
            self._fail("judge", f"version {self.state.stable}: {verdict.note}", reason="judging_blind")
            return None
        self._ok("judge")
        if verdict.window is None:
            if verdict.note and verdict.note != "baseline taken":
                log.warning("%s: version %s: %s", self.model, self.state.stable, verdict.note)
            return None
        s = self.settings
        return rollback_reason(verdict.window, error_ratio=s.rollback_error_ratio, p99_ms=s.rollback_p99_ms,
                               min_requests=s.rollback_min_requests)

    # -- state changes --------------------------------------------------------------------
    def _commit(self, *, stable: int | None, previous: int | None, previous_until: float, verified: bool,
                record: tuple[int, str, str, dict[str, Any]] | None = None) -> None:
        """One version change, whole: the state (saved), the server config wanted, the record and labels."""
        versions = tuple(v for v in (stable, previous) if v is not None)
        labels = {"stable": stable, **({"previous": previous} if previous is not None else {})} if stable else {}
        with self._lock:
            self.state.stable, self.state.previous, self.state.previous_until = stable, previous, previous_until
            self.verified = verified
            save_state(self.dir, self.state)
            if versions:
                self.config.set(self.model, self.base_path, versions, labels)
            self._labels = labels  # what the apply that follows sets; observing corrects it if that fails
            if record is not None:
                version, result, detail, steps = record
                self.last_rollout = {"version": version, "result": result, "detail": detail[:2000],
                                     "steps_seconds": steps, "at": round(self.clock(), 3)}

    def _mark_bad(self, version: int, reason: str, detail: str, count_rejected: bool = True,
                  steps: dict[str, float] | None = None) -> None:
        try:
            digest = self.store.manifest_digest(version)
        except StoreError:
            digest = ""  # judged on an unreadable manifest: a republished one will differ and clear it
        with self._lock:
            self.state.bad[version] = BadMark(reason, detail[:2000], digest, self.store.pointer.generation)
            self.state.trim_bad()
            save_state(self.dir, self.state)
            if count_rejected:
                self.last_rollout = {"version": version, "result": "rejected", "detail": f"{reason}: {detail}"[:2000],
                                     "steps_seconds": steps or {}, "at": round(self.clock(), 3)}
        if count_rejected:
            self.metrics.rollouts.labels(self.model, "rejected", reason).inc()
            self._event("Rejected", f"version {version}: {reason}: {detail}", warning=True)
        self._fail("rollout", f"version {version} marked bad ({reason}): {detail}", reason=reason)

    def _download(self, version: int) -> bool:
        outcome = self.store.download(version)
        if outcome.result == "integrity_error":
            self._mark_bad(version, "integrity", outcome.detail)
        elif outcome.result == "signature_error":
            self._refuse_signature(version, outcome.detail)
        elif not outcome.ok:
            self._fail("store", outcome.detail, reason=outcome.result)
        return outcome.ok

    def _verify_on_disk(self, version: int) -> bool:
        """With a trust anchor, a version already on disk is loaded only once its signature holds."""
        outcome = self.store.verify_local(version)
        if not outcome.ok:
            self._refuse_signature(version, outcome.detail)
        return outcome.ok

    def _refuse_signature(self, version: int, detail: str) -> None:
        """Mark it bad (reason ``signature``) and take it off the disk unless the server may have it loaded."""
        self._mark_bad(version, "signature", detail)
        if version not in (self.state.stable, self.state.previous) or self.phase is Phase.STARTING:
            remove_version(self.dir, version)

    def _refresh_states(self) -> None:
        """Per-version server states as of now, so that /status shows them with the version change."""
        try:
            self.server.refresh()
        except ServerError as exc:
            self._fail("server", f"server not reachable: {exc}")

    def _local_manifest(self, version: int) -> Manifest:
        return Manifest.from_json((self.dir / str(version) / MANIFEST_NAME).read_text())

    def _publish(self) -> None:
        try:
            self.server.refresh()
        except ServerError as exc:
            self._fail("server", f"server not reachable: {exc}")
            return
        self._observe_server()
        self.on_change()

    def internal_error(self, exc: BaseException) -> None:
        """A bug in a tick (the agent keeps the thread alive): recorded like any other failure."""
        self._fail("internal", f"internal error: {exc!r}", reason="internal")

    def status(self) -> dict[str, Any]:
        with self._lock:
            cand, s = self.candidate, self.state
            return {
                "phase": self.phase.value,
                "stable": s.stable,
                "previous": s.previous,
                "previous_until": s.previous_until or None,
                "verified": self.verified,
                "available": self.available,
                "labels": dict(self._labels),
                "versions_on_disk": local_versions(self.dir),
                "versions_in_store": list(self.store.versions),
                "server_states": {str(v): st for v, (st, _m) in sorted(self.server.states.items())},
                "candidate": {"version": cand.version, "step": cand.step} if cand else None,
                "pointer": {"pinned": self.store.pointer.pinned, "blocked": list(self.store.pointer.blocked),
                            "generation": self.store.pointer.generation},
                "bad": {str(v): dataclasses.asdict(m) for v, m in sorted(s.bad.items())},
                "last_rollout": self.last_rollout,
                "errors": dict(self.errors),
                "last_error": next(reversed(self.errors.values()), None),
            }
