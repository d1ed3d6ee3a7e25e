"""Pure decisions of a model's worker. ``plan`` turns what the worker observed into the actions of
this tick; the worker's ``apply`` executes them. No I/O here: the worker passes what it read.

Example::

    >>> from serving.sidecar.pointer import RolloutPointer
    >>> from serving.sidecar.state import ModelState
    >>> target_version(RolloutPointer(), ModelState(stable=2), local=[2], store=[1, 2, 3])
    3
    >>> target_version(RolloutPointer(blocked=(2,)), ModelState(stable=2, previous=1), local=[1, 2], store=[1, 2])
    1
    >>> plan(Observation(RolloutPointer(), ModelState(stable=2), (2,), (1, 2, 3), {2: "AVAILABLE"}, True, 0.0))
    [RollOut(version=3)]
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, Union

from .pointer import RolloutPointer
from .server_metrics import Window
from .state import ModelState

__all__ = ["usable", "startup_version", "target_version", "rollback_reason", "Observation", "Action",
           "VerifyStable", "RollBack", "CloseWindow", "SwitchBack", "RollOut", "plan"]


@dataclasses.dataclass(frozen=True)
class Observation:
    """What the worker read this tick."""

    pointer: RolloutPointer
    state: ModelState
    local: tuple[int, ...]
    store: tuple[int, ...]
    #: version -> state name, as GetModelStatus says.
    server: Mapping[int, str]
    #: The stable version passed its golden replay in this process (start-up versions are checked once loaded).
    verified: bool
    now: float
    #: Why the promoted version must go, from judging its window (None: keep it, or nothing to judge).
    rollback: str | None = None


@dataclasses.dataclass(frozen=True)
class VerifyStable:
    """Replay the golden samples of the version chosen at start-up, now that it is loaded."""

    version: int


@dataclasses.dataclass(frozen=True)
class RollBack:
    """Automatic rollback: the promoted version failed on live traffic; mark it bad, serve previous."""

    version: int
    reason: str


@dataclasses.dataclass(frozen=True)
class CloseWindow:
    """The rollback window is over: unload the previous version."""

    previous: int


@dataclasses.dataclass(frozen=True)
class SwitchBack:
    """Move ``stable`` to the still-loaded previous version (the pointer asks, or the stable is unusable);
    ``keep_old``: the old stable stays loaded as the new previous."""

    version: int
    why: str
    keep_old: bool


@dataclasses.dataclass(frozen=True)
class RollOut:
    """Take ``version`` through the candidate pipeline (download, verify, load, golden, probe, promote)."""

    version: int


Action = Union[VerifyStable, RollBack, CloseWindow, SwitchBack, RollOut]


def usable(pointer: RolloutPointer, state: ModelState, version: int) -> bool:
    """Not blocked, and not marked bad here (a pin made after the mark overrides it)."""
    mark = state.bad.get(version)
    pinned_since = version == pointer.pinned and mark is not None and pointer.generation > mark.pointer_generation
    return pointer.eligible(version) and (mark is None or pinned_since)


def startup_version(pointer: RolloutPointer, state: ModelState, local: Iterable[int],
                    store: Iterable[int]) -> int | None:
    """Before the server starts: the pin, else the saved stable version still on disk, else the
    newest usable version in the store (or on disk when the store is unreachable)."""
    local, store = sorted(local), sorted(store)
    if pointer.pinned is not None and pointer.pinned in set(local) | set(store):
        return pointer.pinned
    if state.stable in local and pointer.eligible(state.stable):
        return state.stable
    options = [v for v in store if usable(pointer, state, v)] or [v for v in local if usable(pointer, state, v)]
    return max(options) if options else None


def target_version(pointer: RolloutPointer, state: ModelState, local: Iterable[int],
                   store: Iterable[int]) -> int | None:
    """Where ``stable`` should go next (None: stay). The pin wins; a blocked (or bad) stable falls
    back to ``previous`` (instant) or the newest usable version; otherwise the newest usable version
    above stable is the candidate."""
    known = set(local) | set(store)
    stable = state.stable
    if pointer.pinned is not None:
        return pointer.pinned if pointer.pinned in known and usable(pointer, state, pointer.pinned) else None
    if stable is not None and not usable(pointer, state, stable):  # blocked, or found bad here
        if state.previous is not None and usable(pointer, state, state.previous):
            return state.previous
        options = [v for v in known if usable(pointer, state, v)]
        return max(options) if options else None
    newer = [v for v in store if v > (stable or 0) and usable(pointer, state, v)]
    return max(newer) if newer else None


def rollback_reason(window: Window, *, error_ratio: float, p99_ms: float, min_requests: int) -> str | None:
    """Why the version promoted at the start of ``window`` must go (None: keep it)."""
    if window.total < min_requests:
        return None
    if window.error_ratio > error_ratio:
        return f"error ratio {window.error_ratio:.3f} > {error_ratio} over {int(window.total)} requests"
    observed = window.p99_ms()
    if p99_ms > 0 and observed is not None and observed > p99_ms:
        return f"p99 {observed:.1f} ms > {p99_ms} ms over {int(window.total)} requests"
    return None


def plan(obs: Observation) -> list[Action]:
    """This tick's actions, in order. A start-up version is verified before anything else moves; a
    failed promotion is rolled back before the window can close; then ``stable`` follows the target."""
    s = obs.state
    if (s.stable is not None and not obs.verified and obs.server.get(s.stable) == "AVAILABLE"
            and usable(obs.pointer, s, s.stable)):
        return [VerifyStable(s.stable)]
    if s.previous is not None and obs.rollback and s.stable is not None:
        return [RollBack(s.stable, obs.rollback)]
    actions: list[Action] = []
    state = s
    if s.previous is not None and obs.now >= s.previous_until:
        actions.append(CloseWindow(s.previous))
        state = dataclasses.replace(s, previous=None, previous_until=0.0)
    target = target_version(obs.pointer, state, obs.local, obs.store)
    if target is None or target == state.stable:
        return actions
    if target == state.previous and obs.server.get(target) == "AVAILABLE":
        unusable = state.stable is not None and not usable(obs.pointer, state, state.stable)
        actions.append(SwitchBack(target, f"moved to version {target} (fleet pointer or bad stable)",
                                  keep_old=not unusable))
    else:
        actions.append(RollOut(target))
    return actions
