"""``plantserve bench``'s one frozen settings object, declared once (flag, ``PLANTSERVE_BENCH_*`` env,
default, help) with :mod:`serving.settings`, built from flags and validated up front.

>>> s = BenchSettings(target="http://localhost:8501", model="fuel", mode="open", rate=200)
>>> s.protocol, s.total_seconds, s.effective_workers
('rest', 12.0, 1)
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import ClassVar

from serving.settings import setting

__all__ = ["BenchSettings", "MODES"]

MODES = ("open", "closed")
_TLS = "TLS (gRPC)"


@dataclasses.dataclass(frozen=True)
class BenchSettings:
    """``mode="open"`` sends at a constant ``rate`` (requests/s) whatever the answers do, over at
    most ``connections`` REST connections; latency counts from each request's *scheduled* time,
    so server stalls show up (no coordinated omission). ``mode="closed"`` keeps ``concurrency``
    requests in flight, each sent as soon as the previous one on its slot answers.
    """

    ENV_PREFIX: ClassVar[str] = "PLANTSERVE_BENCH_"

    model: str  # the positional argument
    target: str = setting(help="gRPC host:port / dns:///... or REST http://host:port", required=True)
    mode: str = setting("closed", choices=MODES, help="open: constant --rate, latency from the scheduled time; "
                                                      "closed: --concurrency requests in flight")
    rate: float = setting(0.0, help="open loop: requests per second")
    concurrency: int = setting(8, help="closed loop: requests in flight")
    connections: int = setting(64, help="open loop over REST: max connections")
    warmup_seconds: float = setting(2.0, help="warm-up before the measured window")
    duration_seconds: float = setting(10.0, help="the measured window")
    timeout_seconds: float = setting(5.0, help="per-request deadline")
    workers: int = setting(0, help="load processes (0: 1 for REST, 2 for gRPC)")
    signature: str = setting("serving_default", help="signature to call")
    version: int | None = setting(env="", help="address this version (default: the newest)")
    label: str | None = setting(env="", help="address this version label (not with --version)")
    batch: int = setting(1, help="rows per request when inputs are synthesised")
    input_json: Path | None = setting(flag="--json", env="", help="request inputs (as for plantserve predict)")
    out_dir: Path = setting(Path("var/bench"), flag="--out", help="directory for the JSON, CSV and PNG")
    name: str = setting("bench", env="", help="file name stem for the outputs")
    no_plot: bool = setting(False, help="skip the PNG")
    ca_cert: Path | None = setting(group=_TLS, help="PEM CA bundle that signed the server's certificate")
    client_cert: Path | None = setting(group=_TLS, help="PEM client certificate (mTLS)")
    client_key: Path | None = setting(group=_TLS, help="PEM client key (mTLS)")

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
    def plot(self) -> bool:
        return not self.no_plot

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
