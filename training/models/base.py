"""What the training pipeline needs from a model, and nothing more."""
from __future__ import annotations

import abc
import dataclasses
from typing import Any, Callable

import numpy as np

from serving.store.manifest import ExplainSpec

from ..settings import TrainSettings

__all__ = ["Task", "TaskData", "PredictFn", "TrustFit", "TRUST_QUANTILE"]

#: The serving signature as a function: {input name: array} -> {output name: array}.
PredictFn = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


@dataclasses.dataclass(frozen=True)
class TaskData:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    fingerprint: str
    #: Task-specific facts reported and recorded (class names, dropped rows, ...).
    info: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class TrustFit:
    """A fitted input-trust estimator: ``params`` go into the graph, the rest into the manifest."""

    method: str
    #: Distances above this flag a row as unlike the training data.
    threshold: float
    #: The quantile of the validation rows' distances the threshold was set at.
    quantile: float
    calibration_rows: int
    params: Any
    #: JSON-able facts recorded in the manifest (features, components, penalties, ...).
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


#: The quantile of validation distances a trust threshold is set at.
TRUST_QUANTILE = 0.995


class Task(abc.ABC):
    name: str
    #: The metric the quality gate compares, and whether lower ("min") or higher ("max") is better.
    primary_metric: str
    goal: str
    #: Absolute bound on the primary metric unless --gate-threshold overrides it.
    default_threshold: float
    default_epochs: int
    #: Bumped whenever the in-graph preprocessing or the layer layout changes meaning: weights
    #: of another graph version cannot warm-start this one even when their shapes match.
    graph_version: int

    @abc.abstractmethod
    def load_data(self, settings: TrainSettings) -> TaskData: ...

    @abc.abstractmethod
    def build(self, data: TaskData, adapt: bool) -> Any:
        """A fresh Keras model; ``adapt`` fits in-graph normalisation to ``data``."""

    @abc.abstractmethod
    def feature_layers(self, model: Any) -> list[Any]:
        """Layers frozen by the ``finetune`` strategy; the rest is the head."""

    @abc.abstractmethod
    def fit(self, model: Any, data: TaskData, epochs: int, verbose: bool) -> list[float]:
        """Train in place; returns the training loss of each epoch."""

    #: Interpolation steps of the ``explain`` signature unless --explain-steps overrides it.
    default_explain_steps: int

    @abc.abstractmethod
    def servable(self, model: Any, data: TaskData, trust: TrustFit | None = None,
                 explain_steps: int | None = None) -> tuple[Any, dict[str, Any]]:
        """(a tf.Module, its signatures) to export; keys are signature names.

        With ``trust`` the module also serves ``explain`` (and its variants) and ``trust``;
        without it, only the prediction signatures existing clients call."""

    @abc.abstractmethod
    def fit_trust(self, model: Any, data: TaskData) -> TrustFit:
        """Fit the distance-from-training estimator on the training split; calibrate on validation."""

    @abc.abstractmethod
    def explain_info(self, data: TaskData, explain_steps: int | None = None) -> ExplainSpec: ...

    @abc.abstractmethod
    def ood_sets(self, data: TaskData) -> dict[str, np.ndarray]:
        """Deliberately out-of-distribution inputs (rows like ``x_test``) that trust should flag."""

    @abc.abstractmethod
    def method_names(self) -> dict[str, str]:
        """Signature name -> TF Serving method name for non-predict signatures."""

    @abc.abstractmethod
    def request(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Rows of ``x`` as the inputs of ``serving_default``."""

    @abc.abstractmethod
    def evaluate(self, predict: PredictFn, data: TaskData) -> dict[str, Any]:
        """Metrics of ``predict`` on the held-out test split; includes ``primary_metric``."""

    @abc.abstractmethod
    def report(self, metrics: dict[str, Any]) -> str:
        """The evaluation table printed at the end of a run."""
