"""fuel's ``explain`` and ``trust`` signatures.

``explain`` (inputs: the seven features of ``serving_default``) answers, per row:

- ``mpg``: the prediction; ``baseline_mpg``: the prediction for the training medians (the
  same values the graph imputes for a missing feature);
- ``attributions`` [n, 7]: integrated gradients in mpg, one per raw feature in the order of
  ``feature_names`` (also recorded in the manifest). Numeric features move in their raw units
  along the path; ``origin`` moves between the two one-hot codes, so a car's origin gets the
  share of the prediction its code accounts for. They add up to ``mpg - baseline_mpg``;
- ``completeness_error``: ``sum(attributions) - (mpg - baseline_mpg)``, the quadrature error;
- ``trust_distance``, ``trust_threshold``, ``trusted``: as ``trust``.

``trust`` answers ``mpg`` plus the trust outputs: a robust (minimum covariance determinant)
Mahalanobis distance of the standardised numeric features (displacement, horsepower and weight
log-scaled, as the network sees them) from the training rows; an ``origin`` code other than
1, 2 or 3 adds :data:`INVALID_ORIGIN_PENALTY`. Missing values count as imputed.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..data.fuel import FEATURES
from ..explain.integrate import integrated_gradients
from ..explain.trust import Gaussian, calibrate
from serving.store.manifest import ExplainSpec

from .base import TRUST_QUANTILE, TaskData, TrustFit

__all__ = ["add_explain", "fit_trust", "explain_info", "trust_features", "INVALID_ORIGIN_PENALTY", "PATH_POWER",
           "COMPLETENESS_FLOOR_MPG"]

#: Added to the distance of a row whose origin is not a known code: such a row is always flagged.
INVALID_ORIGIN_PENALTY = 1000.0
#: Uniform midpoint nodes: the medians baseline is an ordinary car, not a featureless input.
PATH_POWER = 1.0
#: Completeness is judged against max(|mpg - baseline_mpg|, this).
COMPLETENESS_FLOOR_MPG = 0.05


@dataclasses.dataclass(frozen=True)
class FuelTrust:
    mean: np.ndarray   # [6] standardisation of the trust features (training rows)
    scale: np.ndarray  # [6]
    gaussian: Gaussian


def trust_features(tf: Any, x: Any) -> Any:
    """[n, 7] imputed raw rows -> [n, 6]: cylinders, log displacement, log horsepower, log weight,
    acceleration, model year (unstandardised)."""
    return tf.concat([x[:, :1], tf.math.log(tf.maximum(x[:, 1:4], 1.0)), x[:, 4:6]], axis=1)


def _impute(tf: Any, x: Any, medians: Any) -> Any:
    return tf.where(tf.math.is_nan(x), medians[None, :], x)


def _one_hot(tf: Any, x: Any) -> Any:
    return tf.one_hot(tf.cast(tf.round(x[:, 6]), tf.int32) - 1, 3)


def _distance(tf: Any, x: Any, params: FuelTrust) -> Any:
    z = (trust_features(tf, x) - tf.constant(params.mean)[None, :]) / tf.constant(params.scale)[None, :]
    invalid = 1.0 - tf.reduce_sum(_one_hot(tf, x), axis=1)
    return params.gaussian.graph_distances(tf, z) + INVALID_ORIGIN_PENALTY * invalid


def fit_trust(data: TaskData) -> TrustFit:
    import tensorflow as tf

    medians = tf.constant(data.info["medians"])
    train = trust_features(tf, _impute(tf, tf.constant(data.x_train), medians)).numpy()
    mean, scale = train.mean(0), np.maximum(train.std(0), 1e-6)
    params = FuelTrust(mean.astype(np.float32), scale.astype(np.float32),
                       Gaussian.fit((train - mean) / scale, robust=True))
    val = _distance(tf, _impute(tf, tf.constant(data.x_val), medians), params).numpy()
    return TrustFit("robust_mahalanobis", calibrate(val, TRUST_QUANTILE), TRUST_QUANTILE, len(val), params, {
        "features": ["cylinders", "log(displacement)", "log(horsepower)", "log(weight)", "acceleration",
                     "model_year"],
        "standardised_with": "training rows' mean and standard deviation",
        "covariance": "minimum covariance determinant (scikit-learn MinCovDet) of the training rows",
        "invalid_origin_penalty": INVALID_ORIGIN_PENALTY,
        "missing_values": "imputed with the training medians before the distance",
    })


def explain_info(medians: np.ndarray, steps: int) -> ExplainSpec:
    return ExplainSpec(
        signature_name="explain", method="integrated_gradients", steps=steps, path={"rule": "midpoint", "power": PATH_POWER},
        baseline={"kind": "training_medians", "values": {f: float(v) for f, v in zip(FEATURES, medians)}},
        features=list(FEATURES), prediction_output="mpg", baseline_output="baseline_mpg",
        completeness_floor=COMPLETENESS_FLOOR_MPG)


def add_explain(module: Any, model: Any, medians_array: np.ndarray, trust: TrustFit,
                steps: int) -> dict[str, Any]:
    """Attach ``explain`` and ``trust`` to ``module``; returns them by signature name."""
    import tensorflow as tf

    from .fuel import encode

    medians = tf.constant(medians_array)
    params: FuelTrust = trust.params

    def mpg(numeric, one_hot):
        return tf.reshape(model(encode(tf, numeric, one_hot)), [-1])

    def trust_outputs(x):
        distance = _distance(tf, x, params)
        threshold = tf.fill(tf.shape(distance), tf.constant(trust.threshold, tf.float32))
        return {"trust_distance": distance, "trust_threshold": threshold, "trusted": distance <= threshold}

    specs = [tf.TensorSpec([None], tf.float32, name=f) for f in FEATURES]

    @tf.function(input_signature=specs)
    def explain(cylinders, displacement, horsepower, weight, acceleration, model_year, origin):
        x = _impute(tf, tf.stack([cylinders, displacement, horsepower, weight, acceleration, model_year, origin], 1),
                    medians)
        base = tf.broadcast_to(medians[None, :], tf.shape(x))
        (numeric, origin_codes), prediction, baseline = integrated_gradients(
            tf, mpg, [x[:, :6], _one_hot(tf, x)], [base[:, :6], _one_hot(tf, base)], steps, PATH_POWER)
        attributions = tf.concat([numeric, tf.reduce_sum(origin_codes, axis=1, keepdims=True)], axis=1)
        names = tf.tile(tf.constant(list(FEATURES))[None, :], [tf.shape(x)[0], 1])
        return {"mpg": prediction, "baseline_mpg": baseline, "attributions": attributions, "feature_names": names,
                "completeness_error": tf.reduce_sum(attributions, axis=1) - (prediction - baseline),
                **trust_outputs(x)}

    @tf.function(input_signature=specs)
    def trust_signature(cylinders, displacement, horsepower, weight, acceleration, model_year, origin):
        raw = tf.stack([cylinders, displacement, horsepower, weight, acceleration, model_year, origin], 1)
        return {"mpg": module._mpg(raw), **trust_outputs(_impute(tf, raw, medians))}

    module.explain = explain
    module.trust = trust_signature
    return {"explain": explain, "trust": trust_signature}
