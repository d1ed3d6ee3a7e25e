"""defect's ``explain``, ``explain_class`` and ``trust`` signatures.

**The map.** The network first standardises each image, ``z = (x - mean) / std``, so it cannot
tell an image from a brighter or higher-contrast copy. Integrated gradients therefore runs in
``z``, from the baseline ``z = 0``: the featureless surface every uniform image maps to, which
the network scores close to 1/K for every class. For a given image ``z`` is a per-pixel affine
function of ``x``, so an attribution of ``z_i`` is the attribution of pixel ``i``: its departure
from the image's mean brightness, weighted by how much the class probability relies on it. The
map adds up to ``p(class | image) - p(class | featureless)``. The path nodes are ``a = t²``
(midpoint in ``t``): most ReLU units switch close to the featureless end.

``explain`` (input ``image`` [n, 28, 28, 1]) explains the predicted class; ``explain_class``
takes ``class_id`` [n] int64 as well and explains that class. Both answer ``class_id`` and
``probabilities`` (as ``serving_default``), ``class_names`` [n, K], ``explained_class``,
``explained_probability``, ``baseline_probability``, ``attributions`` [n, 28, 28, 1],
``completeness_error`` and the trust outputs. Each image's steps run as one batch; images run
one after another, so a large request cannot claim steps × n images of memory at once.

**Trust** is the larger of two distances, each divided by its own 99.5th percentile on the
validation images: the Mahalanobis distance of the penultimate embedding (``dense_64``) to the
nearest class centroid under one shared covariance, and the Mahalanobis distance of four image
statistics the standardisation hides from the network (brightness, log contrast, log roughness,
clipped fraction): to the network a blank frame, a saturated one and a grey card all look alike.
The threshold is the 99.5th percentile of that combined score on validation.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..explain.integrate import integrated_gradients
from ..explain.trust import ClassGaussians, Gaussian, calibrate
from serving.store.manifest import ExplainSpec

from .base import TRUST_QUANTILE, TaskData, TrustFit

__all__ = ["add_explain", "fit_trust", "explain_info", "image_statistics", "PATH_POWER", "COMPLETENESS_FLOOR"]

PATH_POWER = 2.0
#: Completeness is judged against max(|p - p_baseline|, this).
COMPLETENESS_FLOOR = 0.01
#: Images per eager batch when embedding the training split.
_FIT_BATCH = 500
#: Images whose steps run concurrently in one explain call.
_PARALLEL_IMAGES = 2


@dataclasses.dataclass(frozen=True)
class DefectTrust:
    embedding: ClassGaussians
    embedding_scale: float  # the embedding distance's validation quantile
    image: Gaussian
    image_scale: float


def image_statistics(tf: Any, x: Any) -> Any:
    """[n, h, w, c] in [0, 1] -> [n, 4]: brightness, log contrast, log roughness, clipped fraction."""
    axes = [1, 2, 3]
    mean = tf.reduce_mean(x, axis=axes)
    std = tf.math.reduce_std(x, axis=axes)
    rough = (tf.reduce_mean(tf.abs(x[:, 1:] - x[:, :-1]), axis=axes)
             + tf.reduce_mean(tf.abs(x[:, :, 1:] - x[:, :, :-1]), axis=axes)) / 2
    clipped = tf.reduce_mean(tf.cast((x <= 0.0) | (x >= 1.0), tf.float32), axis=axes)
    return tf.stack([mean, tf.math.log(std + 1e-3), tf.math.log(rough + 1e-3), clipped], axis=1)


class _Parts:
    """The model split where the explanation and the trust need it."""

    def __init__(self, model: Any) -> None:
        self.standardize = model.get_layer("standardize")
        self.head = model.get_layer("probabilities")
        layers = list(model.layers)
        self.body = layers[layers.index(self.standardize) + 1:layers.index(self.head)]

    def embed(self, z: Any) -> Any:
        for layer in self.body:
            z = layer(z)
        return z

    def probabilities(self, z: Any) -> Any:
        return self.head(self.embed(z))


def _distance(tf: Any, image: Any, embedding: Any, params: DefectTrust) -> Any:
    d_embedding = params.embedding.graph_distances(tf, embedding) / params.embedding_scale
    d_image = params.image.graph_distances(tf, image_statistics(tf, image)) / params.image_scale
    return tf.maximum(d_embedding, d_image)


def fit_trust(model: Any, data: TaskData) -> TrustFit:
    import tensorflow as tf

    parts = _Parts(model)

    def embed(x: np.ndarray) -> np.ndarray:
        return np.concatenate([parts.embed(parts.standardize(tf.constant(x[i:i + _FIT_BATCH]))).numpy()
                               for i in range(0, len(x), _FIT_BATCH)])

    def stats(x: np.ndarray) -> np.ndarray:
        return image_statistics(tf, tf.constant(x)).numpy()

    embedding = ClassGaussians.fit(embed(data.x_train), data.y_train)
    image = Gaussian.fit(stats(data.x_train), robust=False)
    val_embedding, val_image = embedding.distances(embed(data.x_val)), image.distances(stats(data.x_val))
    params = DefectTrust(embedding, calibrate(val_embedding, TRUST_QUANTILE), image,
                         calibrate(val_image, TRUST_QUANTILE))
    combined = np.maximum(val_embedding / params.embedding_scale, val_image / params.image_scale)
    return TrustFit("max(embedding_class_mahalanobis, image_statistics_mahalanobis)",
                    calibrate(combined, TRUST_QUANTILE), TRUST_QUANTILE, len(combined), params, {
                        "embedding": {"layer": "dense_64", "distance": "Mahalanobis to the nearest class centroid, "
                                      "covariance shared by the classes", "scale": params.embedding_scale},
                        "image_statistics": {"features": ["brightness", "log contrast", "log roughness",
                                                          "clipped fraction"], "scale": params.image_scale},
                        "combined": "max of the two distances, each divided by its scale "
                                    f"(its {TRUST_QUANTILE:.1%} quantile on validation)",
                    })


def explain_info(steps: int) -> ExplainSpec:
    return ExplainSpec(
        signature_name="explain", method="integrated_gradients", steps=steps, path={"rule": "midpoint", "power": PATH_POWER},
        baseline={"kind": "featureless_surface", "space": "per-image standardised pixels",
                  "description": "z = 0: what any uniform image becomes after the network's standardisation"},
        features=["image"], prediction_output="explained_probability", baseline_output="baseline_probability",
        completeness_floor=COMPLETENESS_FLOOR,
        variants={"explain_class": "takes class_id [n] int64 too and explains that class instead of the predicted"})


def add_explain(module: Any, model: Any, classes: list[str], trust: TrustFit, steps: int) -> dict[str, Any]:
    """Attach ``explain``, ``explain_class`` and ``trust`` to ``module``; returns them by signature name."""
    import tensorflow as tf

    parts = _Parts(model)
    params: DefectTrust = trust.params
    k = len(classes)

    def one_image(args):
        z, target = args  # [28, 28, 1], scalar
        z = z[None]
        rows = tf.fill([steps + 2], target)

        def probability(batch):
            return tf.gather(parts.probabilities(batch), rows, batch_dims=1)

        (attributions,), explained, baseline = integrated_gradients(tf, probability, [z], [tf.zeros_like(z)], steps,
                                                                    PATH_POWER)
        return attributions[0], explained[0], baseline[0]

    def answer(image, target=None):
        z = parts.standardize(image)
        embedding = parts.embed(z)
        probabilities = parts.head(embedding)
        predicted = tf.argmax(probabilities, axis=1)
        if target is None:
            target = predicted
        else:
            check = [tf.debugging.assert_non_negative(target, message="class_id must be >= 0"),
                     tf.debugging.assert_less(target, tf.constant(k, tf.int64), message=f"class_id must be < {k}")]
            with tf.control_dependencies(check):
                target = tf.identity(target)
        attributions, explained, baseline = tf.map_fn(
            one_image, (z, target), parallel_iterations=_PARALLEL_IMAGES,
            fn_output_signature=(tf.TensorSpec([28, 28, 1], tf.float32), tf.float32, tf.float32))
        distance = _distance(tf, image, embedding, params)
        threshold = tf.fill(tf.shape(distance), tf.constant(trust.threshold, tf.float32))
        n = tf.shape(image)[0]
        return {"class_id": predicted, "probabilities": probabilities,
                "class_names": tf.tile(tf.constant(classes)[None, :], [n, 1]), "explained_class": target,
                "explained_probability": explained, "baseline_probability": baseline, "attributions": attributions,
                "completeness_error": tf.reduce_sum(attributions, axis=[1, 2, 3]) - (explained - baseline),
                "trust_distance": distance, "trust_threshold": threshold, "trusted": distance <= threshold}

    image_spec = tf.TensorSpec([None, 28, 28, 1], tf.float32, name="image")

    @tf.function(input_signature=[image_spec])
    def explain(image):
        return answer(image)

    @tf.function(input_signature=[image_spec, tf.TensorSpec([None], tf.int64, name="class_id")])
    def explain_class(image, class_id):
        return answer(image, class_id)

    @tf.function(input_signature=[image_spec])
    def trust_signature(image):
        embedding = parts.embed(parts.standardize(image))
        probabilities = parts.head(embedding)
        distance = _distance(tf, image, embedding, params)
        threshold = tf.fill(tf.shape(distance), tf.constant(trust.threshold, tf.float32))
        return {"probabilities": probabilities, "class_id": tf.argmax(probabilities, axis=1),
                "trust_distance": distance, "trust_threshold": threshold, "trusted": distance <= threshold}

    module.explain = explain
    module.explain_class = explain_class
    module.trust = trust_signature
    return {"explain": explain, "explain_class": explain_class, "trust": trust_signature}
