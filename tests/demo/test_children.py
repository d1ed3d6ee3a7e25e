"""serving.demo.children and interrupts: groups are stopped whole; signals are held in shielded sections."""
from __future__ import annotations

import io
import os
import signal
import sys
from pathlib import Path

import pytest

from serving.demo.children import Children
from serving.demo.interrupts import Interrupted, SignalGuard
from tests.demo.helpers import group_gone
from tests.support import wait_until

# A child that ignores SIGTERM and starts a grandchild in its group, then waits forever.
STUBBORN = ("import signal, subprocess, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
            "print('ready', flush=True)\n"
            "time.sleep(600)\n")


def test_stop_all_kills_the_whole_group_even_if_it_ignores_sigterm(tmp_path: Path) -> None:
    out = io.StringIO()
    kids = Children(tmp_path, out)
    child = kids.start("stubborn", [sys.executable, "-c", STUBBORN], relay=True)
    wait_until(lambda: "| ready" in out.getvalue(), timeout=30, what="the child to start its grandchild")
    assert not group_gone(child.pid)
    kids.stop_all(grace_seconds=0.5)
    wait_until(lambda: group_gone(child.pid), timeout=10, what="the group gone")
    assert kids.running == []


def test_signals_inside_a_shielded_section_are_raised_after_it() -> None:
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite runs in the background of a plain shell
    with SignalGuard() as guard:
        with pytest.raises(Interrupted) as caught:
            with guard.shielded():
                os.kill(os.getpid(), signal.SIGTERM)
                wait_until(lambda: guard.received, timeout=5, what="the handler to run")
                registered = True
        assert registered and caught.value.exit_code == 128 + signal.SIGTERM
        guard.received = None
        with guard.shielded(drop=True):  # clean-up: a second Ctrl-C does not cut it short
            os.kill(os.getpid(), signal.SIGINT)
            wait_until(lambda: guard.received, timeout=5, what="the handler to run")
        assert signal.getsignal(signal.SIGINT) is not before  # the guard's own handler while it is active
    assert signal.getsignal(signal.SIGINT) is before
