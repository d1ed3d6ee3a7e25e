"""Checks shared by the demo's tests: child pids from the demo's output, and the store's versions."""
from __future__ import annotations

import os
import re
from pathlib import Path

from tests.support import wait_until

PID = re.compile(r"\bpid (\d+)\b")


def child_pids(output: str) -> list[int]:
    """Every child the demo started prints ``pid N`` once."""
    return sorted({int(p) for p in PID.findall(output)})


def group_gone(pid: int) -> bool:
    """No process left in the child's process group (the child and anything it started)."""
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # the id now belongs to someone else's group: not ours
        return True
    return False


def assert_no_children_left(output: str, expected_at_least: int) -> list[int]:
    pids = child_pids(output)
    assert len(pids) >= expected_at_least, f"expected >= {expected_at_least} child pids in:\n{output}"
    wait_until(lambda: all(group_gone(p) for p in pids), timeout=10, what=f"child groups {pids} gone")
    return pids


def version_dirs(store: Path, model: str) -> dict[int, bool]:
    """Numeric version directory -> has a manifest."""
    root = store / model
    return {int(d.name): (d / "manifest.json").is_file() for d in root.iterdir() if d.is_dir() and d.name.isdigit()}
