"""What one worker process does: its share of the load and the shared start time.

>>> plans = split(protocol="rest", mode="open", target="http://127.0.0.1:8501", payload=b"x",
...               workers=2, slots=8, rate=100.0, start=10.0, total_seconds=3.0, timeout_seconds=1.0)
>>> [(p.slots, p.rate, p.offset) for p in plans]
[(4, 50.0, 0.0), (4, 50.0, 0.01)]
"""
from __future__ import annotations

import dataclasses
import urllib.parse

__all__ = ["WorkerPlan", "split"]


@dataclasses.dataclass(frozen=True)
class WorkerPlan:
    protocol: str  # "rest" | "grpc"
    mode: str  # "open" | "closed"
    target: str
    payload: bytes  # full HTTP request (rest) or serialized PredictRequest (grpc)
    slots: int  # connections (rest) or in-flight calls (grpc, closed loop)
    rate: float  # this worker's requests/s (open loop)
    offset: float  # this worker's phase within the schedule, seconds
    start: float  # shared time.monotonic() at which the schedule starts
    total_seconds: float  # warmup + measured window
    timeout_seconds: float
    tls: tuple[str | None, str | None, str | None] = (None, None, None)  # ca, cert, key paths (grpc)

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.target).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        url = urllib.parse.urlsplit(self.target)
        return url.port or (443 if url.scheme == "https" else 80)


def split(*, protocol: str, mode: str, target: str, payload: bytes, workers: int, slots: int, rate: float,
          start: float, total_seconds: float, timeout_seconds: float,
          tls: tuple[str | None, str | None, str | None] = (None, None, None)) -> list[WorkerPlan]:
    """Equal shares; worker ``i`` is offset by ``i / rate`` so the merged schedule stays even."""
    plans = []
    for i in range(workers):
        share = slots // workers + (1 if i < slots % workers else 0)
        plans.append(WorkerPlan(protocol, mode, target, payload, max(1, share), rate / workers if rate else 0.0,
                                i / rate if rate else 0.0, start, total_seconds, timeout_seconds, tls))
    return plans
