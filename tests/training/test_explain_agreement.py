"""Issue 14: the served attributions agree with an independent implementation, shap's
``GradientExplainer``, computed outside the serving path on the same Keras model.

With one background row (the baseline) GradientExplainer's expected gradients are integrated
gradients estimated by Monte Carlo: random points on the same straight path, gradients, times
(input - baseline). The bounds: Spearman rank correlation >= 0.9 per fuel row; Pearson
correlation >= 0.8 per defect map.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.training.models import rebuild

FUEL_ROWS = 24
DEFECT_IMAGES = 12
SAMPLES = 1000  # shap's path points per row; its estimate's noise shrinks as 1/sqrt(SAMPLES)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def _served(model_store: Path, model: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    import tensorflow as tf

    sig = tf.saved_model.load(str(model_store / model / "1")).signatures["explain"]
    return {k: v.numpy() for k, v in sig(**{k: tf.constant(v) for k, v in inputs.items()}).items()}


def test_fuel_attributions_rank_like_shap(model_store: Path) -> None:
    import keras
    import shap
    import tensorflow as tf

    from training.models.fuel import encode

    task, data, fuel = rebuild(model_store, "fuel")
    rows = data.x_test[:FUEL_ROWS]
    served = _served(model_store, "fuel", task.request(rows))

    class Encode(keras.layers.Layer):  # imputed numeric features + origin one-hot -> the network's input
        def call(self, x):
            return encode(tf, x[:, :6], x[:, 6:])

    inputs = keras.Input(shape=(9,))
    wrapper = keras.Model(inputs, fuel(Encode()(inputs)))

    def as_path_space(x: np.ndarray) -> np.ndarray:
        x = np.where(np.isnan(x), data.info["medians"], x)
        one_hot = np.eye(3, dtype=np.float32)[np.round(x[:, 6]).astype(int) - 1]
        return np.concatenate([x[:, :6], one_hot], axis=1).astype(np.float32)

    baseline = as_path_space(data.info["medians"][None, :])
    values = np.asarray(shap.GradientExplainer(wrapper, baseline).shap_values(as_path_space(rows), nsamples=SAMPLES,
                                                                               rseed=0)).reshape(len(rows), 9)
    theirs = np.concatenate([values[:, :6], values[:, 6:].sum(1, keepdims=True)], axis=1)
    ours = served["attributions"]
    correlations = [_spearman(ours[i], theirs[i]) for i in range(len(rows))]
    print(f"fuel: Spearman per row min {min(correlations):.3f} median {np.median(correlations):.3f}; "
          f"largest attribution gap {np.abs(ours - theirs).max():.3f} mpg")
    assert min(correlations) >= 0.9, correlations
    assert np.median(np.abs(ours - theirs)) < 0.1  # similar in mpg too, up to shap's sampling noise


def test_defect_maps_correlate_with_shap(model_store: Path) -> None:
    import keras
    import shap

    task, data, defect = rebuild(model_store, "defect")
    images = data.x_test[:DEFECT_IMAGES]
    served = _served(model_store, "defect", task.request(images))
    standardize = defect.get_layer("standardize")
    z_in = keras.Input(shape=(28, 28, 1))
    h = z_in
    for layer in defect.layers[defect.layers.index(standardize) + 1:]:
        h = layer(h)
    after_standardize = keras.Model(z_in, h)  # the network on the space the map is computed in
    z = np.asarray(standardize(images))
    values, ranked = shap.GradientExplainer(after_standardize, np.zeros((1, 28, 28, 1), np.float32)).shap_values(
        z, nsamples=SAMPLES, ranked_outputs=1, output_rank_order="max", rseed=0)
    assert np.asarray(ranked)[:, 0].tolist() == served["explained_class"].tolist()
    theirs = np.asarray(values).reshape(len(images), -1)
    ours = served["attributions"].reshape(len(images), -1)
    correlations = [float(np.corrcoef(ours[i], theirs[i])[0, 1]) for i in range(len(images))]
    print(f"defect: Pearson per image min {min(correlations):.3f} median {np.median(correlations):.3f}")
    assert min(correlations) >= 0.8, correlations

