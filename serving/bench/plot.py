"""The bench PNG: the latency percentile curve (HdrHistogram style) and latency over time.

matplotlib is imported here only, with the Agg backend, so benches run headless.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from serving.bench.samples import FrozenSamples

__all__ = ["write_png"]


def write_png(samples: FrozenSamples, *, start: float, warmup_seconds: float, result: dict[str, Any],
              path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    window_start = start + warmup_seconds
    measured = samples.select(samples.scheduled >= window_start)
    ok = measured.status == "OK"
    latency = measured.latency_seconds * 1e3
    fig, (curve, timeline) = plt.subplots(2, 1, figsize=(9, 8))

    if ok.any():
        values = np.sort(latency[ok])
        quantile = (np.arange(values.size) + 0.5) / values.size
        curve.plot(1.0 / (1.0 - quantile), values, color="tab:blue")
        curve.set_xscale("log")
        ticks = [1, 2, 10, 100, 1000, 10000]
        curve.set_xticks(ticks, ["0%", "50%", "90%", "99%", "99.9%", "99.99%"])
        curve.set_xlim(1, max(10.0, values.size))
    curve.set_title(f"{result.get('name', 'bench')}: latency by percentile "
                    f"({result.get('mode')} loop, {result.get('protocol')}, {result['throughput_per_second']:.0f}/s)")
    curve.set_xlabel("percentile")
    curve.set_ylabel("latency (ms, from scheduled send)")
    curve.grid(True, which="both", alpha=0.3)

    t = measured.scheduled - start
    timeline.scatter(t[ok], latency[ok], s=2, color="tab:blue", label="OK")
    if (~ok).any():
        timeline.scatter(t[~ok], latency[~ok], s=6, color="tab:red", label="error")
    timeline.set_xlabel("scheduled time since start (s)")
    timeline.set_ylabel("latency (ms)")
    timeline.set_title("latency over time (measured window)")
    timeline.legend(loc="upper right")
    timeline.grid(True, alpha=0.3)

    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
