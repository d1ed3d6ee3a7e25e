"""Make packages unimportable in a child process, and report what was loaded or attempted anyway.

Used by the scripts that prove a lean path stays lean (the client and the sidecar without TensorFlow,
the verifier without the signing libraries)::

    blocker = Blocker(("tensorflow",)).install()
    ...                      # the code under test
    blocker.report()         # {"loaded": [...], "attempts": [...]}: both must stay empty
"""
from __future__ import annotations

import importlib.abc
import sys
from typing import Iterable


class Blocker(importlib.abc.MetaPathFinder):
    """Refuses the named top-level packages (ModuleNotFoundError) and records each attempt."""

    def __init__(self, blocked: Iterable[str]) -> None:
        self.blocked = tuple(blocked)
        self.attempts: list[str] = []

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.blocked:
            self.attempts.append(fullname)
            raise ModuleNotFoundError(f"{fullname} is blocked in this test", name=fullname)
        return None

    def install(self) -> "Blocker":
        sys.meta_path.insert(0, self)
        return self

    def report(self) -> dict[str, list[str]]:
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in self.blocked)
        return {"loaded": loaded, "attempts": list(self.attempts)}
