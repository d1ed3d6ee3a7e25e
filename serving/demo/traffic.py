"""Requests that keep flowing on the ``stable`` label while a new version rolls out.

It sends gRPC Predict calls with ``serving.client.PredictClient`` and reads each answer's
``version``: TF Serving echoes the version that answered, which is how the demo shows the switch
from the old version to the new one.

Example::

    >>> TrafficStats(ok=3, failures={}, versions=[(1, 2), (2, 1)], latencies_ms=[1.0, 2.0, 3.0]).answered_by()
    'v1 x2 -> v2 x1'
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import Counter

import numpy as np

from serving.client.errors import ClientError

__all__ = ["Traffic", "TrafficStats"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrafficStats:
    ok: int
    failures: dict[str, int]
    #: Runs of consecutive answers from one version: [(version, count), ...].
    versions: list[tuple[int, int]]
    latencies_ms: list[float]

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def answered_by(self) -> str:
        return " -> ".join(f"v{v} x{n}" for v, n in self.versions) or "nobody"

    def percentiles(self) -> dict[str, float | None]:
        if not self.latencies_ms:
            return {k: None for k in ("p50", "p90", "p99", "p99.9", "max")}
        values = np.asarray(self.latencies_ms)
        points = np.percentile(values, [50, 90, 99, 99.9])
        return {**dict(zip(("p50", "p90", "p99", "p99.9"), map(float, points))), "max": float(values.max())}


class Traffic:
    """One thread, one request in flight, ``pause_seconds`` between requests."""

    def __init__(self, target: str, model: str, inputs: dict[str, np.ndarray], label: str = "stable",
                 pause_seconds: float = 0.01, timeout_seconds: float = 5.0) -> None:
        from serving.client import ClientSettings, PredictClient

        self._client = PredictClient(ClientSettings(target=target, timeout_seconds=timeout_seconds,
                                                    default_label=label))
        self._model, self._inputs = model, inputs
        self._timeout = timeout_seconds
        self._pause = pause_seconds
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ok = 0
        self._failures: Counter[str] = Counter()
        self._runs: list[list[int]] = []
        self._latencies: list[float] = []
        self._thread = threading.Thread(target=self._run, name="demo-traffic", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                answer = self._client.predict(self._model, self._inputs, timeout=self._timeout)
            except ClientError as exc:
                log.info("request on the stable label failed: %s", exc)
                with self._lock:
                    self._failures[exc.code] += 1
            else:
                elapsed_ms = (time.perf_counter() - started) * 1e3
                version = answer.version
                with self._lock:
                    self._ok += 1
                    self._latencies.append(elapsed_ms)
                    if self._runs and self._runs[-1][0] == version:
                        self._runs[-1][1] += 1
                    else:
                        self._runs.append([version, 1])
            self._stop.wait(self._pause)

    def start(self) -> "Traffic":
        self._thread.start()
        return self

    def stats(self) -> TrafficStats:
        with self._lock:
            return TrafficStats(self._ok, dict(self._failures), [(v, n) for v, n in self._runs],
                                list(self._latencies))

    def stop(self) -> TrafficStats:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self._timeout + 5)
        self._client.close()
        return self.stats()
