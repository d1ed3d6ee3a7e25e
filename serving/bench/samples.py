"""Per-request samples: when each request was scheduled, sent and answered, and its status.

Times are ``time.monotonic()`` seconds, a clock shared by every process on Linux, so samples
from several worker processes merge directly.

>>> s = Samples.empty()
>>> s.add(1.0, 1.001, 1.004, "OK"); s.add(1.5, 1.5, 1.6, "UNAVAILABLE")
>>> s.freeze().latency_seconds.round(3).tolist()
[0.004, 0.1]
"""
from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np

__all__ = ["Samples", "FrozenSamples", "merge", "write_csv", "read_csv"]


@dataclasses.dataclass
class Samples:
    """Growing lists, cheap to append from a hot loop or a gRPC callback."""

    scheduled: list[float]
    sent: list[float]
    done: list[float]
    status: list[str]

    @classmethod
    def empty(cls) -> "Samples":
        return cls([], [], [], [])

    def add(self, scheduled: float, sent: float, done: float, status: str) -> None:
        self.scheduled.append(scheduled)
        self.sent.append(sent)
        self.done.append(done)
        self.status.append(status)

    def freeze(self) -> "FrozenSamples":
        return FrozenSamples(np.asarray(self.scheduled, np.float64), np.asarray(self.sent, np.float64),
                             np.asarray(self.done, np.float64), np.asarray(self.status, dtype=object))


@dataclasses.dataclass
class FrozenSamples:
    scheduled: np.ndarray
    sent: np.ndarray
    done: np.ndarray
    status: np.ndarray

    @property
    def latency_seconds(self) -> np.ndarray:
        """From the scheduled time: includes any wait for a free connection (open loop)."""
        return self.done - self.scheduled

    def __len__(self) -> int:
        return int(self.scheduled.size)

    def select(self, mask: np.ndarray) -> "FrozenSamples":
        return FrozenSamples(self.scheduled[mask], self.sent[mask], self.done[mask], self.status[mask])


def merge(parts: list[FrozenSamples]) -> FrozenSamples:
    if not parts:
        return Samples.empty().freeze()
    merged = FrozenSamples(*(np.concatenate([getattr(p, f) for p in parts])
                             for f in ("scheduled", "sent", "done", "status")))
    return merged.select(np.argsort(merged.scheduled, kind="stable"))


def write_csv(samples: FrozenSamples, start: float, warmup_end: float, path: Path) -> None:
    """One row per request: times relative to ``start`` in seconds, latencies in ms, phase."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["scheduled_s", "latency_ms", "service_ms", "status", "phase"])
        for sch, snt, dn, st in zip(samples.scheduled, samples.sent, samples.done, samples.status):
            writer.writerow([f"{sch - start:.6f}", f"{(dn - sch) * 1e3:.6f}", f"{(dn - snt) * 1e3:.6f}", st,
                             "warmup" if sch < warmup_end else "measured"])
    tmp.replace(path)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))
