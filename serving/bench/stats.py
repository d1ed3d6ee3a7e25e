"""Summarise the measured window: throughput, latency percentiles, errors by status.

Definitions (the test recomputes them from the samples CSV):
- the measured window is ``[start + warmup, start + warmup + duration)`` of *scheduled* times;
- latency is ``done - scheduled`` in ms, over the window's OK answers, percentiles by
  ``numpy.percentile`` (linear interpolation);
- throughput is OK answers in the window per second of window; ``sent_per_second`` counts all.

>>> import numpy as np
>>> from serving.bench.samples import Samples
>>> s = Samples.empty()
>>> for i in range(100): s.add(i / 100, i / 100, i / 100 + 0.001 * (i + 1), "OK")
>>> r = summarize(s.freeze(), start=0.0, warmup_seconds=0.0, duration_seconds=1.0)
>>> r["throughput_per_second"], round(r["latency_ms"]["max"], 6), r["errors"]
(100.0, 100.0, {})
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from serving.bench.samples import FrozenSamples

__all__ = ["summarize", "PERCENTILES"]

PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}


def summarize(samples: FrozenSamples, *, start: float, warmup_seconds: float,
              duration_seconds: float) -> dict[str, Any]:
    window_start = start + warmup_seconds
    window_end = window_start + duration_seconds
    measured = samples.select((samples.scheduled >= window_start) & (samples.scheduled < window_end))
    ok = measured.select(measured.status == "OK")
    latency_ms = ok.latency_seconds * 1e3
    service_ms = (ok.done - ok.sent) * 1e3
    statuses = Counter(str(s) for s in measured.status)
    return {
        "requests": len(measured),
        "ok": len(ok),
        "throughput_per_second": len(ok) / duration_seconds,
        "sent_per_second": len(measured) / duration_seconds,
        "latency_ms": _percentiles(latency_ms),
        "service_time_ms": _percentiles(service_ms),
        "errors": {code: n for code, n in sorted(statuses.items()) if code != "OK"},
        "warmup_requests": int(np.count_nonzero(samples.scheduled < window_start)),
    }


def _percentiles(values: np.ndarray) -> dict[str, float | None]:
    if values.size == 0:
        return {**{k: None for k in PERCENTILES}, "max": None, "mean": None}
    points = np.percentile(values, list(PERCENTILES.values()))
    out: dict[str, float | None] = {k: float(v) for k, v in zip(PERCENTILES, points)}
    out["max"] = float(values.max())
    out["mean"] = float(values.mean())
    return out
