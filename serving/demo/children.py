"""Child processes of the demo, each in its own process group, always stopped in the end.

Every child is started with ``start_new_session=True``: a terminal's Ctrl-C reaches the demo only,
and the demo stops each child's whole group (SIGTERM, then SIGKILL after a grace period), which
also takes the bench's worker processes. Output goes to a log file; a child can also have its
stdout relayed, line by line and indented, to the demo's output.

Example::

    >>> import sys, io, pathlib, tempfile
    >>> out = io.StringIO()
    >>> with Children(pathlib.Path(tempfile.mkdtemp()), out) as kids:
    ...     child = kids.start("hello", [sys.executable, "-c", "print('hi')"], relay=True)
    ...     child.wait(30)
    0
    >>> "| hi" in out.getvalue()
    True
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, ContextManager, Sequence, TextIO

__all__ = ["Child", "Children", "PLANTSERVE"]

log = logging.getLogger(__name__)

#: How a child runs a plantserve subcommand: the same interpreter, no reliance on PATH.
PLANTSERVE = (sys.executable, "-m", "serving.cli")
STOP_GRACE_SECONDS = 15.0


class Child:
    def __init__(self, name: str, popen: subprocess.Popen, log_path: Path, log_file, relay: threading.Thread | None):
        self.name = name
        self.popen = popen
        self.log_path = log_path
        self._log_file = log_file
        self._relay = relay

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float) -> int:
        """The exit code; raises subprocess.TimeoutExpired at the deadline (the child keeps running)."""
        code = self.popen.wait(timeout)
        if self._relay is not None:
            self._relay.join(5)
        return code

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def close(self) -> None:
        if self._relay is not None:
            self._relay.join(5)
        self._log_file.close()


class Children:
    """The registry of every child started; ``stop_all()`` (and leaving the ``with``) stops them."""

    def __init__(self, logs_dir: Path, out: TextIO, shield: Callable[[], ContextManager[None]] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.logs_dir = logs_dir
        self.out = out
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
        self._shield = shield or contextlib.nullcontext
        self._children: list[Child] = []

    def start(self, name: str, argv: Sequence[str], relay: bool = False, prefix: str = "    | ") -> Child:
        """Start ``argv``; stdout is relayed to the demo's output when ``relay``, stderr goes to the log."""
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.logs_dir / f"{name}.log"
        log_file = open(log_path, "wb")
        with self._shield():  # a signal here would lose the pid: it is raised after registration
            popen = subprocess.Popen(list(argv), stdout=subprocess.PIPE if relay else log_file,
                                     stderr=log_file, stdin=subprocess.DEVNULL, env=self.env,
                                     start_new_session=True)
            thread = None
            if relay:
                thread = threading.Thread(target=self._relay, args=(popen, log_file, prefix), daemon=True,
                                          name=f"relay-{name}")
                thread.start()
            child = Child(name, popen, log_path, log_file, thread)
            self._children.append(child)
        log.debug("started %s (pid %s): %s", name, popen.pid, " ".join(argv))
        return child

    def _relay(self, popen: subprocess.Popen, log_file, prefix: str) -> None:
        assert popen.stdout is not None
        for raw in popen.stdout:
            log_file.write(raw)
            log_file.flush()
            line = raw.decode(errors="replace").rstrip()
            if line:
                print(prefix + line, file=self.out, flush=True)

    def shield(self) -> ContextManager[None]:
        """Signals are held until the section ends (see serving.demo.interrupts)."""
        return self._shield()

    def stop(self, child: Child, grace_seconds: float = STOP_GRACE_SECONDS) -> int | None:
        return self._stop([child], grace_seconds).get(child.name)

    def stop_all(self, grace_seconds: float = STOP_GRACE_SECONDS) -> dict[str, int | None]:
        """SIGTERM every group at once, wait, SIGKILL what is left. Returns name -> exit code."""
        return self._stop(list(reversed(self._children)), grace_seconds)

    def _stop(self, children: list[Child], grace_seconds: float) -> dict[str, int | None]:
        for child in children:
            if not _exited(child.pid):
                child.signal_group(signal.SIGTERM)
        left = _wait_exited(children, grace_seconds)
        for child in left:
            log.warning("%s (pid %s) ignored SIGTERM for %.0fs: killing it", child.name, child.pid, grace_seconds)
            child.signal_group(signal.SIGKILL)
        _wait_exited(left, 10.0)
        codes: dict[str, int | None] = {}
        for child in children:
            # The leader is a zombie until reaped below, so its group id cannot have been reused:
            # this takes any straggler of the group (the bench's worker processes).
            child.signal_group(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.popen.wait(10)
            child.close()
            codes[child.name] = child.popen.returncode
            if child in self._children:
                self._children.remove(child)
        return codes

    @property
    def running(self) -> list[Child]:
        return [c for c in self._children if c.alive()]

    def __enter__(self) -> "Children":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def _exited(pid: int) -> bool:
    """True once ``pid`` has exited, without reaping it (so its process group id stays reserved)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # already reaped
        return True


def _wait_exited(children: list[Child], timeout: float) -> list[Child]:
    """Poll until every child has exited or the deadline passes; returns those still running."""
    deadline = time.monotonic() + timeout
    left = [c for c in children if not _exited(c.pid)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [c for c in left if not _exited(c.pid)]
    return left
