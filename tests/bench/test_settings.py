"""BenchSettings validation and derived values."""
from __future__ import annotations

import pytest

from serving.bench.settings import BenchSettings


def test_open_loop_needs_a_rate():
    with pytest.raises(ValueError, match="rate"):
        BenchSettings(target="localhost:8500", model="fuel", mode="open")


def test_protocol_follows_the_target_and_workers_are_capped_by_slots():
    assert BenchSettings(target="http://h:8501", model="m").protocol == "rest"
    grpc = BenchSettings(target="dns:///h:8500", model="m", concurrency=1)
    assert grpc.protocol == "grpc" and grpc.effective_workers == 1


def test_version_and_label_are_exclusive():
    with pytest.raises(ValueError, match="version/label"):
        BenchSettings(target="h:1", model="m", version=1, label="stable")
