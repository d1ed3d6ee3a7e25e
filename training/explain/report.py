"""Run the exported ``explain`` and ``trust`` signatures over the held-out data at training time,
and say what was measured: completeness on the test split, false alarms on it, detection on
the out-of-distribution sets.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from serving.store.manifest import ExplainSpec

from ..models.base import PredictFn, Task, TaskData, TrustFit
from .evaluate import completeness, detection

__all__ = ["run_chunked", "evaluate_explain", "evaluate_trust", "numeric_outputs", "report", "CHUNK_ROWS"]

#: Rows per call when running a signature over a whole split.
CHUNK_ROWS = 64


def run_chunked(fn: PredictFn, inputs: dict[str, np.ndarray], chunk: int = CHUNK_ROWS) -> dict[str, np.ndarray]:
    rows = len(next(iter(inputs.values())))
    parts = [fn({k: v[i:i + chunk] for k, v in inputs.items()}) for i in range(0, rows, chunk)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def evaluate_explain(task: Task, info: ExplainSpec, explain: PredictFn, data: TaskData) -> dict[str, Any]:
    out = run_chunked(explain, task.request(data.x_test))
    return completeness(out[info.prediction_output], out[info.baseline_output], out[info.completeness_output],
                        info.completeness_tolerance, info.completeness_floor)


def evaluate_trust(task: Task, trust: PredictFn, data: TaskData) -> dict[str, Any]:
    def trusted(rows: np.ndarray) -> np.ndarray:
        return run_chunked(trust, task.request(rows))["trusted"]

    return detection(trusted, data.x_test, task.ood_sets(data))


def numeric_outputs(outputs: dict[str, np.ndarray]) -> dict[str, Any]:
    """Outputs a golden replay compares with rtol/atol (strings are left out)."""
    return {k: np.asarray(v).tolist() for k, v in outputs.items() if np.asarray(v).dtype.kind in "fiub"}


def report(model: str, info: ExplainSpec, completeness_figures: dict[str, Any], fit: TrustFit,
           trust_figures: dict[str, Any]) -> str:
    c = completeness_figures
    lines = [
        f"{model}: explanations ({info.method}, {info.steps} steps) on {c['rows']} test rows",
        f"  completeness error / max(|{info.prediction_output} - {info.baseline_output}|, {info.completeness_floor:g}): "
        f"median {c['median_relative_error']:.3%}, p99 {c['p99_relative_error']:.3%}, "
        f"max {c['max_relative_error']:.3%}  ({c['within_tolerance']:.1%} of rows within {info.completeness_tolerance:.0%})",
        f"{model}: input trust ({fit.method}), threshold {fit.threshold:.4g} "
        f"(the {fit.quantile:.1%} quantile of {fit.calibration_rows} validation rows)",
        f"  false alarms on the test split: {trust_figures['false_alarm_rate']:.1%} of {trust_figures['test_rows']}",
    ]
    for name, figures in trust_figures["ood"].items():
        lines.append(f"  detected {name:<15} {figures['detection_rate']:>7.1%} of {figures['rows']}")
    if not c["holds"]:
        lines.append(f"  WARNING: completeness is above {info.completeness_tolerance:.0%} on {1 - c['within_tolerance']:.1%} of test rows: "
                     "raise --explain-steps")
    return "\n".join(lines)
