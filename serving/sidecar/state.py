"""What a model's worker remembers across sidecar restarts, kept next to the versions.

``<base>/<model>/.plantserve-sidecar.json`` (not an integer, so the server ignores it) holds the
stable and previous versions and the versions marked bad, each with the manifest digest it was
judged on: a republished manifest clears the mark. Everything else is re-read from the disk
and the server on start-up.

Example::

    >>> s = ModelState(stable=3, bad={4: BadMark("golden", "differs", "ab")})
    >>> ModelState.from_json(s.to_json()).bad[4].reason
    'golden'
"""
from __future__ import annotations

import dataclasses
import enum
import json
import os
import tempfile
from pathlib import Path

__all__ = ["ModelState", "BadMark", "Phase", "STATE_FILE", "load_state", "save_state"]

STATE_FILE = ".plantserve-sidecar.json"


class Phase(str, enum.Enum):
    """Where a model's worker is. Stored by the worker at each transition, shown in /status and as
    ``plantserve_model_phase``; the sidecar package's docstring maps each phase to its code."""

    #: Before the server starts: choosing the stable version and making sure it is verified on disk.
    STARTING = "starting"
    #: The server was told to load the stable version; waiting for it to be AVAILABLE and labelled.
    LOADING = "loading"
    #: The version chosen at start-up is loaded: its golden samples are replayed before it is trusted.
    VERIFYING = "verifying"
    #: The stable version is verified and labelled; the store is followed for newer versions.
    SERVING = "serving"
    #: A candidate is going through download, verify, load, golden, latency probe and promote.
    ROLLING_OUT = "rolling_out"
    #: A promoted version is judged on its live traffic until the rollback window closes.
    WATCHING = "watching"
    #: ``stable`` is moving back to the previous version.
    ROLLING_BACK = "rolling_back"
    #: Nothing can be served right now (the server is unreachable, no eligible version): see the errors.
    DEGRADED = "degraded"


@dataclasses.dataclass(frozen=True)
class BadMark:
    reason: str      # the step that failed: integrity, compatibility, load, golden, latency_probe, rolled_back
    detail: str
    manifest_sha256: str
    #: The pointer generation when the mark was made: a later pin of this version retries it once.
    pointer_generation: int = 0


@dataclasses.dataclass
class ModelState:
    stable: int | None = None
    previous: int | None = None
    #: Unix time at which the previous version is unloaded.
    previous_until: float = 0.0
    bad: dict[int, BadMark] = dataclasses.field(default_factory=dict)

    def trim_bad(self, keep: int = 100) -> None:
        """Keep the newest ``keep`` marks: memory and the state file stay bounded."""
        for version in sorted(self.bad)[:-keep]:
            del self.bad[version]

    def to_json(self) -> str:
        return json.dumps({
            "stable": self.stable,
            "previous": self.previous,
            "previous_until": self.previous_until,
            "bad": {str(v): dataclasses.asdict(m) for v, m in sorted(self.bad.items())},
        }, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "ModelState":
        data = json.loads(text)
        return cls(
            stable=data.get("stable"),
            previous=data.get("previous"),
            previous_until=float(data.get("previous_until") or 0.0),
            bad={int(v): BadMark(**m) for v, m in data.get("bad", {}).items()},
        )


def load_state(model_dir: Path) -> ModelState:
    """The saved state, or an empty one when absent or unreadable (the disk stays the truth)."""
    try:
        return ModelState.from_json((model_dir / STATE_FILE).read_text())
    except (OSError, ValueError, TypeError, KeyError):
        return ModelState()


def save_state(model_dir: Path, state: ModelState) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=model_dir, prefix=f"{STATE_FILE}.tmp-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(state.to_json())
        os.replace(tmp, model_dir / STATE_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
