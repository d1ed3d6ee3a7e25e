"""Version states as GetModelStatus reports them, and waiting on them (``ServableStateMonitor``).

>>> m = StateMonitor()
>>> m.publish("fuel", 1, State.AVAILABLE)
>>> [(v, s.state.name) for v, s in m.versions("fuel")]
[(1, 'AVAILABLE')]
"""
from __future__ import annotations

import dataclasses
import enum
import threading
import time
from typing import Callable

from serving.server.status import Code

__all__ = ["State", "VersionStatus", "StateMonitor"]


class State(enum.IntEnum):
    """``ModelVersionStatus.State``."""

    UNKNOWN = 0
    START = 10
    LOADING = 20
    AVAILABLE = 30
    UNLOADING = 40
    END = 50


@dataclasses.dataclass(frozen=True)
class VersionStatus:
    state: State
    code: Code = Code.OK
    message: str = ""


class StateMonitor:
    """Latest state of every (model, version) ever seen; unloaded versions stay as END."""

    def __init__(self) -> None:
        self._states: dict[str, dict[int, VersionStatus]] = {}
        self._cond = threading.Condition()
        self._generation = 0

    def publish(self, model: str, version: int, state: State, code: Code = Code.OK, message: str = "") -> None:
        with self._cond:
            self._states.setdefault(model, {})[version] = VersionStatus(state, code, message)
            self._generation += 1
            self._cond.notify_all()

    def get(self, model: str, version: int) -> VersionStatus | None:
        with self._cond:
            return self._states.get(model, {}).get(version)

    def versions(self, model: str) -> list[tuple[int, VersionStatus]]:
        """All versions of ``model``, newest first."""
        with self._cond:
            return sorted(self._states.get(model, {}).items(), reverse=True)

    def available(self, model: str) -> set[int]:
        with self._cond:
            return {v for v, s in self._states.get(model, {}).items() if s.state == State.AVAILABLE}

    def wait(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        """Block until ``predicate()`` holds (re-checked on every state change) or the timeout passes.

        The predicate runs without this monitor's lock held, so it may take other locks (the manager's)
        that are held while states are published.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                generation = self._generation
            if predicate():
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            with self._cond:
                if self._generation == generation:
                    self._cond.wait(timeout=1.0 if remaining is None else min(remaining, 1.0))

    def notify(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()
