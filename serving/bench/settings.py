"""``plantserve bench``'s one frozen settings object, built from flags and validated up front.

>>> s = BenchSettings(target="http://localhost:8501", model="fuel", mode="open", rate=200)
>>> s.protocol, s.total_seconds, s.effective_workers
('rest', 12.0, 1)
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

__all__ = ["BenchSettings", "MODES"]

MODES = ("open", "closed")


@dataclasses.dataclass(frozen=True)
class BenchSettings:
    """``mode="open"`` sends at a constant ``rate`` (requests/s) whatever the answers do, over at
    most ``connections`` REST connections; latency counts from each request's *scheduled* time,
    so server stalls show up (no coordinated omission). ``mode="closed"`` keeps ``concurrency``
    requests in flight, each sent as soon as the previous one on its slot answers.
    """

    target: str
    model: str
    mode: str = "closed"
    rate: float = 0.0
    concurrency: int = 8
    connections: int = 64
    warmup_seconds: float = 2.0
    duration_seconds: float = 10.0
    timeout_seconds: float = 5.0
    workers: int = 0  # 0: choose (1 for REST, 2 for gRPC)
    signature: str = "serving_default"
    version: int | None = None
    label: str | None = None
    batch: int = 1
    input_json: Path | None = None
    out_dir: Path = Path("var/bench")
    name: str = "bench"
    plot: bool = True
    ca_cert: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None

    def __post_init__(self) -> None:
        checks = {
            "target": bool(self.target), "model": bool(self.model), "mode": self.mode in MODES,
            "rate": self.mode != "open" or self.rate > 0, "concurrency": self.concurrency >= 1,
            "connections": self.connections >= 1, "warmup_seconds": self.warmup_seconds >= 0,
            "duration_seconds": self.duration_seconds > 0, "timeout_seconds": self.timeout_seconds > 0,
            "workers": 0 <= self.workers <= 64, "batch": self.batch >= 1,
            "version/label": self.version is None or self.label is None,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid bench settings: {', '.join(bad)} "
                             "(open mode needs --rate > 0; give --version or --label, not both)")

    @property
    def protocol(self) -> str:
        return "rest" if self.target.startswith(("http://", "https://")) else "grpc"

    @property
    def total_seconds(self) -> float:
        return self.warmup_seconds + self.duration_seconds

    @property
    def effective_workers(self) -> int:
        """Worker processes. Each worker gets an equal share of the rate or concurrency."""
        if self.workers:
            wanted = self.workers
        else:
            wanted = 1 if self.protocol == "rest" else min(2, os.cpu_count() or 1)
        slots = self.concurrency if self.mode == "closed" else self.connections
        return max(1, min(wanted, slots))

    @property
    def json_path(self) -> Path:
        return self.out_dir / f"{self.name}.json"

    @property
    def png_path(self) -> Path:
        return self.out_dir / f"{self.name}.png"

    @property
    def samples_path(self) -> Path:
        return self.out_dir / f"{self.name}-samples.csv"
