"""Summaries: window selection, percentiles, throughput and errors from known samples."""
from __future__ import annotations

import numpy as np

from serving.bench.samples import Samples, merge
from serving.bench.stats import summarize


def _samples(latencies_ms, statuses=None, start=100.0, spacing=0.01):
    s = Samples.empty()
    for i, lat in enumerate(latencies_ms):
        t = start + i * spacing
        s.add(t, t, t + lat / 1e3, (statuses or ["OK"] * len(latencies_ms))[i])
    return s.freeze()


def test_percentiles_follow_numpy_over_ok_answers_in_the_window():
    rng = np.random.default_rng(3)
    lat = rng.exponential(5.0, 1000)
    statuses = ["OK"] * 1000
    statuses[10] = "UNAVAILABLE"
    result = summarize(_samples(lat, statuses), start=100.0, warmup_seconds=1.0, duration_seconds=9.0)
    window = np.array([x for i, x in enumerate(lat) if i >= 100 and statuses[i] == "OK"])
    assert result["ok"] == 900 and result["requests"] == 900 and result["warmup_requests"] == 100
    for key, q in (("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)):
        assert abs(result["latency_ms"][key] - np.percentile(window, q)) < 1e-6
    assert abs(result["latency_ms"]["max"] - window.max()) < 1e-6
    assert result["throughput_per_second"] == 100.0
    assert result["errors"] == {}  # the error was in the warmup


def test_errors_are_counted_by_status_and_excluded_from_latency():
    result = summarize(_samples([1.0, 2.0, 500.0, 3.0], ["OK", "OK", "DEADLINE_EXCEEDED", "HTTP_503"]),
                       start=100.0, warmup_seconds=0.0, duration_seconds=1.0)
    assert result["errors"] == {"DEADLINE_EXCEEDED": 1, "HTTP_503": 1}
    assert result["latency_ms"]["max"] < 3.0 + 1e-6
    assert result["sent_per_second"] == 4.0 and result["throughput_per_second"] == 2.0


def test_empty_window_has_no_percentiles():
    result = summarize(_samples([]), start=0.0, warmup_seconds=0.0, duration_seconds=1.0)
    assert result["latency_ms"]["p99"] is None and result["ok"] == 0


def test_merge_orders_by_scheduled_time():
    a, b = _samples([1.0, 1.0], start=0.0, spacing=0.2), _samples([2.0], start=0.1)
    merged = merge([a, b])
    assert merged.scheduled.tolist() == [0.0, 0.1, 0.2]
