"""What the training pipeline needs from a model, and nothing more."""
from __future__ import annotations

import abc
import dataclasses
from typing import Any, Callable

import numpy as np

from ..settings import TrainSettings

__all__ = ["Task", "TaskData", "PredictFn"]

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

    @abc.abstractmethod
    def servable(self, model: Any, data: TaskData) -> tuple[Any, dict[str, Any]]:
        """(a tf.Module, its signatures) to export; keys are signature names."""

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
