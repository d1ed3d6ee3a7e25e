"""training.explain.evaluate: the completeness rule and the detection figures."""
from __future__ import annotations

import doctest

import numpy as np

import training.explain.evaluate as evaluate


def test_doctests() -> None:
    assert doctest.testmod(evaluate).failed == 0


def test_completeness_uses_the_floor_for_rows_at_the_baseline() -> None:
    holds = evaluate.completeness_holds(np.array([5.0, 1.0, 1.0]), np.array([1.0, 1.0, 1.0]),
                                        np.array([0.079, 0.0009, 0.0011]), 0.02, 0.05)
    assert holds.tolist() == [True, True, False]
    report = evaluate.completeness(np.array([5.0, 1.0]), np.array([1.0, 1.0]), np.array([0.1, 0.0]), 0.02, 0.05)
    assert report["holds"] is False and report["within_tolerance"] == 0.5 and report["max_relative_error"] == 0.025


def test_detection_counts_untrusted_rows() -> None:
    figures = evaluate.detection(lambda rows: rows[:, 0] < 5, np.array([[1.0], [2.0], [9.0], [0.0]]),
                                 {"far": np.array([[7.0], [8.0]]), "mixed": np.array([[1.0], [8.0]])})
    assert figures == {"false_alarm_rate": 0.25, "test_rows": 4,
                       "ood": {"far": {"rows": 2, "detection_rate": 1.0}, "mixed": {"rows": 2, "detection_rate": 0.5}}}
