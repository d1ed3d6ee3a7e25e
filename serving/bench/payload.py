"""The one request a bench repeats, encoded once: PredictRequest bytes for gRPC, a raw HTTP/1.1
request for REST. Inputs come from ``--json`` or are synthesised from the signature.

>>> from serving.client.results import Signature, TensorSpec
>>> sig = Signature("serving_default", "", {"x": TensorSpec("DT_FLOAT", (-1, 3))}, {})
>>> synthesize(sig, batch=2)["x"].shape
(2, 3)
"""
from __future__ import annotations

import dataclasses
import json
import urllib.parse
from typing import Any

import numpy as np

from serving.client.files import read_json
from serving.client.grpc_client import fill_model_spec
from serving.client.results import Signature
from serving.client.rest_client import json_value, model_path
from serving.client.settings import ModelRef
from serving.protocol import messages
from serving.protocol.tensors import to_tensor_proto

__all__ = ["Payload", "synthesize", "build_payload", "load_inputs", "PREDICT_PATH"]

PREDICT_PATH = "/tensorflow.serving.PredictionService/Predict"


@dataclasses.dataclass(frozen=True)
class Payload:
    grpc_request: bytes  # serialized PredictRequest
    http_request: bytes  # full HTTP/1.1 request, headers and body
    http_path: str
    http_body: bytes


def synthesize(sig: Signature, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random inputs shaped like the signature, with -1 dims set to ``batch``."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, spec in sig.inputs.items():
        shape = tuple(batch if d < 0 else d for d in (spec.shape or (-1,)))
        if spec.dtype == "DT_STRING":
            out[name] = np.full(shape, b"x", dtype=object)
        elif spec.numpy_dtype.kind == "f":
            out[name] = rng.random(shape).astype(spec.numpy_dtype)
        else:
            out[name] = rng.integers(0, 2, shape).astype(spec.numpy_dtype)
    return out


def build_payload(target: str, ref: ModelRef, inputs: dict[str, np.ndarray]) -> Payload:
    request = messages.PredictRequest()
    fill_model_spec(request.model_spec, ref)
    for name, array in inputs.items():
        to_tensor_proto(array, proto=request.inputs[name])
    path = model_path(ref) + ":predict"
    body = json.dumps({"signature_name": ref.signature,
                       "inputs": {k: json_value(v) for k, v in inputs.items()}}).encode()
    host = urllib.parse.urlsplit(target).netloc if target.startswith(("http://", "https://")) else target
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return Payload(request.SerializeToString(), head + body, path, body)


def load_inputs(path: Any, sig: Signature) -> dict[str, np.ndarray]:
    """Inputs from a JSON file in any form ``plantserve predict --json`` takes."""
    return read_json(path, sig).inputs
