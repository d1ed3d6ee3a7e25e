"""Small SavedModels with the fuel signature, built for the sidecar's tests and benchmark.

Each is published with a proper manifest (golden outputs computed from the model itself):

- ``normal``: mpg = scale * (sum of inputs) -- ``scale`` tells versions apart in predictions;
- ``fail_above``: like normal, but a tf.debugging assertion fails when horsepower > threshold;
- ``slow``: like normal, plus a heavy matmul loop per request;
- ``pad_bytes``: extra variables (in several shards) to make a large version.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from serving.store import Store
from serving.store.manifest import Golden, Manifest, PrimaryMetric, file_entries
from serving.store.repository import ModelRepository

__all__ = ['Spec', 'build', 'golden_for', 'manifest_for', 'publish', 'FEATURES', 'SIGNATURES', 'GOLDEN_INPUTS']

FEATURES = ("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin")
SIGNATURES = {"serving_default": {
    "method_name": "tensorflow/serving/predict",
    "inputs": {f: {"dtype": "DT_FLOAT", "shape": [-1]} for f in FEATURES},
    "outputs": {"mpg": {"dtype": "DT_FLOAT", "shape": [-1]}},
}}
#: Golden inputs stay well below the fail_above threshold.
GOLDEN_INPUTS = {f: [1.0, 2.0, 3.0] for f in FEATURES}


@dataclasses.dataclass(frozen=True)
class Spec:
    scale: float = 1.0
    fail_above: float | None = None
    slow_iterations: int = 0
    pad_bytes: int = 0
    shards_bytes: int = 0


def build(dest: Path, spec: Spec) -> Path:
    import tensorflow as tf

    class Fuel(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = tf.Variable(spec.scale, dtype=tf.float32)
            n = spec.pad_bytes // 4
            chunk = max(1, n // 8)
            self.pad = [tf.Variable(tf.random.uniform([chunk], seed=i)) for i in range(8)] if n else []
            self.weights = tf.Variable(tf.eye(256) * 0.5) if spec.slow_iterations else None

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name=f) for f in FEATURES])
        def serve(self, cylinders, displacement, horsepower, weight, acceleration, model_year, origin):
            total = cylinders + displacement + horsepower + weight + acceleration + model_year + origin
            deps = []
            if spec.fail_above is not None:
                deps.append(tf.debugging.assert_less_equal(
                    horsepower, tf.constant(spec.fail_above), message="horsepower above the test threshold"))
            if spec.slow_iterations:
                _, m = tf.while_loop(lambda i, _m: i < spec.slow_iterations,
                                     lambda i, m: (i + 1, tf.linalg.matmul(m, self.weights)),
                                     (tf.constant(0), tf.ones([256, 256])))
                total = total + 0.0 * tf.reduce_sum(m)
            with tf.control_dependencies(deps):
                return {"mpg": tf.identity(self.scale * total)}

    module = Fuel()
    options = None
    if spec.shards_bytes:
        options = tf.saved_model.SaveOptions(
            experimental_sharding_callback=tf.train.experimental.MaxShardSizePolicy(
                max_shard_size=spec.shards_bytes))
    tf.saved_model.save(module, str(dest), signatures={"serving_default": module.serve}, options=options)
    return dest


def golden_for(spec: Spec) -> Golden:
    total = np.sum([np.asarray(GOLDEN_INPUTS[f], np.float32) for f in FEATURES], axis=0)
    return Golden("serving_default", GOLDEN_INPUTS, {"mpg": (np.float32(spec.scale) * total).tolist()})


def manifest_for(model: str, version: int, saved: Path, spec: Spec, **overrides) -> Manifest:
    fields = dict(
        model=model, version=version, files=file_entries(saved), signatures=SIGNATURES, metrics={},
        primary_metric=PrimaryMetric("mae", "min", 1.0), data_fingerprint="sidecar-tests",
        golden=golden_for(spec))
    fields.update(overrides)
    return Manifest(**fields)


def publish(store: Store, model: str, version: int, saved: Path, spec: Spec, **overrides) -> Manifest:
    manifest = manifest_for(model, version, saved, spec, **overrides)
    ModelRepository(store, model).publish(saved, manifest)
    return manifest
