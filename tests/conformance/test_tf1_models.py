"""A TF1-era model (``legacy``, :mod:`tests.conformance.legacy`): loaded into a session and run by its
tensor names, so shapes are TensorFlow's business; TF Serving's Classify/Regress/MultiInference checks
in their order; TensorFlow's own runtime messages (TFSERVING.md §10)."""
from __future__ import annotations

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import classification_pb2, inference_pb2, predict_pb2, regression_pb2

from tests.conformance.client import rpc_error


def _predict(x: np.ndarray, signature: str = "") -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "legacy"
    request.model_spec.signature_name = signature
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(x))
    return request


def _example_input(request, values=(2.0,)) -> None:
    for value in values:
        request.input.example_list.examples.add().features.feature["x"].float_list.value.append(value)


def _classify(signature: str) -> classification_pb2.ClassificationRequest:
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name, request.model_spec.signature_name = "legacy", signature
    _example_input(request)
    return request


def _regress(signature: str) -> regression_pb2.RegressionRequest:
    request = regression_pb2.RegressionRequest()
    request.model_spec.name, request.model_spec.signature_name = "legacy", signature
    _example_input(request)
    return request


def test_loads_although_tf2_cannot(target):
    assert target.states("legacy") == {1: "AVAILABLE"}
    sigs = target.get("/v1/models/legacy/metadata").json()["metadata"]["signature_def"]["signature_def"]
    dims = sigs["serving_default"]["inputs"]["x"]["tensor_shape"]["dim"]
    assert [int(d["size"]) for d in dims] == [-1, 1]


@pytest.mark.parametrize("x, expected", [
    (np.array([2.0, 3.0, 4.0], np.float32), [3.0, 3.5, 4.0]),  # [3] against the SignatureDef's [-1, 1]
    (np.array([[2.0], [3.0]], np.float32), [[3.0], [3.5]]),
])
def test_shapes_are_tensorflows_business_over_grpc(target, x, expected):
    response = target.predict_stub().Predict(_predict(x), timeout=30)
    assert tf.make_ndarray(response.outputs["y"]).tolist() == expected
    assert (response.model_spec.name, response.model_spec.signature_name) == ("legacy", "serving_default")


def test_shapes_are_tensorflows_business_over_rest(target):
    row = target.post("/v1/models/legacy:predict", {"instances": [2.0, 3.0, 4.0]})
    assert row.status_code == 200, row.text
    assert row.json() == {"predictions": [3.0, 3.5, 4.0]}
    columnar = target.post("/v1/models/legacy:predict", {"inputs": [2.0, 3.0, 4.0]})
    assert columnar.json() == {"outputs": [3.0, 3.5, 4.0]}


def test_classify_and_regress_on_tf1_signatures(target):
    stub = target.predict_stub()
    classified = stub.Classify(_classify("classify_x_to_y"), timeout=30)
    assert [(c.label, c.score) for c in classified.result.classifications[0].classes] == [("", 3.0)]
    assert classified.model_spec.signature_name == "classify_x_to_y"
    assert stub.Regress(_regress("regress_x_to_y"), timeout=30).result.regressions[0].value == 3.0
    rest = target.post("/v1/models/legacy:classify", {"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]})
    assert rest.json() == {"results": [[["", 3.0]]]}
    rest = target.post("/v1/models/legacy:regress", {"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]})
    assert rest.json() == {"results": [3.0]}


@pytest.mark.parametrize("call, signature, message", [
    ("Classify", "classify_bad_input", "No classification inputs found in SignatureDef: "),
    ("Classify", "serving_default", "No classification inputs found in SignatureDef: "),  # inputs before outputs
    ("Classify", "regress_x_to_y", 'Expected classification signature outputs to contain at least one of "classes" '
                                   'or "scores". Signature was: '),
    ("Regress", "regress_bad_output", "No regression outputs found in SignatureDef: "),
    ("Regress", "serving_default", "No regression inputs found in SignatureDef: "),
    ("Regress", "nope", "No signature was found with the name: nope"),
])
def test_signature_checks_in_tf_serving_order(target, call, signature, message):
    request = _classify(signature) if call == "Classify" else _regress(signature)
    error = rpc_error(getattr(target.predict_stub(), call), request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(message)
    if "SignatureDef: " in message:  # the signature follows, in protobuf's text format
        assert 'method_name: "tensorflow/serving/' in error.details()


def test_runtime_errors_carry_tensorflows_own_words(target):
    error = rpc_error(target.predict_stub().Predict, _predict(np.array([1.0, np.nan], np.float32), "check_numerics"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "x is not a number" in error.details() and "Tensor had NaN values" in error.details()
    assert "Graph execution error" not in error.details() and "Detected at node" not in error.details()
    rest = target.post("/v1/models/legacy:predict", '{"signature_name": "check_numerics", "instances": [NaN]}')
    assert rest.status_code == 400 and "Tensor had NaN values" in rest.json()["error"]


def _multi(*tasks: tuple[str, str, str]) -> inference_pb2.MultiInferenceRequest:
    request = inference_pb2.MultiInferenceRequest()
    for model, signature, method in tasks:
        task = request.tasks.add(method_name=f"tensorflow/serving/{method}")
        task.model_spec.name, task.model_spec.signature_name = model, signature
    _example_input(request)
    return request


def test_multi_inference_runs_every_task_at_once(target):
    response = target.predict_stub().MultiInference(
        _multi(("legacy", "regress_x_to_y", "regress"), ("legacy", "classify_x_to_y", "classify")), timeout=30)
    assert response.results[0].regression_result.regressions[0].value == 3.0
    assert response.results[1].classification_result.classifications[0].classes[0].score == 3.0
    assert [r.model_spec.signature_name for r in response.results] == ["regress_x_to_y", "classify_x_to_y"]
    assert all(r.model_spec.version.value == 1 for r in response.results)


@pytest.mark.parametrize("tasks, code, message", [
    ((("legacy", "nope", "regress"),), grpc.StatusCode.INVALID_ARGUMENT,
     "Requested signature not found in model graph: nope"),
    ((("legacy", "regress_x_to_y", "regress"), ("", "classify_x_to_y", "classify")), grpc.StatusCode.INVALID_ARGUMENT,
     "Found ModelSpec with an empty model name."),
    ((("legacy", "regress_x_to_y", "regress"), ("fuel", "classify_x_to_y", "classify")),
     grpc.StatusCode.INVALID_ARGUMENT, "All ModelSpecs in a MultiInferenceRequest must access the same model name."),
    ((("legacy", "regress_x_to_y", "regress"), ("legacy", "regress_x_to_y", "regress")),
     grpc.StatusCode.INVALID_ARGUMENT, "Duplicate evaluation of signature: regress_x_to_y"),
    ((("legacy", "serving_default", "predict"),), grpc.StatusCode.UNIMPLEMENTED,
     "Unsupported signature method_name: tensorflow/serving/predict"),
    ((), grpc.StatusCode.INVALID_ARGUMENT, "ModelSpec has no name specified."),
])
def test_multi_inference_errors(target, tasks, code, message):
    error = rpc_error(target.predict_stub().MultiInference, _multi(*tasks))
    assert (error.code(), error.details()) == (code, message)
