"""Ctrl-C, SIGTERM and SIGHUP as one exception, raised in the main thread, with shielded sections.

A signal raises :class:`Interrupted` wherever the main thread is, except inside ``shielded()``:
there it is remembered and raised when the section ends (or dropped, for the final clean-up).
Starting a child and recording its pid is shielded, so no child can escape the clean-up.

Example::

    >>> with SignalGuard() as guard:
    ...     with guard.shielded():
    ...         pass
    >>> guard.received is None
    True
"""
from __future__ import annotations

import contextlib
import logging
import signal
import threading
from typing import Any, Iterator

__all__ = ["Interrupted", "SignalGuard", "SIGNALS"]

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """The user (or a supervisor) asked the demo to stop. A KeyboardInterrupt, so that no
    ``except Exception`` swallows it and the dispatcher still exits 130 if it escapes."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class SignalGuard:
    """Installs the handlers on enter (main thread only) and restores the previous ones on exit."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._depth = 0
        self._pending: int | None = None
        self._previous: dict[int, Any] = {}

    def _handler(self, signum: int, _frame: Any) -> None:
        self.received = self.received or signum
        if self._depth:
            self._pending = self._pending or signum
            return
        raise Interrupted(signum)

    @contextlib.contextmanager
    def shielded(self, drop: bool = False) -> Iterator[None]:
        """Signals arriving inside are held; on exit they are raised (or dropped with ``drop``)."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if drop and self._pending:
                log.info("%s during clean-up: finishing the clean-up first", signal.Signals(self._pending).name)
                self._pending = None
            elif self._pending and not self._depth:
                pending, self._pending = self._pending, None
                raise Interrupted(pending)

    def __enter__(self) -> "SignalGuard":
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()
