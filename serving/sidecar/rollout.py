"""One candidate's way to ``stable``: verify, load where plant traffic cannot reach it, check, promote.

Each step is timed into ``plantserve_rollout_step_seconds``. A step that finds the version bad
raises ``Rejected``; transient trouble (store, disk, a server that went away) raises its own
error and the version is tried again later.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from typing import Iterator

import grpc

from serving.store.manifest import Manifest

from .applier import ServingConfig
from .compat import incompatibilities
from .metrics import SidecarMetrics
from .probe import GoldenError, LatencyError, golden_inputs, latency_probe, replay_golden
from .server_config import shadow_name
from .settings import Settings
from .tfserving import ServerClient, ServerError

__all__ = ["Rejected", "Candidate", "check_compatible", "load_shadow", "check_behaviour", "promote",
           "wait_for_state", "ended_before"]

log = logging.getLogger(__name__)


class Rejected(Exception):
    """The version failed a gate; ``step`` is where (a label of the bad mark and of the status)."""

    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step}: {detail}")
        self.step = step
        self.detail = detail


@dataclasses.dataclass
class Candidate:
    model: str
    version: int
    manifest: Manifest
    base_path: str
    steps: dict[str, float] = dataclasses.field(default_factory=dict)
    step: str = "download"

    @contextlib.contextmanager
    def timed(self, step: str, metrics: SidecarMetrics) -> Iterator[None]:
        self.step = step
        log.debug("%s version %s: step %s", self.model, self.version, step)
        started = time.monotonic()
        try:
            yield
        finally:
            elapsed = time.monotonic() - started
            self.steps[step] = round(elapsed, 3)
            metrics.step_seconds.labels(self.model, step).observe(elapsed)


def ended_before(client: ServerClient, name: str, version: int) -> tuple[str, str] | None:
    """The version's END status from an earlier unload, read before a reload asks for it again."""
    before = client.status(name).get(version)
    return before if before and before[0] == "END" else None


def wait_for_state(client: ServerClient, name: str, version: int, timeout_seconds: float,
                   poll_seconds: float = 0.1, stale: tuple[str, str] | None = None,
                   stale_grace_seconds: float = 5.0) -> tuple[str, str]:
    """Poll GetModelStatus until ``version`` is AVAILABLE or END; returns (state, error message).

    ``stale`` is the END status the version had before this load was asked for (see ``ended_before``):
    the server keeps reporting it until the new load starts, so it does not count as this load's end
    until the version has been seen in another state, or for ``stale_grace_seconds`` (a load that
    fails at once, exactly as before, is not waited on to the full timeout). The first polls come
    after 10, 20, 40 ms (a version already loaded under another name is there at once), then every
    ``poll_seconds``."""
    started = time.monotonic()
    deadline = started + timeout_seconds
    state, message = "UNKNOWN", ""
    pause = min(0.01, poll_seconds)
    while time.monotonic() < deadline:
        state, message = client.status(name).get(version, ("UNKNOWN", ""))
        if stale is not None and ((state, message) != stale or time.monotonic() - started > stale_grace_seconds):
            stale = None
        if state == "AVAILABLE" or (state == "END" and stale is None):
            return state, message
        time.sleep(pause)
        pause = min(pause * 2, poll_seconds)
    return state, f"still {state} after {timeout_seconds}s"


def check_compatible(stable: Manifest | None, cand: Candidate, allowed_by_pointer: bool) -> None:
    if stable is None or cand.manifest.allow_breaking_change or allowed_by_pointer:
        return
    problems = incompatibilities(stable.signatures, cand.manifest.signatures)
    if problems:
        raise Rejected("compatibility", f"signature incompatible with stable version {stable.version}: "
                       + "; ".join(problems) + " (publish with allow_breaking_change, or "
                       f"`plantserve rollout pin {cand.model} {cand.version} --allow-breaking-change`)")


def load_shadow(cand: Candidate, config: ServingConfig, client: ServerClient, settings: Settings) -> None:
    """Load the candidate as ``<model>__candidate`` (specific policy): invisible to plant requests."""
    shadow = shadow_name(cand.model)
    stale = ended_before(client, shadow, cand.version)
    config.set(shadow, cand.base_path, (cand.version,), {})
    try:
        config.apply(settings.load_timeout_seconds)
    except ServerError as exc:
        if exc.code == grpc.StatusCode.UNAVAILABLE:  # the server went away: not the version's fault
            raise
        _state, message = client.status(shadow).get(cand.version, ("UNKNOWN", ""))
        if exc.code == grpc.StatusCode.DEADLINE_EXCEEDED:
            raise Rejected("load", f"version {cand.version} did not load within --load-timeout-seconds="
                           f"{settings.load_timeout_seconds}: {message or exc}") from exc
        raise Rejected("load", f"version {cand.version} failed to load: {message or exc}") from exc
    state, message = wait_for_state(client, shadow, cand.version, settings.load_timeout_seconds, stale=stale)
    if state != "AVAILABLE":
        raise Rejected("load", f"version {cand.version} did not become AVAILABLE: {state} {message}")


def check_behaviour(cand: Candidate, client: ServerClient, stable_version: int | None,
                    settings: Settings, metrics: SidecarMetrics) -> dict[str, float]:
    shadow = shadow_name(cand.model)
    with cand.timed("golden", metrics):
        try:
            replay_golden(client, shadow, cand.version, cand.manifest)
        except GoldenError as exc:
            raise Rejected("golden", str(exc)) from exc
        except ServerError as exc:
            raise Rejected("golden", f"golden request failed: {exc}") from exc
    if stable_version is None:
        return {}
    with cand.timed("latency_probe", metrics):
        inputs = golden_inputs(cand.manifest)
        last: LatencyError | None = None
        for _attempt in range(2):  # a shared node is noisy: confirm a slow result once before rejecting
            try:
                result = latency_probe(
                    client, candidate=(shadow, cand.version), stable=(cand.model, stable_version),
                    inputs=inputs, signature_name=cand.manifest.golden.signature_name,
                    requests=settings.latency_probe_requests, ratio=settings.latency_p99_ratio,
                    slack_ms=settings.latency_slack_ms)
                return dataclasses.asdict(result)
            except LatencyError as exc:
                last = exc
        raise Rejected("latency_probe", str(last)) from last


def promote(cand: Candidate, config: ServingConfig, client: ServerClient, settings: Settings,
            old: int | None) -> None:
    """Two steps: serve old and new under the real name, then move ``stable`` (old becomes ``previous``).

    The shadow name goes in the second step, once the real name serves the new version: a server that
    shares one loaded copy between names (``plantserve serve``) then loads nothing twice."""
    model, new = cand.model, cand.version
    both = tuple(v for v in (old, new) if v is not None)
    stale = ended_before(client, model, new)
    config.set(model, cand.base_path, both, {"stable": old} if old is not None else {})
    config.apply(settings.load_timeout_seconds)
    state, message = wait_for_state(client, model, new, settings.load_timeout_seconds, stale=stale)
    if state != "AVAILABLE":
        raise Rejected("promote", f"version {new} did not become AVAILABLE under {model}: {state} {message}")
    labels = {"stable": new, **({"previous": old} if old is not None else {})}
    config.remove(shadow_name(model))
    config.set(model, cand.base_path, both, labels)
    config.apply(settings.rpc_timeout_seconds)
    if config.applied_labels(model).get("stable") != new:
        raise Rejected("promote", f"the server did not accept label stable -> {new}")
