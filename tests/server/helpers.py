"""Request builders shared by the server's tests: official tensorflow-serving-api messages, as a
third-party client sends them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from tensorflow_serving.apis import predict_pb2

from tests.server.tinymodels import FUEL_FEATURES


def write_config(path: Path, store: Path, models=("fuel", "defect"), extra: dict[str, str] | None = None) -> Path:
    parts = []
    for name in models:
        parts.append(f'config {{ name: "{name}" base_path: "{store / name}" model_platform: "tensorflow" '
                     f'{(extra or {}).get(name, "")} }}')
    path.write_text("model_config_list { " + " ".join(parts) + " }")
    return path


def fuel_request(n: int = 1, **spec) -> predict_pb2.PredictRequest:
    req = predict_pb2.PredictRequest()
    req.model_spec.name = spec.pop("name", "fuel")
    for key, value in spec.items():
        if key == "version":
            req.model_spec.version.value = value
        else:
            setattr(req.model_spec, key, value)
    import tensorflow as tf

    for feature in FUEL_FEATURES:
        req.inputs[feature].CopyFrom(tf.make_tensor_proto(np.ones(n, np.float32)))
    return req


def fuel_instance(value: float = 1.0) -> dict:
    return {feature: value for feature in FUEL_FEATURES}
