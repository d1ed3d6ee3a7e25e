"""The bench PNG is written atomically, with or without errors in the window."""
from __future__ import annotations

from pathlib import Path

from serving.bench.plot import write_png
from serving.bench.samples import Samples
from serving.bench.stats import summarize


def test_png_is_written(tmp_path: Path):
    s = Samples.empty()
    for i in range(500):
        t = i / 100
        s.add(t, t, t + 0.001 * (1 + i % 7), "OK" if i % 50 else "UNAVAILABLE")
    frozen = s.freeze()
    result = {"name": "t", "mode": "open", "protocol": "grpc",
              **summarize(frozen, start=0.0, warmup_seconds=1.0, duration_seconds=4.0)}
    path = tmp_path / "t.png"
    write_png(frozen, start=0.0, warmup_seconds=1.0, result=result, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["t.png"]
