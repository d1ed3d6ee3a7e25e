"""Method paths against the official service descriptors, and real gRPC calls on loopback in every
pairing: our stubs and the official ones, against a server registered with ours or the official one."""
from __future__ import annotations

from concurrent import futures

import grpc
import numpy as np
import pytest

from serving.protocol import messages, services
from serving.protocol.tensors import to_ndarray, to_tensor_proto


def test_services_and_paths_match_the_official_descriptors() -> None:
    from tensorflow_serving.apis import model_service_pb2, prediction_service_pb2

    for module in (prediction_service_pb2, model_service_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            ours = services.SERVICES[service.full_name]
            assert [(m.name, m.request.DESCRIPTOR.full_name, m.response.DESCRIPTOR.full_name) for m in ours] == [
                (m.name, m.input_type.full_name, m.output_type.full_name) for m in service.methods]
    assert set(services.METHODS) == {f"/{s}/{m.name}" for s, ms in services.SERVICES.items() for m in ms}


class Doubler:
    """Predict doubles input ``x``; GetModelStatus answers one AVAILABLE version; nothing else."""

    def Predict(self, request, context):  # noqa: N802 - gRPC method names
        response = messages.PredictResponse()
        response.model_spec.name = request.model_spec.name
        to_tensor_proto(to_ndarray(request.inputs["x"]) * 2, proto=response.outputs["y"])
        return response

    def GetModelStatus(self, request, context):  # noqa: N802
        response = messages.GetModelStatusResponse()
        response.model_version_status.add(version=3, state=30)
        return response


@pytest.fixture(scope="module")
def ours_server():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    services.add_servicer(server, services.PREDICTION_SERVICE, Doubler())
    services.add_servicer(server, services.MODEL_SERVICE, Doubler())
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


def test_our_stubs_against_our_servicer(ours_server) -> None:
    with grpc.insecure_channel(ours_server) as channel:
        request = messages.PredictRequest()
        request.model_spec.name = "fuel"
        to_tensor_proto(np.array([1.0, 2.0], np.float32), proto=request.inputs["x"])
        response = services.PredictionServiceStub(channel).Predict(request, timeout=10)
        assert to_ndarray(response.outputs["y"]).tolist() == [2.0, 4.0]
        status = services.ModelServiceStub(channel).GetModelStatus(messages.GetModelStatusRequest(), timeout=10)
        assert status.model_version_status[0].state == 30


def test_a_method_the_servicer_lacks_is_unimplemented(ours_server) -> None:
    with grpc.insecure_channel(ours_server) as channel:
        with pytest.raises(grpc.RpcError) as info:
            services.PredictionServiceStub(channel).Classify(messages.ClassificationRequest(), timeout=10)
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_official_stubs_against_our_servicer(ours_server) -> None:
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    with grpc.insecure_channel(ours_server) as channel:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "fuel"
        request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([3.0], np.float32)))
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=10)
    assert tf.make_ndarray(response.outputs["y"]).tolist() == [6.0]


def test_our_stubs_against_the_official_registration() -> None:
    from tensorflow_serving.apis import model_service_pb2_grpc

    class Official(model_service_pb2_grpc.ModelServiceServicer):
        def GetModelStatus(self, request, context):  # noqa: N802
            from tensorflow_serving.apis import get_model_status_pb2

            response = get_model_status_pb2.GetModelStatusResponse()
            response.model_version_status.add(version=int(request.model_spec.version.value), state=50)
            return response

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(Official(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            request = messages.GetModelStatusRequest()
            request.model_spec.version.value = 7
            response = services.ModelServiceStub(channel).GetModelStatus(request, timeout=10)
    finally:
        server.stop(0)
    assert [(s.version, s.state) for s in response.model_version_status] == [(7, 50)]
