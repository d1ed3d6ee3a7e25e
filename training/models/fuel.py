"""``fuel``: vehicle fuel-consumption regression on Auto MPG.

The graph takes the raw named features, imputes missing values with the training medians,
log-scales the heavy-tailed ones (displacement, horsepower, weight), one-hot encodes ``origin``
and normalises inside the model, then Dense 64-32-1 (L2-regularised).

Besides ``serving_default`` and ``regress``, the export serves (see :mod:`.fuel_explain`):
``explain``, integrated gradients from the training medians with one attribution per raw
feature in mpg, and ``trust``, a robust Mahalanobis distance from the training rows.

Training picks the epoch count by early stopping on a validation split, then refits on training
plus validation rows for that many epochs: with under 400 rows, holding 20% out of the final fit
costs more than it protects.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..data.fuel import FEATURES, load_fuel
from ..settings import TrainSettings
from serving.store.manifest import ExplainSpec

from .base import PredictFn, Task, TaskData, TrustFit

__all__ = ["FuelTask"]

LEARNING_RATE = 1e-3
BATCH_SIZE = 64
EARLY_STOP_PATIENCE = 50  # epochs without validation improvement before stopping
LR_PLATEAU_PATIENCE = 15  # epochs without improvement before halving the learning rate
MIN_LEARNING_RATE = 1e-5
L2 = 3e-3  # kernel weight decay of the two hidden layers


def _preprocess(tf, x, medians):
    """[n, 7] raw -> [n, 9]: NaN imputed; displacement, horsepower, weight logged; origin (1/2/3) one-hot."""
    x = tf.where(tf.math.is_nan(x), medians[None, :], x)
    origin = tf.one_hot(tf.cast(tf.round(x[:, 6]), tf.int32) - 1, 3)
    logged = tf.math.log(tf.maximum(x[:, 1:4], 1.0))
    return tf.concat([x[:, :1], logged, x[:, 4:6], origin], axis=1)


def encode(tf, numeric, origin_one_hot):
    """The same encoding as :func:`_preprocess`, split where integrated gradients needs it:
    [n, 6] imputed numeric features and [n, 3] origin one-hot -> [n, 9]."""
    logged = tf.math.log(tf.maximum(numeric[:, 1:4], 1.0))
    return tf.concat([numeric[:, :1], logged, numeric[:, 4:6], origin_one_hot], axis=1)


class FuelTask(Task):
    name = "fuel"
    primary_metric = "mae"
    goal = "min"
    default_threshold = 3.0  # mpg: refuse anything worse than this whatever the latest did
    default_epochs = 800
    graph_version = 2  # 2: displacement, horsepower and weight are log-scaled in the graph
    #: The path crosses a few ReLU kinks; 256 midpoint steps keep completeness within 2%, and the
    #: 64-32-1 network makes them cost little more than one plain predict.
    default_explain_steps = 256

    def load_data(self, settings: TrainSettings) -> TaskData:
        fuel = load_fuel(settings.seed, settings.data_file)
        medians = np.nanmedian(fuel.x_train, axis=0).astype(np.float32)
        return TaskData(fuel.x_train, fuel.y_train, fuel.x_val, fuel.y_val, fuel.x_test, fuel.y_test,
                        fuel.fingerprint, {"medians": medians, "names_test": fuel.names_test,
                                           "dropped_rows": fuel.dropped_rows, "train_rows": len(fuel.x_train)})

    def _features(self, x: np.ndarray, data: TaskData) -> np.ndarray:
        import tensorflow as tf

        return _preprocess(tf, tf.constant(x), tf.constant(data.info["medians"])).numpy()

    def build(self, data: TaskData, adapt: bool) -> Any:
        import keras

        norm = keras.layers.Normalization(name="normalization")
        model = keras.Sequential([
            keras.Input(shape=(9,)),
            norm,
            keras.layers.Dense(64, activation="relu", name="dense_64", kernel_regularizer=keras.regularizers.l2(L2)),
            keras.layers.Dense(32, activation="relu", name="dense_32", kernel_regularizer=keras.regularizers.l2(L2)),
            keras.layers.Dense(1, name="mpg"),
        ], name="fuel")
        if adapt:
            norm.adapt(self._features(np.concatenate([data.x_train, data.x_val]), data))
        model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse", metrics=["mae"])
        return model

    def feature_layers(self, model: Any) -> list[Any]:
        return [model.get_layer("normalization"), model.get_layer("dense_64")]

    def fit(self, model: Any, data: TaskData, epochs: int, verbose: bool) -> list[float]:
        """Early-stop on validation to choose the epoch count, then refit on train+validation.

        The model is trained in place from its starting weights (fresh, or the parent's for the
        incremental and finetune strategies) both times."""
        import keras

        start = [w.copy() for w in model.get_weights()]
        compile_config = model.get_compile_config()
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=EARLY_STOP_PATIENCE,
                                             restore_best_weights=True)
        plateau = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=LR_PLATEAU_PATIENCE,
                                                    min_lr=MIN_LEARNING_RATE)
        history = model.fit(self._features(data.x_train, data), data.y_train, epochs=epochs,
                            batch_size=BATCH_SIZE, validation_data=(self._features(data.x_val, data), data.y_val),
                            callbacks=[stop, plateau], verbose=2 if verbose else 0, shuffle=True)
        best = int(np.argmin(history.history["val_loss"])) + 1
        model.set_weights(start)
        model.compile_from_config(compile_config)  # a fresh optimizer state and learning rate
        x_all = np.concatenate([data.x_train, data.x_val])
        y_all = np.concatenate([data.y_train, data.y_val])
        refit = model.fit(self._features(x_all, data), y_all, epochs=best, batch_size=BATCH_SIZE,
                          verbose=2 if verbose else 0, shuffle=True)
        return [float(v) for v in refit.history["loss"]]

    def servable(self, model: Any, data: TaskData, trust: TrustFit | None = None,
                 explain_steps: int | None = None) -> tuple[Any, dict[str, Any]]:
        import tensorflow as tf

        from .fuel_explain import add_explain

        class FuelServable(tf.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model
                self.medians = tf.constant(data.info["medians"])
                # The tf.Variables inside the Keras variables: without them in the object graph the
                # saver restores copies the functions never read, and a TF1 session (TF Serving's
                # loader) fails with "Could not find variable" (keras-team/keras#20095).
                self.tf_variables = [v.value for v in model.variables]

            def _mpg(self, x):
                return tf.reshape(self.model(_preprocess(tf, x, self.medians)), [-1])

            @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name=f) for f in FEATURES])
            def predict(self, cylinders, displacement, horsepower, weight, acceleration, model_year, origin):
                x = tf.stack([cylinders, displacement, horsepower, weight, acceleration, model_year, origin], 1)
                return {"mpg": self._mpg(x)}

            @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
            def regress(self, inputs):
                spec = {f: tf.io.FixedLenFeature([], tf.float32, default_value=float("nan")) for f in FEATURES}
                parsed = tf.io.parse_example(inputs, spec)
                return {"outputs": self._mpg(tf.stack([parsed[f] for f in FEATURES], 1))}

        module = FuelServable()
        signatures = {"serving_default": module.predict, "regress": module.regress}
        if trust is not None:
            signatures.update(add_explain(module, model, data.info["medians"], trust,
                                          explain_steps or self.default_explain_steps))
        return module, signatures

    def fit_trust(self, model: Any, data: TaskData) -> TrustFit:
        from .fuel_explain import fit_trust

        return fit_trust(data)

    def explain_info(self, data: TaskData, explain_steps: int | None = None) -> ExplainSpec:
        from .fuel_explain import explain_info

        return explain_info(data.info["medians"], explain_steps or self.default_explain_steps)

    def ood_sets(self, data: TaskData) -> dict[str, np.ndarray]:
        from ..explain.ood import fuel_ood

        return fuel_ood(data.x_test)

    def method_names(self) -> dict[str, str]:
        return {"regress": "tensorflow/serving/regress"}

    def request(self, x: np.ndarray) -> dict[str, np.ndarray]:
        return {f: np.ascontiguousarray(x[:, i]) for i, f in enumerate(FEATURES)}

    def evaluate(self, predict: PredictFn, data: TaskData) -> dict[str, Any]:
        pred = np.asarray(predict(self.request(data.x_test))["mpg"], np.float64)
        err = pred - data.y_test
        return {
            "mae": float(np.mean(np.abs(err))),
            "rmse": float(np.sqrt(np.mean(err**2))),
            "r2": float(1 - np.sum(err**2) / np.sum((data.y_test - data.y_test.mean()) ** 2)),
            "test_rows": int(len(err)),
            "baseline_mae": float(np.mean(np.abs(data.y_test - np.median(data.y_train)))),
        }

    def report(self, metrics: dict[str, Any]) -> str:
        return "\n".join([
            "fuel: test-set evaluation (Auto MPG, held-out rows)",
            f"  {'metric':<14}{'value':>10}",
            f"  {'MAE (mpg)':<14}{metrics['mae']:>10.3f}",
            f"  {'RMSE (mpg)':<14}{metrics['rmse']:>10.3f}",
            f"  {'R²':<14}{metrics['r2']:>10.3f}",
            f"  {'baseline MAE':<14}{metrics['baseline_mae']:>10.3f}   (predicting the training median)",
            f"  {'test rows':<14}{metrics['test_rows']:>10d}",
        ])
