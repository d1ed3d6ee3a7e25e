"""Explanations and input trust from a model's ``explain`` and ``trust`` signatures, as typed results.

Both clients expose these as ``client.explain(model, inputs)`` and ``client.trust(model, inputs)``;
the functions here take any client with a ``predict`` method, so gRPC and REST answer alike.

- A model with named features (fuel) answers :class:`FeatureExplanation` rows: attributions by
  feature name, in the unit of the prediction (mpg), that add up to ``prediction - baseline``.
- An image model (defect) answers :class:`MapExplanation` rows: the attribution map of the
  predicted class (or of ``target_class``), the class probabilities and the class names.
- Every row carries :class:`Trust`: the input's distance from the training data, the threshold
  and whether it is within it.

>>> outputs = {"mpg": np.array([30.0], np.float32), "baseline_mpg": np.array([20.0], np.float32),
...            "attributions": np.array([[6.0, -1.0, 5.0]], np.float32),
...            "feature_names": np.array([[b"weight", b"origin", b"model_year"]], dtype=object),
...            "completeness_error": np.array([0.0], np.float32), "trust_distance": np.array([2.0], np.float32),
...            "trust_threshold": np.array([5.0], np.float32), "trusted": np.array([True])}
>>> row = parse_explanations(outputs)[0]
>>> row.top(2), row.trust.trusted
([('weight', 6.0), ('model_year', 5.0)], True)
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import numpy as np

from serving.client.errors import InvalidInput
from serving.client.inputs import Inputs

__all__ = ["Trust", "FeatureExplanation", "MapExplanation", "Explanations", "ExplainMethods", "explain", "trust",
           "parse_explanations", "parse_trust", "EXPLAIN_SIGNATURE", "EXPLAIN_CLASS_SIGNATURE", "TRUST_SIGNATURE"]

EXPLAIN_SIGNATURE = "explain"
#: The image models' variant that explains a requested class (extra input ``class_id``).
EXPLAIN_CLASS_SIGNATURE = "explain_class"
TRUST_SIGNATURE = "trust"


@dataclasses.dataclass(frozen=True)
class Trust:
    """How far the input is from the training data; ``trusted`` is ``distance <= threshold``."""

    distance: float
    threshold: float
    trusted: bool

    def __str__(self) -> str:
        return f"{self.distance:.3g} / {self.threshold:.3g} {'ok' if self.trusted else 'UNLIKE TRAINING DATA'}"


@dataclasses.dataclass(frozen=True)
class FeatureExplanation:
    prediction: float
    #: The prediction for the baseline input the attributions start from.
    baseline: float
    #: Feature name -> its share of ``prediction - baseline``, in the prediction's unit.
    attributions: dict[str, float]
    #: sum(attributions) - (prediction - baseline): how exact the attributions are.
    completeness_error: float
    trust: Trust

    def top(self, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` features with the largest absolute attribution, largest first, signed."""
        return sorted(self.attributions.items(), key=lambda kv: -abs(kv[1]))[:n]


@dataclasses.dataclass(frozen=True)
class MapExplanation:
    class_id: int
    class_name: str
    #: Class name -> probability.
    probabilities: dict[str, float]
    #: The class the map explains: the predicted one unless another was requested.
    explained_class: int
    explained_class_name: str
    explained_probability: float
    #: The explained class's probability for the baseline (a featureless input).
    baseline_probability: float
    #: [height, width, channels]; adds up to explained_probability - baseline_probability.
    attributions: np.ndarray
    completeness_error: float
    trust: Trust

    @property
    def probability(self) -> float:
        """The predicted class's probability."""
        return self.probabilities[self.class_name]


class Explanations(list):
    """One explanation per input row, plus ``version``: the version that answered (gRPC)."""

    def __init__(self, rows: list[Any], version: int | None = None) -> None:
        super().__init__(rows)
        self.version = version


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _trust_rows(outputs: Mapping[str, np.ndarray]) -> list[Trust]:
    missing = {"trust_distance", "trust_threshold", "trusted"} - set(outputs)
    if missing:
        raise InvalidInput(f"the answer has no trust outputs {sorted(missing)}: was the model exported "
                           "before trust existed? Retrain it with plantserve train")
    return [Trust(float(d), float(t), bool(ok)) for d, t, ok in
            zip(np.ravel(outputs["trust_distance"]), np.ravel(outputs["trust_threshold"]), np.ravel(outputs["trusted"]))]


def parse_trust(outputs: Mapping[str, np.ndarray]) -> list[Trust]:
    """The trust of each row of a ``trust`` (or ``explain``) answer."""
    return _trust_rows(outputs)


def parse_explanations(outputs: Mapping[str, np.ndarray], version: int | None = None) -> Explanations:
    """Typed rows from an ``explain`` answer (output name -> array)."""
    trust_rows = _trust_rows(outputs)
    if "feature_names" in outputs:
        prediction_name = next((k for k in outputs if f"baseline_{k}" in outputs), None)
        if prediction_name is None:
            raise InvalidInput(f"explain answer has no prediction/baseline pair among {sorted(outputs)}")
        names = np.asarray(outputs["feature_names"])
        rows = [FeatureExplanation(float(outputs[prediction_name][i]), float(outputs[f"baseline_{prediction_name}"][i]),
                                   {_text(n): float(a) for n, a in zip(names[i], outputs["attributions"][i])},
                                   float(outputs["completeness_error"][i]), trust_rows[i])
                for i in range(len(trust_rows))]
        return Explanations(rows, version)
    if "class_names" in outputs:
        rows = []
        for i in range(len(trust_rows)):
            names = [_text(n) for n in outputs["class_names"][i]]
            cid, explained = int(outputs["class_id"][i]), int(outputs["explained_class"][i])
            rows.append(MapExplanation(
                cid, names[cid], dict(zip(names, map(float, outputs["probabilities"][i]))), explained,
                names[explained], float(outputs["explained_probability"][i]),
                float(outputs["baseline_probability"][i]), np.asarray(outputs["attributions"][i]),
                float(outputs["completeness_error"][i]), trust_rows[i]))
        return Explanations(rows, version)
    raise InvalidInput(f"not an explain answer: outputs {sorted(outputs)}")


def _rows(inputs: Inputs) -> int:
    """The batch size of ``inputs`` (a bare array is one input)."""
    if isinstance(inputs, Mapping):
        first = next(iter(inputs.values()), None)
        return int(np.shape(first)[0]) if first is not None and np.ndim(first) else 1
    return int(np.shape(inputs)[0])


def explain(client: Any, model: str, inputs: Inputs, *, target_class: int | str | None = None,
            version: int | None = None, label: str | None = None, timeout: float | None = None) -> Explanations:
    """Call ``explain`` (or ``explain_class`` with ``target_class``, an index or a class name)."""
    where = {"version": version, "label": label, "timeout": timeout}
    if target_class is None:
        outputs = client.predict(model, inputs, signature=EXPLAIN_SIGNATURE, **where)
        return parse_explanations(outputs, outputs.version)
    if isinstance(target_class, str):
        target_class = _class_index(client, model, inputs, target_class, where)
    named = dict(inputs) if isinstance(inputs, Mapping) else {"image": inputs}
    named["class_id"] = np.full(_rows(inputs), int(target_class), np.int64)
    outputs = client.predict(model, named, signature=EXPLAIN_CLASS_SIGNATURE, **where)
    return parse_explanations(outputs, outputs.version)


def _class_index(client: Any, model: str, inputs: Inputs, name: str, where: dict[str, Any]) -> int:
    """A class name's index, read from the model's own ``class_names`` (one explain of the first row)."""
    first = ({k: np.asarray(v)[:1] for k, v in inputs.items()} if isinstance(inputs, Mapping)
             else np.asarray(inputs)[:1])
    names = [_text(n) for n in client.predict(model, first, signature=EXPLAIN_SIGNATURE,
                                              output_filter=["class_names"], **where)["class_names"][0]]
    if name not in names:
        raise InvalidInput(f"model {model!r} has no class {name!r}; its classes are {names}")
    return names.index(name)


def trust(client: Any, model: str, inputs: Inputs, *, version: int | None = None, label: str | None = None,
          timeout: float | None = None) -> list[Trust]:
    """Call ``trust``: the distance of each row from the training data (as cheap as a predict)."""
    outputs = client.predict(model, inputs, signature=TRUST_SIGNATURE, version=version, label=label, timeout=timeout)
    return parse_trust(outputs)


class ExplainMethods:
    """``explain`` and ``trust`` for any client with ``predict`` and ``metadata`` (gRPC and REST alike)."""

    def explain(self, model: str, inputs: Any, *, target_class: int | str | None = None,
                version: int | None = None, label: str | None = None, timeout: float | None = None) -> Explanations:
        """The model's ``explain`` signature as typed rows: attributions by feature, or the map of the
        predicted class (``target_class``: another class, by index or name), plus trust."""
        return explain(self, model, inputs, target_class=target_class, version=version, label=label, timeout=timeout)

    def trust(self, model: str, inputs: Any, *, version: int | None = None, label: str | None = None,
              timeout: float | None = None) -> list[Trust]:
        """The model's ``trust`` signature: each row's distance from the training data and the verdict."""
        return trust(self, model, inputs, version=version, label=label, timeout=timeout)
