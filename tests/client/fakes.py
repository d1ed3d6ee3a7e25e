"""Scriptable in-process TF Serving stand-ins for client unit tests (retry, deadline, TLS, REST).

They speak the wire format through ``serving.protocol`` (no TensorFlow), answer Predict
by doubling every numeric input, and record what they received. ``script`` holds status codes
to return, one per incoming call, before answering normally.
"""
from __future__ import annotations

import dataclasses
import json
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import numpy as np

from serving.protocol import messages
from serving.protocol.dtypes import DT_FLOAT
from serving.protocol.tensors import to_ndarray, to_tensor_proto

_PS = "/tensorflow.serving.PredictionService/"


@dataclasses.dataclass
class Behaviour:
    script: list[str] = dataclasses.field(default_factory=list)  # codes to return first, in order
    delay_seconds: float = 0.0
    calls: int = 0
    requests: list[bytes] = dataclasses.field(default_factory=list)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def next_failure(self) -> str | None:
        with self.lock:
            self.calls += 1
            return self.script.pop(0) if self.script else None


def _predict(request) -> object:
    response = messages.PredictResponse()
    response.model_spec.name = request.model_spec.name
    response.model_spec.version.value = 1
    response.model_spec.signature_name = request.model_spec.signature_name or "serving_default"
    for name, tensor in request.inputs.items():
        array = to_ndarray(tensor)
        to_tensor_proto(array * 2 if array.dtype != object else array, proto=response.outputs[name])
    return response


def _metadata(request) -> object:
    response = messages.GetModelMetadataResponse()
    response.model_spec.name = request.model_spec.name
    response.model_spec.version.value = 1
    sigmap = messages.SignatureDefMap()
    sig = sigmap.signature_def["serving_default"]
    sig.method_name = "tensorflow/serving/predict"
    for key in ("inputs", "outputs"):
        info = getattr(sig, key)["x"]
        info.name, info.dtype = "x:0", DT_FLOAT
        info.tensor_shape.dim.add(size=-1)
    response.metadata["signature_def"].Pack(sigmap)
    return response


class FakeGrpcServer:
    """``with FakeGrpcServer(port, behaviour) as server: ...`` on 127.0.0.1."""

    def __init__(self, port: int, behaviour: Behaviour, credentials: grpc.ServerCredentials | None = None,
                 host: str = "127.0.0.1") -> None:
        self.port, self.behaviour = port, behaviour
        handlers = {
            "Predict": (messages.PredictRequest, _predict),
            "GetModelMetadata": (messages.GetModelMetadataRequest, _metadata),
        }
        methods = {name: grpc.unary_unary_rpc_method_handler(
            self._wrap(fn), request_deserializer=lambda b, cls=cls: (cls.FromString(b), b),
            response_serializer=lambda m: m.SerializeToString()) for name, (cls, fn) in handlers.items()}
        # so_reuseport off: two stand-ins on different loopback addresses must not share a socket
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=[("grpc.so_reuseport", 0)])
        self.server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
            "tensorflow.serving.PredictionService", methods)])
        address = f"{host}:{port}"
        if credentials is None:
            self.server.add_insecure_port(address)
        else:
            self.server.add_secure_port(address, credentials)

    def _wrap(self, fn):
        def handle(pair, context: grpc.ServicerContext):
            request, raw = pair
            with self.behaviour.lock:
                self.behaviour.requests.append(raw)
            failure = self.behaviour.next_failure()
            if failure:
                context.abort(getattr(grpc.StatusCode, failure), f"scripted {failure}")
            if self.behaviour.delay_seconds:
                time.sleep(self.behaviour.delay_seconds)  # simulated slow model, not synchronisation
            return fn(request)
        return handle

    def __enter__(self) -> "FakeGrpcServer":
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop(grace=None)


class FakeRestServer:
    """TF Serving REST shapes for ``/v1/models/<m>[...]:predict`` and ``/metadata``; ``script`` holds HTTP codes."""

    def __init__(self, port: int, behaviour: Behaviour) -> None:
        behaviour_ref = behaviour

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                x = {"x": {"dtype": "DT_FLOAT", "tensor_shape": {"dim": [{"size": "-1"}]}}}
                self._send(200, {"model_spec": {"name": "m", "version": "1"}, "metadata": {"signature_def": {
                    "signature_def": {"serving_default": {"method_name": "tensorflow/serving/predict",
                                                          "inputs": x, "outputs": x}}}}})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with behaviour_ref.lock:
                    behaviour_ref.requests.append(self.path.encode() + b" " + raw)
                failure = behaviour_ref.next_failure()
                if failure:
                    self._send(int(failure), {"error": f"scripted {failure}"})
                    return
                if behaviour_ref.delay_seconds:
                    time.sleep(behaviour_ref.delay_seconds)  # simulated slow model
                body = json.loads(raw)
                self._send(200, {"outputs": {k: (np.asarray(v) * 2).tolist() for k, v in body["inputs"].items()}})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port, self.behaviour = port, behaviour

    def __enter__(self) -> "FakeRestServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
