"""Pure decisions of a model's worker: which version to start with, which to move to, and
whether a promoted version must be rolled back. No I/O: the worker passes what it read.

Example::

    >>> from serving.sidecar.pointer import RolloutPointer
    >>> from serving.sidecar.state import ModelState
    >>> target_version(RolloutPointer(), ModelState(stable=2), local=[2], store=[1, 2, 3])
    3
    >>> target_version(RolloutPointer(blocked=(2,)), ModelState(stable=2, previous=1), local=[1, 2], store=[1, 2])
    1
"""
from __future__ import annotations

from typing import Iterable

from .pointer import RolloutPointer
from .server_metrics import Window
from .state import ModelState

__all__ = ["usable", "startup_version", "target_version", "rollback_reason"]


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
