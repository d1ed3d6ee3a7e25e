"""What the conformance suite needs to talk to any TF Serving: stubs, REST calls, request builders.

Nothing here imports plantserve's server: the suite is written against the API.
"""
from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import grpc
import numpy as np
import requests
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2, get_model_status_pb2,
                                     model_management_pb2, model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc, regression_pb2)
from tensorflow_serving.config import model_server_config_pb2

from tests.conformance.layout import MODELS, model_config
from tests.support import wait_until

FUEL_FEATURES = ("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin")
FUEL_ROW = dict(zip(FUEL_FEATURES, (4.0, 97.0, 88.0, 2130.0, 14.5, 70.0, 3.0)))
DEFECT_CLASSES = ["clean", "scratch", "pit", "crack", "inclusion"]
STATES = {0: "UNKNOWN", 10: "START", 20: "LOADING", 30: "AVAILABLE", 40: "UNLOADING", 50: "END"}


@dataclasses.dataclass
class Target:
    """A running server: its endpoints, and its model store as this process sees it (writable) and as
    the server sees it (``model_root``)."""

    grpc_target: str
    rest_url: str
    store: Path
    model_root: str
    external: bool

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.grpc_target, options=[("grpc.max_send_message_length", 64 << 20)])

    def predict_stub(self) -> prediction_service_pb2_grpc.PredictionServiceStub:
        return prediction_service_pb2_grpc.PredictionServiceStub(self.channel())

    def model_stub(self) -> model_service_pb2_grpc.ModelServiceStub:
        return model_service_pb2_grpc.ModelServiceStub(self.channel())

    def get(self, path: str) -> requests.Response:
        return requests.get(self.rest_url + path, timeout=30)

    def post(self, path: str, body: bytes | str | dict) -> requests.Response:
        data = body if isinstance(body, (bytes, str)) else __import__("json").dumps(body)
        return requests.post(self.rest_url + path, data=data, timeout=30)

    def reload(self, text: str, timeout: float = 60) -> model_management_pb2.ReloadConfigResponse:
        request = model_management_pb2.ReloadConfigRequest()
        text_format.Parse(text, request.config)
        return self.model_stub().HandleReloadConfigRequest(request, timeout=timeout)

    def base_config(self, extra: dict[str, str] | None = None, models=MODELS) -> str:
        return model_config(self.model_root, models, extra)

    def states(self, model: str) -> dict[int, str]:
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = model
        try:
            response = self.model_stub().GetModelStatus(request, timeout=10)
        except grpc.RpcError:
            return {}
        return {s.version: STATES[s.state] for s in response.model_version_status}

    def status(self, model: str):
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = model
        return self.model_stub().GetModelStatus(request, timeout=10)

    def wait_state(self, model: str, version: int, state: str, timeout: float = 120) -> None:
        wait_until(lambda: self.states(model).get(version) == state, timeout=timeout,
                   what=f"{model} version {version} {state}")


def fuel_predict(n: int = 1, model: str = "fuel", **spec) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    for key, value in spec.items():
        if key == "version":
            request.model_spec.version.value = value
        else:
            setattr(request.model_spec, key, value)
    for name in FUEL_FEATURES:
        request.inputs[name].CopyFrom(tf.make_tensor_proto(np.full(n, FUEL_ROW[name], np.float32)))
    return request


def defect_predict(n: int = 1) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "defect"
    request.inputs["image"].CopyFrom(tf.make_tensor_proto(np.full((n, 28, 28, 1), 0.5, np.float32)))
    return request


def fuel_example(row: dict | None = None) -> tf.train.Example:
    row = row or FUEL_ROW
    return tf.train.Example(features=tf.train.Features(feature={
        k: tf.train.Feature(float_list=tf.train.FloatList(value=[v])) for k, v in row.items()}))


def defect_example(value: float = 0.5) -> tf.train.Example:
    return tf.train.Example(features=tf.train.Features(feature={
        "image": tf.train.Feature(float_list=tf.train.FloatList(value=[value] * 784))}))


def regress_request(n: int = 1, model: str = "fuel") -> regression_pb2.RegressionRequest:
    request = regression_pb2.RegressionRequest()
    request.model_spec.name, request.model_spec.signature_name = model, "regress"
    request.input.example_list.examples.extend([fuel_example()] * n)
    return request


def classify_request(n: int = 1) -> classification_pb2.ClassificationRequest:
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name, request.model_spec.signature_name = "defect", "classify"
    request.input.example_list.examples.extend([defect_example()] * n)
    return request


def metadata_request(model: str, **spec) -> get_model_metadata_pb2.GetModelMetadataRequest:
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = model
    if "version" in spec:
        request.model_spec.version.value = spec["version"]
    return request


def b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode()}


def rpc_error(call, request, timeout: float = 30) -> grpc.RpcError:
    try:
        call(request, timeout=timeout)
    except grpc.RpcError as exc:
        return exc
    raise AssertionError("the call succeeded; an error was expected")


__all__ = ["Target", "model_server_config_pb2"]
