"""Samples CSV: every request, times relative to the start, phases split at the warmup."""
from __future__ import annotations

from pathlib import Path

from serving.bench.samples import Samples, read_csv, write_csv


def test_csv_rows_and_phases(tmp_path: Path):
    s = Samples.empty()
    s.add(10.5, 10.5, 10.502, "OK")
    s.add(11.5, 11.6, 11.7, "HTTP_503")
    path = tmp_path / "out" / "s.csv"
    write_csv(s.freeze(), start=10.0, warmup_end=11.0, path=path)
    rows = read_csv(path)
    assert [r["phase"] for r in rows] == ["warmup", "measured"]
    assert float(rows[0]["scheduled_s"]) == 0.5 and abs(float(rows[0]["latency_ms"]) - 2.0) < 1e-3
    assert abs(float(rows[1]["latency_ms"]) - 200.0) < 1e-3 and abs(float(rows[1]["service_ms"]) - 100.0) < 1e-3
    assert rows[1]["status"] == "HTTP_503" and not list(tmp_path.glob("out/*.tmp"))
