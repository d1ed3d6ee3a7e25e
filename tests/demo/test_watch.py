"""serving.demo.watch: rollout steps from /status snapshots, in order, each once."""
from __future__ import annotations

import io

import pytest

from serving.demo.watch import RolloutFailed, RolloutWatch, follow


def test_steps_print_in_order_once_even_when_polls_miss_some() -> None:
    w = RolloutWatch("fuel", after=1)
    lines = [*w.update({"candidate": None, "last_rollout": None}, 0.1),
             *w.update({"candidate": {"version": 2, "step": "download"}}, 0.2),
             *w.update({"candidate": {"version": 2, "step": "golden"}}, 0.3),
             *w.update({"candidate": {"version": 2, "step": "golden"}}, 0.4)]
    assert [line.split("s  ", 1)[1].split()[0] for line in lines] == ["sidecar", "downloaded", "verified", "loaded"]
    done = {"candidate": None, "labels": {"stable": 2, "previous": 1},
            "last_rollout": {"version": 2, "result": "promoted",
                             "steps_seconds": {"download": 0.01, "verify": 0, "load": 0.1, "golden": 0.01,
                                               "latency_probe": 0.3, "promote": 0.1}}}
    more = list(w.update(done, 0.9))
    assert [m.split("s  ", 1)[1].split()[0] for m in more[:-1]] == ["golden", "latency", "promoted"]
    assert more[-1].startswith("  sidecar's step timings: download 0.01s, verify 0.00s")
    assert list(w.update(done, 1.0)) == [] and w.outcome(done) == "promoted"


def test_a_rejection_raises_with_the_reason() -> None:
    status = {"models": {"fuel": {"candidate": None, "labels": {"stable": 1},
                                  "last_rollout": {"version": 2, "result": "rejected", "steps_seconds": {}},
                                  "bad": {"2": {"reason": "golden", "detail": "outputs differ"}}}}}
    with pytest.raises(RolloutFailed, match="rejected at golden: outputs differ"):
        follow(RolloutWatch("fuel", after=1), lambda: status, io.StringIO(), timeout_seconds=5)
