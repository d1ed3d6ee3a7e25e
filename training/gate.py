"""The quality gate: a new version must not be worse than the store's latest on the same held-out data."""
from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

from serving.store.manifest import PrimaryMetric
from serving.store.repository import ModelRepository

from .models.base import Task, TaskData

__all__ = ["GateResult", "check_gate"]


@dataclasses.dataclass(frozen=True)
class GateResult:
    passed: bool
    reasons: list[str]
    #: The latest version's metrics on this run's held-out data (None when there is no latest).
    latest_version: int | None
    latest_metrics: dict[str, Any] | None


def _evaluate_version(repo: ModelRepository, version: int, task: Task, data: TaskData) -> dict[str, Any]:
    from .export import load_predict_fn

    with tempfile.TemporaryDirectory(prefix=f"plantserve-gate-{repo.model}-") as tmp:
        repo.fetch(version, Path(tmp))
        return task.evaluate(load_predict_fn(Path(tmp)), data)


def check_gate(task: Task, data: TaskData, metrics: dict[str, Any], repo: ModelRepository,
               latest: int | None, tolerance: float, threshold: float | None) -> GateResult:
    name, goal = task.primary_metric, task.goal
    value = float(metrics[name])
    bound = task.default_threshold if threshold is None else threshold
    reasons = []
    if goal == "min" and value > bound:
        reasons.append(f"{name} {value:.4f} is above the threshold {bound:.4f}")
    if goal == "max" and value < bound:
        reasons.append(f"{name} {value:.4f} is below the threshold {bound:.4f}")
    latest_metrics = None
    if latest is not None:
        latest_metrics = _evaluate_version(repo, latest, task, data)
        old = float(latest_metrics[name])
        if not PrimaryMetric(name, goal, value).better_or_equal(old, tolerance):
            reasons.append(f"{name} {value:.4f} is worse than version {latest}'s {old:.4f} on the same held-out data "
                           f"by more than the tolerance ({tolerance:.0%})")
    return GateResult(not reasons, reasons, latest, latest_metrics)
