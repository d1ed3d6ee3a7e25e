"""Splitting load across worker processes."""
from __future__ import annotations

from serving.bench.worker_plan import split


def _plans(**kw):
    base = dict(protocol="grpc", mode="closed", target="127.0.0.1:1", payload=b"", workers=3, slots=8, rate=0.0,
                start=0.0, total_seconds=1.0, timeout_seconds=1.0)
    return split(**{**base, **kw})


def test_slots_are_shared_without_loss():
    assert [p.slots for p in _plans()] == [3, 3, 2]


def test_open_loop_rate_is_shared_and_phases_interleave():
    plans = _plans(mode="open", rate=300.0, workers=3)
    assert sum(p.rate for p in plans) == 300.0
    merged = sorted(p.offset + k / p.rate for p in plans for k in range(10))
    gaps = [b - a for a, b in zip(merged, merged[1:])]
    assert max(gaps) - min(gaps) < 1e-9  # an even 1/300 s schedule


def test_rest_target_host_and_port():
    plan = _plans(protocol="rest", target="http://127.0.0.1:8501")[0]
    assert (plan.host, plan.port) == ("127.0.0.1", 8501)
