"""The demo's explanation step: why two real cars get their mpg and where the network sees the
defect on two inspection images, then one broken-sensor reading that trust flags.

Everything goes through ``PredictClient.explain`` and ``.trust`` (gRPC, label ``stable``), so the
step shows what a plant system gets from the ``explain`` and ``trust`` signatures.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from serving.client.errors import ClientError
from serving.client.overlay import write_png

from .predictions import Cars
from .show import table

__all__ = ["explain_step", "INSPECTION_LABELS"]

#: The two inspection images explained.
INSPECTION_LABELS = ("scratch", "inclusion")
TOP_FEATURES = 3


def explain_step(client: Any, cars: Cars, out_dir: Path, say: Callable[[str], None], seed: int = 7) -> list[Path]:
    """Explain two cars and two images, flag one bad reading; returns the overlay PNG paths.

    A version exported before explanations existed answers FAILED_PRECONDITION (no such
    signature): the step says so and what to do, and the demo goes on."""
    try:
        return _explain(client, cars, out_dir, say, seed)
    except ClientError as exc:
        if exc.code != "FAILED_PRECONDITION":
            raise
        say(f"  the served versions have no explain signature ({exc}): retrain them with "
            "`plantserve train MODEL --store STORE` to get explanations")
        return []


def _explain(client: Any, cars: Cars, out_dir: Path, say: Callable[[str], None], seed: int) -> list[Path]:
    from training.data.defects import render

    two = {k: v[:2] for k, v in cars.inputs.items()}
    rows = client.explain("fuel", two)
    lines = [[name, float(true), round(row.prediction, 1), round(row.baseline, 1),
              ", ".join(f"{f} {v:+.2f}" for f, v in row.top(TOP_FEATURES)), str(row.trust)]
             for name, true, row in zip(cars.names, cars.true_mpg, rows)]
    say("  fuel: integrated gradients from the training medians, in mpg (they add up to mpg - baseline)\n"
        + table(["car", "true mpg", "mpg", "baseline", f"top {TOP_FEATURES} contributions (mpg)",
                 "trust (distance / threshold)"], lines))

    rng = np.random.default_rng(seed)
    images = np.stack([render(rng, label) for label in INSPECTION_LABELS])[..., None]
    out_dir.mkdir(parents=True, exist_ok=True)
    explained = client.explain("defect", images)
    paths, lines = [], []
    for label, image, row in zip(INSPECTION_LABELS, images, explained):
        title = f"{row.class_name} p={row.probability:.2f}\ntrust {row.trust}"
        paths.append(write_png(out_dir / f"{label}.explain.png", image, row.attributions, title))
        lines.append([label, row.class_name, f"{row.probability:.3f}", f"{row.completeness_error:+.4f}",
                      str(row.trust), str(paths[-1])])
    say("\n  defect: where the network sees the defect (red raises the class's probability, blue lowers it)\n"
        + table(["image", "class", "p", "completeness error", "trust (distance / threshold)", "overlay PNG"],
                lines))

    broken = cars.row(0)
    broken["weight"] = np.zeros(1, np.float32)
    verdict = client.trust("fuel", broken)[0]
    noise = np.random.default_rng(seed).random((1, 28, 28, 1), dtype=np.float32)
    image_verdict = client.trust("defect", noise)[0]
    say(f"\n  out of distribution: {cars.names[0]!r} with its weight sensor stuck at 0: trust {verdict}"
        f"\n  out of distribution: a frame of sensor noise: trust {image_verdict}")
    return paths
