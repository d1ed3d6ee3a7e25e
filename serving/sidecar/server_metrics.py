"""Read the server's own Prometheus page (TF Serving's names, kept exactly) for one model.

After a promotion the sidecar takes a snapshot, then compares later snapshots with it: the error
ratio comes from ``:tensorflow:serving:request_count{model_name,status}``, the p99 from the
``:tensorflow:serving:request_latency`` histogram (µs, OK requests only). A count lower than the
snapshot's means the server restarted and its counters began again: ``since`` then answers None
(no window), and the caller judges from a new snapshot instead of mistaking the restart's numbers
for the version's.

Example::

    >>> text = ':tensorflow:serving:request_count{model_name="fuel",status="OK"} 9\\n'
    >>> parse(text, "fuel").requests
    {'OK': 9.0}
"""
from __future__ import annotations

import dataclasses
import math
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["Snapshot", "Window", "parse", "scrape"]

_COUNT = ":tensorflow:serving:request_count"
_LATENCY = ":tensorflow:serving:request_latency"


@dataclasses.dataclass(frozen=True)
class Snapshot:
    requests: dict[str, float]           # status -> count
    latency_buckets: dict[float, float]  # upper bound (µs) -> cumulative count

    def since(self, earlier: "Snapshot") -> "Window | None":
        """Requests since ``earlier``; None when a counter went down (the server restarted)."""
        statuses = set(self.requests) | set(earlier.requests)
        requests = {s: self.requests.get(s, 0.0) - earlier.requests.get(s, 0.0) for s in statuses}
        buckets = {le: c - earlier.latency_buckets.get(le, 0.0) for le, c in self.latency_buckets.items()}
        if any(v < 0 for v in (*requests.values(), *buckets.values())):
            return None
        return Window(requests, buckets)


@dataclasses.dataclass(frozen=True)
class Window:
    requests: dict[str, float]
    latency_buckets: dict[float, float]

    @property
    def total(self) -> float:
        return sum(self.requests.values())

    @property
    def error_ratio(self) -> float:
        total = self.total
        return (total - self.requests.get("OK", 0.0)) / total if total else 0.0

    def p99_ms(self) -> float | None:
        """Upper bound of the bucket holding the 99th percentile of OK requests (None if no data)."""
        if not self.latency_buckets:
            return None
        bounds = sorted(self.latency_buckets)
        total = self.latency_buckets[bounds[-1]]
        if total <= 0:
            return None
        for le in bounds:
            if self.latency_buckets[le] >= 0.99 * total:
                return le / 1000.0 if math.isfinite(le) else math.inf
        return math.inf


def parse(text: str, model: str) -> Snapshot:
    """One model's request counts and OK-latency buckets (summed over APIs and entry points)."""
    requests: dict[str, float] = {}
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name not in (_COUNT, _LATENCY):
            continue
        for sample in family.samples:
            if sample.labels.get("model_name") != model:
                continue
            if sample.name == _COUNT or (family.name == _COUNT and sample.name == _COUNT + "_total"):
                status = sample.labels.get("status", "UNKNOWN")
                requests[status] = requests.get(status, 0.0) + sample.value
            elif sample.name == _LATENCY + "_bucket":
                le = float(sample.labels.get("le", "+Inf"))
                buckets[le] = buckets.get(le, 0.0) + sample.value
    return Snapshot(requests, buckets)


def scrape(url: str, model: str, timeout_seconds: float) -> Snapshot:
    """GET the metrics page; raises OSError (urllib) when the server's REST port is down."""
    with urllib.request.urlopen(url, timeout=timeout_seconds) as response:  # noqa: S310 - operator-given URL
        return parse(response.read().decode("utf-8", "replace"), model)
