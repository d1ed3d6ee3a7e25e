"""The gRPC front end against an in-process server on tiny models."""
import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2, get_model_status_pb2,
                                     inference_pb2, model_management_pb2, model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc, regression_pb2)

from serving.server.grpc_api import parse_channel_arguments
from tests.server.helpers import fuel_request, write_config
from tests.server.tinymodels import DEFECT_CLASSES


@pytest.fixture
def stubs(inproc_server, tiny_store, tmp_path):
    server = inproc_server(f"--model_config_file={write_config(tmp_path / 'models.conf', tiny_store)}")
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    yield (prediction_service_pb2_grpc.PredictionServiceStub(channel),
           model_service_pb2_grpc.ModelServiceStub(channel), server)
    channel.close()


def _code(call, request):
    with pytest.raises(grpc.RpcError) as info:
        call(request, timeout=10)
    return info.value.code(), info.value.details()


def test_predict_echoes_model_spec_and_uses_typed_fields(stubs):
    predict, _, _ = stubs
    response = predict.Predict(fuel_request(3), timeout=10)
    assert (response.model_spec.name, response.model_spec.version.value,
            response.model_spec.signature_name) == ("fuel", 1, "serving_default")
    assert len(response.outputs["mpg"].float_val) == 3 and not response.outputs["mpg"].tensor_content
    assert tf.make_ndarray(response.outputs["mpg"]).shape == (3,)


def test_predict_errors(stubs):
    predict, _, _ = stubs
    assert _code(predict.Predict, predict_pb2.PredictRequest()) == (grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")
    assert _code(predict.Predict, fuel_request(name="nope"))[0] == grpc.StatusCode.NOT_FOUND
    assert _code(predict.Predict, fuel_request(version=9))[0] == grpc.StatusCode.NOT_FOUND
    code, msg = _code(predict.Predict, fuel_request(signature_name="nope"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and msg == 'Serving signature key "nope" not found.'
    req = fuel_request()
    del req.inputs["origin"]
    code, msg = _code(predict.Predict, req)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and msg.startswith("input size does not match signature: 6!=7")
    req = fuel_request()
    req.inputs["origin"].CopyFrom(tf.make_tensor_proto(np.ones(1, np.int32)))
    assert _code(predict.Predict, req)[0] == grpc.StatusCode.INVALID_ARGUMENT
    req = fuel_request()
    req.output_filter.append("nope")
    assert "output tensor alias not found in signature: nope" in _code(predict.Predict, req)[1]


def test_classify_regress_multi(stubs):
    predict, _, _ = stubs
    image = tf.train.Example(features=tf.train.Features(feature={
        "image": tf.train.Feature(float_list=tf.train.FloatList(value=[0.5] * 784))}))
    creq = classification_pb2.ClassificationRequest()
    creq.model_spec.name, creq.model_spec.signature_name = "defect", "classify"
    creq.input.example_list.examples.append(image)
    result = predict.Classify(creq, timeout=10).result
    assert [c.label for c in result.classifications[0].classes] == list(DEFECT_CLASSES)
    assert abs(sum(c.score for c in result.classifications[0].classes) - 1.0) < 1e-4
    creq.input.Clear()
    assert _code(predict.Classify, creq) == (grpc.StatusCode.INVALID_ARGUMENT, "Input is empty.")
    fuel = tf.train.Example(features=tf.train.Features(feature={
        n: tf.train.Feature(float_list=tf.train.FloatList(value=[1.0])) for n in
        ("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin")}))
    rreq = regression_pb2.RegressionRequest()
    rreq.model_spec.name, rreq.model_spec.signature_name = "fuel", "regress"
    rreq.input.example_list.examples.append(fuel)
    value = predict.Regress(rreq, timeout=10).result.regressions[0].value
    predicted = predict.Predict(fuel_request(1), timeout=10).outputs["mpg"].float_val[0]
    assert value == pytest.approx(predicted, rel=1e-5)
    mreq = inference_pb2.MultiInferenceRequest()
    mreq.tasks.add(model_spec=rreq.model_spec, method_name="tensorflow/serving/regress")
    mreq.input.CopyFrom(rreq.input)
    assert predict.MultiInference(mreq, timeout=10).results[0].regression_result.regressions[0].value == value


def test_metadata_and_status(stubs):
    predict, model, _ = stubs
    req = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    req.model_spec.name = "fuel"
    sig_map = get_model_metadata_pb2.SignatureDefMap()
    predict.GetModelMetadata(req, timeout=10).metadata["signature_def"].Unpack(sig_map)
    assert sig_map.signature_def["regress"].method_name == "tensorflow/serving/regress"
    del req.metadata_field[:]
    assert "at least one metadata_field" in _code(predict.GetModelMetadata, req)[1]
    sreq = get_model_status_pb2.GetModelStatusRequest()
    sreq.model_spec.name = "fuel"
    status = model.GetModelStatus(sreq, timeout=10).model_version_status[0]
    assert (status.version, status.state, status.status.error_message) == (1, 30, "")
    sreq.model_spec.version.value = 7
    assert _code(model.GetModelStatus, sreq) == (grpc.StatusCode.NOT_FOUND, "Could not find version 7 of model fuel")


def test_reload_rejects_non_list_config(stubs):
    _, model, _ = stubs
    req = model_management_pb2.ReloadConfigRequest()
    req.config.custom_model_config.Pack(get_model_status_pb2.GetModelStatusRequest())
    code, msg = _code(model.HandleReloadConfigRequest, req)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "Only ModelConfigList is currently supported" in msg


def test_channel_arguments_parse_like_tf_serving():
    assert parse_channel_arguments("grpc.max_connection_age_ms=1000,grpc.x=abc,broken") == [
        ("grpc.max_connection_age_ms", 1000), ("grpc.x", "abc")]
