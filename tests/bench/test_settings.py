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


def test_flags_and_env_come_from_one_declaration():
    import argparse

    from serving.bench.cli import add_arguments, settings_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["fuel", "--target", "h:1", "--no-plot", "--json", "in.json", "--out", "o"])
    s = settings_from_args(args, {"PLANTSERVE_BENCH_CONCURRENCY": "3"})
    assert (s.model, s.concurrency, s.plot, str(s.input_json), str(s.out_dir)) == ("fuel", 3, False, "in.json", "o")
    with pytest.raises(ValueError, match="PLANTSERVE_BENCH_MODE"):
        settings_from_args(parser.parse_args(["fuel", "--target", "h:1"]), {"PLANTSERVE_BENCH_MODE": "sideways"})
    with pytest.raises(ValueError, match="version/label"):
        settings_from_args(parser.parse_args(["fuel", "--target", "h:1", "--version", "1", "--label", "x"]), {})
