"""``defect``: surface-defect image classifier for inspection stations.

CNN: Conv32-Pool-Conv64-Pool-Dense64-softmax on 28×28×1 images in [0, 1]. Trained on the
procedural generator (deterministic in the seed) or on a plant's ``--data-dir``.

Besides ``serving_default`` and ``classify``, the export serves (see :mod:`.defect_explain`):
``explain`` and ``explain_class``, an integrated-gradients map of the predicted or a requested
class, and ``trust``, a distance from the training images.
"""
from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from ..data.defects import CLASSES, generate
from ..data.imagedir import load_image_dir
from ..settings import TrainSettings
from serving.store.manifest import ExplainSpec

from .base import PredictFn, Task, TaskData, TrustFit

__all__ = ["DefectTask"]

LEARNING_RATE = 2e-3
BATCH_SIZE = 64
EARLY_STOP_PATIENCE = 5  # epochs without validation-accuracy gain before stopping (best weights kept)
#: Held-out generated images per class (validation and test each).
HELD_OUT_PER_CLASS = 200
_TEST_SEED_OFFSET = 1_000_003  # the test split's seed, far from any training seed


def _standardize_layer():
    """Per-image standardisation inside the graph: lighting and exposure differ between stations."""
    import keras

    class Standardize(keras.layers.Layer):
        def call(self, x):
            ops = keras.ops
            mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
            std = ops.std(x, axis=(1, 2, 3), keepdims=True)
            return (x - mean) / ops.maximum(std, 1e-3)

    return Standardize


def _split(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
    order = np.random.default_rng(seed).permutation(len(x))
    n_held = max(1, len(x) // 10)
    test, val, train = order[:n_held], order[n_held:2 * n_held], order[2 * n_held:]
    return x[train], y[train], x[val], y[val], x[test], y[test]


class DefectTask(Task):
    name = "defect"
    primary_metric = "accuracy"
    goal = "max"
    default_threshold = 0.90  # refuse anything below this whatever the latest did
    default_epochs = 20
    graph_version = 1
    #: 80 steps keep completeness within 2% on every held-out image (max 1.8%; 128 steps: 1.2%;
    #: 64 leave ~0.5% of them between 2% and 3%) at about 7-9x the latency of a plain predict
    #: (128 steps: ~13x); --explain-steps trades one for the other.
    default_explain_steps = 80

    def load_data(self, settings: TrainSettings) -> TaskData:
        if settings.data_dir is not None:
            x, y, classes = load_image_dir(settings.data_dir)
            parts = _split(x, y, settings.seed)
            source = str(settings.data_dir)
        else:
            classes = CLASSES
            x_train, y_train = generate(settings.samples_per_class, settings.seed)
            x_val, y_val = generate(HELD_OUT_PER_CLASS, settings.seed + 1)
            # The test split never depends on --seed: every version is compared on the same images.
            x_test, y_test = generate(HELD_OUT_PER_CLASS, _TEST_SEED_OFFSET)
            parts = (x_train, y_train, x_val, y_val, x_test, y_test)
            source = "generator"
        digest = hashlib.sha256()
        for part in parts:
            digest.update(np.ascontiguousarray(part).tobytes())
        return TaskData(*parts, fingerprint=f"sha256:{digest.hexdigest()}",
                        info={"classes": list(classes), "source": source, "train_rows": len(parts[0])})

    def build(self, data: TaskData, adapt: bool) -> Any:
        import keras

        model = keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            _standardize_layer()(name="standardize"),
            keras.layers.Conv2D(32, 3, activation="relu", name="conv_32"),
            keras.layers.MaxPooling2D(name="pool_1"),
            keras.layers.Conv2D(64, 3, activation="relu", name="conv_64"),
            keras.layers.MaxPooling2D(name="pool_2"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(64, activation="relu", name="dense_64"),
            keras.layers.Dense(len(data.info["classes"]), activation="softmax", name="probabilities"),
        ], name="defect")
        model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    def feature_layers(self, model: Any) -> list[Any]:
        return [model.get_layer("conv_32"), model.get_layer("conv_64")]

    def fit(self, model: Any, data: TaskData, epochs: int, verbose: bool) -> list[float]:
        import keras

        stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=EARLY_STOP_PATIENCE,
                                             restore_best_weights=True)
        history = model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=BATCH_SIZE,
                            validation_data=(data.x_val, data.y_val), callbacks=[stop],
                            verbose=2 if verbose else 0, shuffle=True)
        return [float(v) for v in history.history["loss"]]

    def servable(self, model: Any, data: TaskData, trust: TrustFit | None = None,
                 explain_steps: int | None = None) -> tuple[Any, dict[str, Any]]:
        import tensorflow as tf

        from .defect_explain import add_explain

        classes = data.info["classes"]

        class DefectServable(tf.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model
                self.class_names = tf.constant(classes)
                # The tf.Variables inside the Keras variables: without them in the object graph the
                # saver restores copies the functions never read, and a TF1 session (TF Serving's
                # loader) fails with "Could not find variable" (keras-team/keras#20095).
                self.tf_variables = [v.value for v in model.variables]

            @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name="image")])
            def predict(self, image):
                probabilities = self.model(image)
                return {"probabilities": probabilities, "class_id": tf.argmax(probabilities, axis=1)}

            @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
            def classify(self, inputs):
                parsed = tf.io.parse_example(inputs, {"image": tf.io.FixedLenFeature([28 * 28], tf.float32)})
                scores = self.model(tf.reshape(parsed["image"], [-1, 28, 28, 1]))
                names = tf.tile(self.class_names[None, :], [tf.shape(scores)[0], 1])
                return {"classes": names, "scores": scores}

        module = DefectServable()
        signatures = {"serving_default": module.predict, "classify": module.classify}
        if trust is not None:
            signatures.update(add_explain(module, model, classes, trust, explain_steps or self.default_explain_steps))
        return module, signatures

    def fit_trust(self, model: Any, data: TaskData) -> TrustFit:
        from .defect_explain import fit_trust

        return fit_trust(model, data)

    def explain_info(self, data: TaskData, explain_steps: int | None = None) -> ExplainSpec:
        from .defect_explain import explain_info

        return explain_info(explain_steps or self.default_explain_steps)

    def ood_sets(self, data: TaskData) -> dict[str, np.ndarray]:
        from ..explain.ood import defect_ood

        return defect_ood(data.x_test)

    def method_names(self) -> dict[str, str]:
        return {"classify": "tensorflow/serving/classify"}

    def request(self, x: np.ndarray) -> dict[str, np.ndarray]:
        return {"image": np.ascontiguousarray(x, np.float32)}

    def evaluate(self, predict: PredictFn, data: TaskData) -> dict[str, Any]:
        classes = data.info["classes"]
        k = len(classes)
        predicted = np.concatenate([
            np.asarray(predict(self.request(data.x_test[i:i + 256]))["class_id"]) for i in range(0, len(data.x_test), 256)
        ])
        confusion = np.zeros((k, k), np.int64)
        np.add.at(confusion, (data.y_test, predicted), 1)
        per_class = {}
        for i, name in enumerate(classes):
            tp = confusion[i, i]
            precision = tp / max(confusion[:, i].sum(), 1)
            recall = tp / max(confusion[i, :].sum(), 1)
            f1 = 2 * precision * recall / max(precision + recall, 1e-12)
            per_class[name] = {"precision": float(precision), "recall": float(recall), "f1": float(f1),
                               "support": int(confusion[i, :].sum())}
        return {"accuracy": float(np.trace(confusion) / confusion.sum()), "per_class": per_class,
                "confusion_matrix": confusion.tolist(), "classes": classes, "test_rows": int(confusion.sum())}

    def report(self, metrics: dict[str, Any]) -> str:
        classes = metrics["classes"]
        width = max(10, *(len(c) + 2 for c in classes))
        lines = [f"defect: test-set evaluation ({metrics['test_rows']} held-out images)",
                 f"  accuracy {metrics['accuracy']:.4f}", "",
                 f"  {'class':<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
        for name in classes:
            m = metrics["per_class"][name]
            lines.append(f"  {name:<{width}}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>10.3f}{m['support']:>9d}")
        lines += ["", "  confusion matrix (rows: true, columns: predicted)",
                  "  " + " " * width + "".join(f"{c[:9]:>10}" for c in classes)]
        for name, row in zip(classes, metrics["confusion_matrix"]):
            lines.append(f"  {name:<{width}}" + "".join(f"{v:>10d}" for v in row))
        return "\n".join(lines)
