"""Figures recorded in the manifest: completeness of the explanations on the test split, and
the worth of input trust (false alarms on the test split, detection on out-of-distribution sets).

Example::

    >>> r = completeness(np.array([10.0, 2.0]), np.array([0.0, 0.0]), np.array([0.1, 0.01]), 0.02, 0.05)
    >>> r["max_relative_error"], r["within_tolerance"], r["holds"]
    (0.01, 1.0, True)
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

__all__ = ["completeness", "completeness_holds", "detection"]


def completeness_holds(prediction: np.ndarray, baseline: np.ndarray, error: np.ndarray, tolerance: float,
                       floor: float) -> np.ndarray:
    """Per row: |error| <= tolerance * max(|prediction - baseline|, floor)."""
    scale = np.maximum(np.abs(np.asarray(prediction, np.float64) - np.asarray(baseline, np.float64)), floor)
    return np.abs(np.asarray(error, np.float64)) <= tolerance * scale


def completeness(prediction: np.ndarray, baseline: np.ndarray, error: np.ndarray, tolerance: float,
                 floor: float) -> dict[str, float | int | bool]:
    delta = np.abs(np.asarray(prediction, np.float64) - np.asarray(baseline, np.float64))
    relative = np.abs(np.asarray(error, np.float64)) / np.maximum(delta, floor)
    ok = completeness_holds(prediction, baseline, error, tolerance, floor)
    return {
        "rows": int(relative.size),
        "tolerance": tolerance,
        "floor": floor,
        "median_relative_error": float(np.median(relative)),
        "p99_relative_error": float(np.quantile(relative, 0.99)),
        "max_relative_error": float(relative.max()),
        "max_abs_error": float(np.abs(error).max()),
        "within_tolerance": float(ok.mean()),
        "holds": bool(ok.all()),
    }


def detection(trusted: Callable[[np.ndarray], np.ndarray], test: np.ndarray,
              ood: Mapping[str, np.ndarray]) -> dict[str, object]:
    """``trusted(rows)`` -> bool per row. False alarms: untrusted test rows; detection: untrusted OOD rows."""
    flagged_test = ~np.asarray(trusted(test), bool)
    sets = {}
    for name, rows in ood.items():
        flagged = ~np.asarray(trusted(rows), bool)
        sets[name] = {"rows": int(flagged.size), "detection_rate": float(flagged.mean())}
    return {"false_alarm_rate": float(flagged_test.mean()), "test_rows": int(flagged_test.size), "ood": sets}
