"""gRPC: every PredictionService and ModelService method, with its status codes (TFSERVING.md §5)."""
from __future__ import annotations

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2, inference_pb2, predict_pb2)

from tests.conformance.client import (DEFECT_CLASSES, classify_request, defect_predict, fuel_predict,
                                      metadata_request, regress_request, rpc_error)


def test_predict_answers_with_model_spec(target):
    response = target.predict_stub().Predict(fuel_predict(4), timeout=30)
    spec = response.model_spec
    assert (spec.name, spec.version.value, spec.signature_name) == ("fuel", 1, "serving_default")
    mpg = tf.make_ndarray(response.outputs["mpg"])
    assert mpg.shape == (4,) and np.all(mpg == mpg[0])
    versioned = target.predict_stub().Predict(fuel_predict(1, version=1), timeout=30)
    assert tf.make_ndarray(versioned.outputs["mpg"])[0] == pytest.approx(mpg[0])


def test_predict_output_filter_and_several_outputs(target):
    stub = target.predict_stub()
    both = stub.Predict(defect_predict(2), timeout=30)
    assert set(both.outputs) == {"probabilities", "class_id"}
    assert tf.make_ndarray(both.outputs["probabilities"]).shape == (2, 5)
    assert both.outputs["class_id"].dtype == tf.int64.as_datatype_enum
    request = defect_predict(1)
    request.output_filter.append("class_id")
    assert set(stub.Predict(request, timeout=30).outputs) == {"class_id"}


@pytest.mark.parametrize("build, code, message", [
    (lambda: predict_pb2.PredictRequest(), grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec"),
    (lambda: fuel_predict(model=""), grpc.StatusCode.INVALID_ARGUMENT, None),
    (lambda: fuel_predict(model="nope"), grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(nope)"),
    (lambda: fuel_predict(version=7), grpc.StatusCode.NOT_FOUND, "Servable not found for request: Specific(fuel, 7)"),
    (lambda: fuel_predict(version_label="nope"), grpc.StatusCode.INVALID_ARGUMENT,
     "Unrecognized servable version label: nope"),
    (lambda: fuel_predict(signature_name="nope"), grpc.StatusCode.FAILED_PRECONDITION,
     'Serving signature key "nope" not found.'),
])
def test_predict_status_codes(target, build, code, message):
    error = rpc_error(target.predict_stub().Predict, build())
    assert error.code() == code
    if message is not None:
        assert error.details() == message


def test_missing_extra_and_mistyped_inputs(target):
    stub = target.predict_stub()
    missing = fuel_predict()
    del missing.inputs["origin"]
    error = rpc_error(stub.Predict, missing)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("input size does not match signature: 6!=7")
    assert "Missing but required: {origin}" in error.details()
    extra = fuel_predict()
    extra.inputs["colour"].CopyFrom(tf.make_tensor_proto(np.ones(1, np.float32)))
    assert "Sent extra: {colour}" in rpc_error(stub.Predict, extra).details()
    wrong = fuel_predict()
    wrong.inputs["origin"].CopyFrom(tf.make_tensor_proto(np.ones(1, np.int32)))
    assert rpc_error(stub.Predict, wrong).code() == grpc.StatusCode.INVALID_ARGUMENT
    broken = fuel_predict()
    broken.inputs["origin"].tensor_content = b"\x00\x01\x02"
    assert rpc_error(stub.Predict, broken).code() == grpc.StatusCode.INVALID_ARGUMENT


def test_client_deadline_is_enforced(target):
    error = rpc_error(target.predict_stub().Predict, defect_predict(256), timeout=0.001)
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_large_request_is_accepted(target):
    request = defect_predict(1500)  # ~4.7 MB, over gRPC's 4 MiB default; the server takes up to 2 GiB
    assert request.ByteSize() > 4 * 1024 * 1024
    response = target.predict_stub().Predict(request, timeout=120)
    assert len(response.outputs["class_id"].int64_val) == 1500


def test_classify(target):
    response = target.predict_stub().Classify(classify_request(3), timeout=30)
    assert (response.model_spec.name, response.model_spec.signature_name) == ("defect", "classify")
    assert len(response.result.classifications) == 3
    classes = response.result.classifications[0].classes
    assert [c.label for c in classes] == DEFECT_CLASSES
    assert sum(c.score for c in classes) == pytest.approx(1.0, rel=1e-4)
    empty = classify_request(0)
    assert rpc_error(target.predict_stub().Classify, empty).code() == grpc.StatusCode.INVALID_ARGUMENT


def test_regress_matches_predict(target):
    stub = target.predict_stub()
    response = stub.Regress(regress_request(2), timeout=30)
    assert response.model_spec.signature_name == "regress" and len(response.result.regressions) == 2
    mpg = tf.make_ndarray(stub.Predict(fuel_predict(1), timeout=30).outputs["mpg"])[0]
    assert response.result.regressions[0].value == pytest.approx(float(mpg), rel=1e-5)
    missing = regress_request(1, model="nope")
    assert rpc_error(stub.Regress, missing).code() == grpc.StatusCode.NOT_FOUND


def test_multi_inference(target):
    request = inference_pb2.MultiInferenceRequest()
    request.tasks.add(method_name="tensorflow/serving/regress").model_spec.name = "fuel"
    request.tasks[0].model_spec.signature_name = "regress"
    request.input.CopyFrom(regress_request(2).input)
    response = target.predict_stub().MultiInference(request, timeout=30)
    assert len(response.results) == 1 and len(response.results[0].regression_result.regressions) == 2


def test_get_model_metadata(target):
    stub = target.predict_stub()
    response = stub.GetModelMetadata(metadata_request("defect"), timeout=30)
    assert (response.model_spec.name, response.model_spec.version.value) == ("defect", 1)
    sig_map = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(sig_map)
    image = sig_map.signature_def["serving_default"].inputs["image"]
    assert [d.size for d in image.tensor_shape.dim] == [-1, 28, 28, 1]
    assert sig_map.signature_def["classify"].method_name == "tensorflow/serving/classify"
    no_field = metadata_request("defect")
    del no_field.metadata_field[:]
    assert rpc_error(stub.GetModelMetadata, no_field).code() == grpc.StatusCode.INVALID_ARGUMENT
    other = metadata_request("defect")
    other.metadata_field[0] = "graph"
    assert rpc_error(stub.GetModelMetadata, other).code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rpc_error(stub.GetModelMetadata, metadata_request("nope")).code() == grpc.StatusCode.NOT_FOUND
    assert rpc_error(stub.GetModelMetadata, get_model_metadata_pb2.GetModelMetadataRequest(
        metadata_field=["signature_def"])).details() == "Missing ModelSpec"


def test_get_model_status(target):
    stub = target.model_stub()
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "defect"
    status = stub.GetModelStatus(request, timeout=30).model_version_status
    assert [(s.version, s.state, s.status.error_code, s.status.error_message) for s in status] == [(1, 30, 0, "")]
    request.model_spec.version_label = "ignored"  # TF Serving ignores version_label here
    assert stub.GetModelStatus(request, timeout=30).model_version_status[0].version == 1
    request.model_spec.version.value = 9
    error = rpc_error(stub.GetModelStatus, request)
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "Could not find version 9 of model defect")
    unknown = get_model_status_pb2.GetModelStatusRequest()
    unknown.model_spec.name = "nope"
    error = rpc_error(stub.GetModelStatus, unknown)
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "Could not find any versions of model nope")
    assert rpc_error(stub.GetModelStatus, get_model_status_pb2.GetModelStatusRequest()).details() == "Missing ModelSpec"
