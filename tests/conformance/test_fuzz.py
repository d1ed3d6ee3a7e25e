"""Malformed REST bodies and gRPC requests: no crash, no 5xx/INTERNAL for client errors, and the server
still answers a valid request afterwards."""
from __future__ import annotations

import json

import grpc
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2

from tests.conformance.client import FUEL_FEATURES, FUEL_ROW, fuel_predict

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["instances", "inputs", "signature_name", "examples", "context", "b64", *FUEL_FEATURES,
                         "image", "x"]), children, max_size=4),
    max_leaves=20)
routes = st.sampled_from(["/v1/models/fuel:predict", "/v1/models/defect:predict", "/v1/models/fuel:regress",
                          "/v1/models/defect:classify", "/v1/models/nope:predict", "/v1/models/fuel/versions/9:predict",
                          "/v1/models/fuel/labels/x:predict", "/v1/models/fuel:classify"])
bodies = st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=64),
                   st.builds(lambda rows: json.dumps({"instances": rows}).encode(),
                             st.lists(st.fixed_dictionaries({k: json_values for k in FUEL_FEATURES}), max_size=2)))


def _still_serving(target) -> None:
    assert target.post("/v1/models/fuel:predict", {"instances": [FUEL_ROW]}).status_code == 200
    assert target.predict_stub().Predict(fuel_predict(), timeout=30).outputs["mpg"].float_val


@FUZZ
@given(route=routes, body=bodies)
def test_rest_bodies(target, route, body):
    response = target.post(route, body)
    assert response.status_code in (200, 400, 404), (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    if response.status_code != 200:
        assert isinstance(response.json()["error"], str)


dtypes = st.sampled_from([types_pb2.DT_FLOAT, types_pb2.DT_INT32, types_pb2.DT_STRING, types_pb2.DT_DOUBLE,
                          types_pb2.DT_INT64, types_pb2.DT_BOOL, types_pb2.DT_HALF, types_pb2.DT_RESOURCE, 0, 9999])


@st.composite
def tensors(draw):
    proto = tensor_pb2.TensorProto(dtype=draw(dtypes))
    for size in draw(st.lists(st.integers(-2, 4), max_size=3)):
        proto.tensor_shape.dim.add(size=size)
    proto.tensor_shape.unknown_rank = draw(st.booleans()) and draw(st.booleans())
    choice = draw(st.integers(0, 3))
    if choice == 0:
        proto.tensor_content = draw(st.binary(max_size=40))
    elif choice == 1:
        proto.float_val.extend(draw(st.lists(st.floats(width=32), max_size=6)))
    elif choice == 2:
        proto.string_val.extend(draw(st.lists(st.binary(max_size=8), max_size=3)))
    else:
        proto.int_val.extend(draw(st.lists(st.integers(-2**31, 2**31 - 1), max_size=6)))
    return proto


@st.composite
def predict_requests(draw):
    request = predict_pb2.PredictRequest()
    if draw(st.booleans()):
        request.model_spec.name = draw(st.sampled_from(["fuel", "defect", "", "nope"]))
        request.model_spec.signature_name = draw(st.sampled_from(["", "serving_default", "regress", "classify", "x"]))
        if draw(st.booleans()):
            request.model_spec.version.value = draw(st.integers(-1, 3))
    names = draw(st.lists(st.sampled_from([*FUEL_FEATURES, "image", "inputs", "x"]), max_size=8, unique=True))
    for name in names:
        request.inputs[name].CopyFrom(draw(tensors()))
    request.output_filter.extend(draw(st.lists(st.sampled_from(["mpg", "class_id", "nope"]), max_size=2)))
    return request


@FUZZ
@given(request=predict_requests())
def test_grpc_predict_requests(target, request):
    try:
        target.predict_stub().Predict(request, timeout=30)
    except grpc.RpcError as exc:
        assert exc.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                              grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNIMPLEMENTED), \
            (exc.code(), exc.details())


@FUZZ
@given(raw=st.binary(max_size=200))
def test_grpc_garbage_bytes(target, raw):
    channel = target.channel()
    call = channel.unary_unary("/tensorflow.serving.PredictionService/Predict",
                               request_serializer=lambda b: b, response_deserializer=lambda b: b)
    try:
        call(raw, timeout=30)
    except grpc.RpcError as exc:
        assert exc.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                              grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INTERNAL), exc.details()
        if exc.code() == grpc.StatusCode.INTERNAL:  # only an unparsable message may be INTERNAL (gRPC's own)
            assert "parse" in (exc.details() or "").lower() or "deserial" in (exc.details() or "").lower()
    finally:
        channel.close()


def test_still_serving_after_fuzzing(target):
    _still_serving(target)
    assert np.isfinite(target.predict_stub().Predict(fuel_predict(32), timeout=30).outputs["mpg"].float_val).all()
