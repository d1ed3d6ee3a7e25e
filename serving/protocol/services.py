"""TF Serving's two gRPC services by method path, for both ends of a channel.

- ``PredictionService``: Classify, Regress, Predict, MultiInference, GetModelMetadata
  (apis/prediction_service.proto);
- ``ModelService``: GetModelStatus, HandleReloadConfigRequest (apis/model_service.proto).

Clients call :class:`PredictionServiceStub` / :class:`ModelServiceStub` (or :func:`unary_stub` for
one method); a server registers an object with the methods' names through :func:`add_servicer`.

>>> PREDICT.path
'/tensorflow.serving.PredictionService/Predict'
>>> sorted(m.name for m in SERVICES[MODEL_SERVICE])
['GetModelStatus', 'HandleReloadConfigRequest']
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import grpc

from serving.protocol import messages as pb

__all__ = ["Method", "PREDICTION_SERVICE", "MODEL_SERVICE", "CLASSIFY", "REGRESS", "PREDICT", "MULTI_INFERENCE",
           "GET_MODEL_METADATA", "GET_MODEL_STATUS", "HANDLE_RELOAD_CONFIG", "SERVICES", "METHODS", "unary_stub",
           "PredictionServiceStub", "ModelServiceStub", "add_servicer"]

PREDICTION_SERVICE = "tensorflow.serving.PredictionService"
MODEL_SERVICE = "tensorflow.serving.ModelService"


@dataclasses.dataclass(frozen=True)
class Method:
    service: str
    name: str
    request: type[pb.Message]
    response: type[pb.Message]

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"


CLASSIFY = Method(PREDICTION_SERVICE, "Classify", pb.ClassificationRequest, pb.ClassificationResponse)
REGRESS = Method(PREDICTION_SERVICE, "Regress", pb.RegressionRequest, pb.RegressionResponse)
PREDICT = Method(PREDICTION_SERVICE, "Predict", pb.PredictRequest, pb.PredictResponse)
MULTI_INFERENCE = Method(PREDICTION_SERVICE, "MultiInference", pb.MultiInferenceRequest, pb.MultiInferenceResponse)
GET_MODEL_METADATA = Method(PREDICTION_SERVICE, "GetModelMetadata", pb.GetModelMetadataRequest,
                            pb.GetModelMetadataResponse)
GET_MODEL_STATUS = Method(MODEL_SERVICE, "GetModelStatus", pb.GetModelStatusRequest, pb.GetModelStatusResponse)
HANDLE_RELOAD_CONFIG = Method(MODEL_SERVICE, "HandleReloadConfigRequest", pb.ReloadConfigRequest,
                              pb.ReloadConfigResponse)

#: service name -> its methods, in the order the .proto declares them
SERVICES: dict[str, tuple[Method, ...]] = {
    PREDICTION_SERVICE: (CLASSIFY, REGRESS, PREDICT, MULTI_INFERENCE, GET_MODEL_METADATA),
    MODEL_SERVICE: (GET_MODEL_STATUS, HANDLE_RELOAD_CONFIG),
}
#: method path -> method
METHODS: dict[str, Method] = {m.path: m for methods in SERVICES.values() for m in methods}


def unary_stub(channel: grpc.Channel | Any, method: Method) -> Callable[..., Any]:
    """A callable ``(request, timeout=..., metadata=...) -> response`` on ``channel`` (sync or
    ``grpc.aio``)."""
    return channel.unary_unary(method.path, request_serializer=method.request.SerializeToString,
                               response_deserializer=method.response.FromString)


class PredictionServiceStub:
    def __init__(self, channel: grpc.Channel) -> None:
        self.Classify = unary_stub(channel, CLASSIFY)
        self.Regress = unary_stub(channel, REGRESS)
        self.Predict = unary_stub(channel, PREDICT)
        self.MultiInference = unary_stub(channel, MULTI_INFERENCE)
        self.GetModelMetadata = unary_stub(channel, GET_MODEL_METADATA)


class ModelServiceStub:
    def __init__(self, channel: grpc.Channel) -> None:
        self.GetModelStatus = unary_stub(channel, GET_MODEL_STATUS)
        self.HandleReloadConfigRequest = unary_stub(channel, HANDLE_RELOAD_CONFIG)


def _unimplemented(request: Any, context: grpc.ServicerContext) -> Any:
    context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")


def add_servicer(server: grpc.Server, service: str, servicer: object) -> None:
    """Serve ``service`` on ``server`` with ``servicer``'s methods of the same names
    (``servicer.Predict(request, context)``...); a method it lacks answers UNIMPLEMENTED."""
    handlers = {
        m.name: grpc.unary_unary_rpc_method_handler(getattr(servicer, m.name, _unimplemented),
                                                    request_deserializer=m.request.FromString,
                                                    response_serializer=m.response.SerializeToString)
        for m in SERVICES[service]}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    register = getattr(server, "add_registered_method_handlers", None)  # grpcio >= 1.62: a faster lookup
    if register is not None:
        register(service, handlers)
