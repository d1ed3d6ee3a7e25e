"""TF Serving's metrics and its Prometheus page (``util/prometheus_exporter.cc``), exactly.

TF's exporter writes ``# TYPE`` lines only (no HELP), replaces ``/`` in names by ``:``, prints counters as
integers and histogram bounds and sums with six significant digits, and ends the last bucket at
``+Inf``. prometheus_client cannot produce that page (it adds HELP and ``_total``), so this module keeps
its own small thread-safe registry, injected where it is needed.

>>> m = ServingMetrics()
>>> m.request_count.inc("fuel", "OK")
>>> [l for l in m.registry.render().splitlines() if "request_count{" in l]
[':tensorflow:serving:request_count{model_name="fuel",status="OK"} 1']
"""
from __future__ import annotations

import bisect
import threading
from typing import Sequence

__all__ = ["Registry", "Counter", "Histogram", "ServingMetrics", "exponential_buckets"]


def exponential_buckets(scale: float, growth: float, count: int) -> list[float]:
    """TF's ``Buckets::Exponential``: ``count`` finite bounds; the exporter adds ``+Inf``."""
    return [scale * growth**i for i in range(count)]


def _num(value: float) -> str:
    """absl::StrCat(double): six significant digits."""
    return "%.6g" % value


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    return ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values))


class Counter:
    def __init__(self, name: str, labelnames: Sequence[str]) -> None:
        self.name, self.labelnames = name, tuple(labelnames)
        self._values: dict[tuple[str, ...], int] = {}
        self._lock = threading.Lock()

    def inc(self, *labels: str, amount: int = 1) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0) + int(amount)

    def value(self, *labels: str) -> int:
        return self._values.get(labels, 0)

    def render(self) -> list[str]:
        lines = [f"# TYPE {self.name} counter"]
        with self._lock:
            items = list(self._values.items())
        lines += [f"{self.name}{{{_labels(self.labelnames, k)}}} {v}" for k, v in items]
        return lines


class Histogram:
    def __init__(self, name: str, labelnames: Sequence[str], bounds: Sequence[float]) -> None:
        self.name, self.labelnames, self.bounds = name, tuple(labelnames), list(bounds)
        self._cells: dict[tuple[str, ...], list] = {}
        self._lock = threading.Lock()

    def observe(self, *labels: str, value: float) -> None:
        index = bisect.bisect_right(self.bounds, value)  # TF buckets are [lo, hi): value == hi goes up
        with self._lock:
            cell = self._cells.get(labels)
            if cell is None:
                cell = self._cells[labels] = [[0] * (len(self.bounds) + 1), 0.0]
            cell[0][index] += 1
            cell[1] += value

    def count(self, *labels: str) -> int:
        cell = self._cells.get(labels)
        return sum(cell[0]) if cell else 0

    def render(self) -> list[str]:
        lines = [f"# TYPE {self.name} histogram"]
        with self._lock:
            items = [(k, list(c[0]), c[1]) for k, c in self._cells.items()]
        for labels, buckets, total in items:
            lab = _labels(self.labelnames, labels)
            prefix = f"{self.name}_bucket{{{lab}{',' if lab else ''}"
            cumulative = 0
            for i, n in enumerate(buckets):
                cumulative += n
                bound = _num(self.bounds[i]) if i < len(self.bounds) else "+Inf"
                lines.append(f'{prefix}le="{bound}"}} {cumulative}')
            lines.append(f"{self.name}_sum{{{lab}}} {_num(total)}")
            lines.append(f"{self.name}_count{{{lab}}} {cumulative}")
        return lines


class Registry:
    def __init__(self) -> None:
        self._metrics: list[Counter | Histogram] = []

    def add(self, metric):
        self._metrics.append(metric)
        return metric

    def render(self) -> str:
        lines: list[str] = []
        for metric in sorted(self._metrics, key=lambda m: m.name):
            lines += metric.render()
        return "\n".join(lines) + "\n"


LATENCY_BUCKETS = exponential_buckets(10, 1.8, 33)


class ServingMetrics:
    """The metrics TF Serving's model server exports, with their names, labels and buckets."""

    def __init__(self) -> None:
        r = self.registry = Registry()
        s = ":tensorflow:serving:"
        self.request_count = r.add(Counter(s + "request_count", ("model_name", "status")))
        self.request_latency = r.add(Histogram(s + "request_latency", ("model_name", "API", "entrypoint"),
                                               LATENCY_BUCKETS))
        self.runtime_latency = r.add(Histogram(s + "runtime_latency", ("model_name", "API", "runtime"),
                                               LATENCY_BUCKETS))
        self.example_counts = r.add(Histogram(s + "request_example_counts", ("model",),
                                              exponential_buckets(1, 2, 15)))
        self.example_count_total = r.add(Counter(s + "request_example_count_total", ("model",)))
        self.warmup_latency = r.add(Histogram(s + "model_warmup_latency", ("model_path", "status"),
                                              LATENCY_BUCKETS))
        self.warmup_records_read = r.add(Counter(s + "model_warmup_records_read", ("model_path", "status")))
        self.load_latency = r.add(Counter(":tensorflow:cc:saved_model:load_latency", ("model_path",)))
        self.load_attempt_count = r.add(Counter(":tensorflow:cc:saved_model:load_attempt_count",
                                                ("model_path", "status")))
        self.queuing_latency: Histogram | None = None
        self.wrapped_run_count: Counter | None = None

    def enable_batching_metrics(self) -> None:
        s = ":tensorflow:serving:batching_session:"
        if self.queuing_latency is None:
            self.queuing_latency = self.registry.add(Histogram(s + "queuing_latency", ("thread_pool_name",),
                                                               exponential_buckets(100, 1.2, 52)))
            self.wrapped_run_count = self.registry.add(Counter(s + "wrapped_run_count", ()))

    def render(self) -> str:
        return self.registry.render()
