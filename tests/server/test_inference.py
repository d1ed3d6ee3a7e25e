"""Inference on protos without a front end: model spec echo, output filter, classify/regress results."""
import numpy as np
import pytest
from tensorflow_serving.apis import get_model_status_pb2, predict_pb2

from serving.server.examples import serialized_examples
from serving.server.inference import Inference
from serving.server.manager import LoadSettings, ModelManager
from serving.server.metrics import ServingMetrics
from serving.server.servable import load_servable
from serving.server.status import Code, ServingError
from tests.server.helpers import fuel_request


@pytest.fixture(scope="module")
def fuel(tiny_store):
    return load_servable("fuel", 1, str(tiny_store / "fuel" / "1"), ("serve",))


@pytest.fixture
def inference():
    metrics = ServingMetrics()
    manager = ModelManager(lambda *a: None, LoadSettings())
    return Inference(manager, manager.monitor, metrics, as_tensor_content=True)


def test_predict_with_an_explicit_servable(inference, fuel):
    response = inference.run_predict(fuel_request(2), servable=fuel)
    assert response.model_spec.version.value == 1 and response.model_spec.signature_name == "serving_default"
    out = response.outputs["mpg"]
    assert out.tensor_content and np.frombuffer(out.tensor_content, np.float32).shape == (2,)
    assert inference.metrics.runtime_latency.count("fuel", "Predict", "TF1") == 1


def test_element_limit_refuses_before_decoding(fuel):
    metrics = ServingMetrics()
    manager = ModelManager(lambda *a: None, LoadSettings())
    small = Inference(manager, manager.monitor, metrics, max_request_elements=10)
    request = fuel_request(1)
    request.inputs["weight"].Clear()
    request.inputs["weight"].dtype = 1
    request.inputs["weight"].tensor_shape.dim.add(size=2**40)  # 4 TiB of floats, declared in a few bytes
    request.inputs["weight"].float_val.append(1.0)
    with pytest.raises(ServingError) as info:
        small.run_predict(request, servable=fuel)
    assert info.value.code == Code.INVALID_ARGUMENT and "--max_request_elements" in info.value.message
    assert small.run_predict(fuel_request(1), servable=fuel).outputs["mpg"].float_val  # 7 elements pass
    with pytest.raises(ServingError, match="--max_request_elements"):
        small.run_predict(fuel_request(2), servable=fuel)  # 14 do not
    assert small.run_predict(fuel_request(2), servable=fuel, limit=14).outputs["mpg"].float_val


def test_shapes_are_tensorflows_business(inference, fuel):
    import tensorflow as tf

    request = fuel_request(3)
    response = inference.run_predict(request, servable=fuel)
    assert tf.make_ndarray(response.outputs["mpg"]).shape == (3,)
    request.inputs["weight"].CopyFrom(tf.make_tensor_proto(np.ones((3, 1), np.float32)))  # against [None]
    with pytest.raises(ServingError) as info:
        inference.run_predict(request, servable=fuel)
    assert info.value.code == Code.INVALID_ARGUMENT and "Shapes of all inputs must match" in info.value.message


def test_duplicate_output_filter(inference, fuel):
    request = fuel_request()
    request.output_filter.extend(["mpg", "mpg"])
    with pytest.raises(ServingError, match="duplicate output tensor alias: mpg"):
        inference.run_predict(request, servable=fuel)


def test_expired_deadline(inference, fuel):
    with pytest.raises(ServingError) as info:
        inference.run_predict(fuel_request(), deadline=0.0, servable=fuel)
    assert info.value.code == Code.DEADLINE_EXCEEDED


def test_missing_model_spec_and_status(inference):
    with pytest.raises(ServingError, match="Missing ModelSpec"):
        inference.run_predict(predict_pb2.PredictRequest())
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "fuel"
    with pytest.raises(ServingError, match="Could not find any versions of model fuel"):
        inference.run_status(request)


def test_serialized_examples_merge_context():
    from tensorflow_serving.apis import input_pb2

    inp = input_pb2.Input()
    inp.example_list_with_context.context.features.feature["a"].int64_list.value.append(1)
    inp.example_list_with_context.examples.add().features.feature["b"].int64_list.value.append(2)
    import tensorflow as tf

    merged = tf.train.Example.FromString(serialized_examples(inp)[0])
    assert set(merged.features.feature) == {"a", "b"}
    with pytest.raises(ServingError, match="Input is empty."):
        serialized_examples(input_pb2.Input())
