"""plantserve's client for plant systems: TF Serving over gRPC or REST, without TensorFlow.

Needs only grpcio, protobuf and numpy (``pip install plantserve[client]``).

>>> from serving.client import PredictClient, ModelNotFound   # doctest: +SKIP
>>> with PredictClient("dns:///plantserve-grpc.plant.svc:8500") as client:   # doctest: +SKIP
...     mpg = client.predict("fuel", rows)["mpg"]                               # label "stable"
"""
from __future__ import annotations

from serving.client.errors import (ClientError, DeadlineExceeded, FailedPrecondition, InvalidInput,
                                   ModelNotFound, PermissionDenied, ResourceExhausted, ServerError,
                                   Unavailable, Unimplemented)
from serving.client.explain import Explanations, FeatureExplanation, MapExplanation, Trust
from serving.client.grpc_client import PredictClient
from serving.client.rest_client import RestClient
from serving.client.results import ModelMetadata, Prediction, Signature, TensorSpec, VersionStatus
from serving.client.settings import DEFAULT_LABEL, LATEST, ClientSettings, ModelRef
from serving.protocol.tensors import to_ndarray, to_tensor_proto

__all__ = [
    "PredictClient", "RestClient", "ClientSettings", "ModelRef", "DEFAULT_LABEL", "LATEST",
    "ModelMetadata", "Prediction", "Explanations", "FeatureExplanation", "MapExplanation", "Trust", "Signature", "TensorSpec", "VersionStatus", "to_tensor_proto", "to_ndarray",
    "ClientError", "ModelNotFound", "InvalidInput", "FailedPrecondition", "Unavailable",
    "DeadlineExceeded", "ResourceExhausted", "PermissionDenied", "Unimplemented", "ServerError",
]
