"""Tiny SavedModels that follow the training package's export contract (fuel and defect),
built in seconds for the server's own tests. The conformance suite uses the real models.

Example::

    publish_fuel(store / "fuel" / "1")
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

FUEL_FEATURES = ("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin")
FUEL_WEIGHTS = (-0.5, -0.01, -0.02, -0.002, 0.1, 0.3, 1.0)
DEFECT_CLASSES = ("clean", "scratch", "pit", "crack", "inclusion")


def fuel_expected(rows: np.ndarray, bias: float) -> np.ndarray:
    """What the tiny fuel model returns for ``rows`` ([n, 7] in FUEL_FEATURES order)."""
    return (rows.astype(np.float32) @ np.array(FUEL_WEIGHTS, np.float32)) + np.float32(bias)


def _set_method_names(version_dir: Path, methods: dict[str, str]) -> None:
    from tensorflow.core.protobuf import saved_model_pb2

    pb = version_dir / "saved_model.pb"
    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString(pb.read_bytes())
    for key, method in methods.items():
        sm.meta_graphs[0].signature_def[key].method_name = method
    pb.write_bytes(sm.SerializeToString())


def _write_records(path: Path, records: list[bytes]) -> None:
    import tensorflow as tf

    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)


def fuel_warmup_records(batch_sizes=(1, 2, 4, 8, 16, 32)) -> list[bytes]:
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

    out = []
    for n in batch_sizes:
        req = predict_pb2.PredictRequest()
        req.model_spec.name = "fuel"
        req.model_spec.signature_name = "serving_default"
        for name in FUEL_FEATURES:
            req.inputs[name].CopyFrom(tf.make_tensor_proto(np.ones(n, np.float32)))
        out.append(prediction_log_pb2.PredictionLog(
            predict_log=prediction_log_pb2.PredictLog(request=req)).SerializeToString())
    return out


def publish_fuel(version_dir: Path, bias: float = 20.0, warmup: bool = True) -> Path:
    """Export the tiny fuel model (predict + regress signatures) to ``version_dir``."""
    import tensorflow as tf

    class Fuel(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable(np.array(FUEL_WEIGHTS, np.float32))
            self.b = tf.Variable(np.float32(bias))

        def _mpg(self, cols):
            x = tf.stack(cols, axis=1)
            return tf.linalg.matvec(x, self.w) + self.b

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name=n) for n in FUEL_FEATURES])
        def predict(self, cylinders, displacement, horsepower, weight, acceleration, model_year, origin):
            return {"mpg": self._mpg([cylinders, displacement, horsepower, weight, acceleration, model_year, origin])}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        def regress(self, inputs):
            spec = {n: tf.io.FixedLenFeature([], tf.float32) for n in FUEL_FEATURES}
            parsed = tf.io.parse_example(inputs, spec)
            return {"outputs": self._mpg([parsed[n] for n in FUEL_FEATURES])}

    module = Fuel()
    tf.saved_model.save(module, str(version_dir), signatures={
        "serving_default": module.predict.get_concrete_function(),
        "regress": module.regress.get_concrete_function()})
    _set_method_names(version_dir, {"regress": "tensorflow/serving/regress"})
    if warmup:
        _write_records(version_dir / "assets.extra" / "tf_serving_warmup_requests", fuel_warmup_records())
    return version_dir


def publish_defect(version_dir: Path, warmup: bool = True) -> Path:
    """Export the tiny defect model (predict + classify signatures) to ``version_dir``."""
    import tensorflow as tf

    class Defect(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            rng = np.random.default_rng(0)
            self.w = tf.Variable(rng.normal(size=(784, 5)).astype(np.float32) * 0.01)

        def _probs(self, image):
            flat = tf.reshape(image, [-1, 784])
            return tf.nn.softmax(tf.matmul(flat, self.w))

        @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name="image")])
        def predict(self, image):
            probs = self._probs(image)
            return {"probabilities": probs, "class_id": tf.argmax(probs, axis=1)}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        def classify(self, inputs):
            parsed = tf.io.parse_example(inputs, {"image": tf.io.FixedLenFeature([784], tf.float32)})
            probs = self._probs(parsed["image"])
            n = tf.shape(probs)[0]
            classes = tf.tile(tf.constant([list(DEFECT_CLASSES)]), [n, 1])
            return {"classes": classes, "scores": probs}

    module = Defect()
    tf.saved_model.save(module, str(version_dir), signatures={
        "serving_default": module.predict.get_concrete_function(),
        "classify": module.classify.get_concrete_function()})
    _set_method_names(version_dir, {"classify": "tensorflow/serving/classify"})
    if warmup:
        import tensorflow as tf  # noqa: F811 - local import kept next to its use
        from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

        records = []
        for n in (1, 2, 4, 8, 16, 32):
            req = predict_pb2.PredictRequest()
            req.model_spec.name = "defect"
            req.inputs["image"].CopyFrom(tf.make_tensor_proto(np.zeros((n, 28, 28, 1), np.float32)))
            records.append(prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=req)).SerializeToString())
        _write_records(version_dir / "assets.extra" / "tf_serving_warmup_requests", records)
    return version_dir


def write_bad_warmup(version_dir: Path) -> None:
    """Overwrite the warmup file with bytes that are not TFRecord."""
    path = version_dir / "assets.extra" / "tf_serving_warmup_requests"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", 12345) + b"not a tfrecord at all")


def build_store(root: Path) -> Path:
    """``root/fuel/1`` and ``root/defect/1``, the same layout as ``plantserve train`` publishes."""
    publish_fuel(root / "fuel" / "1")
    publish_defect(root / "defect" / "1")
    return root
