"""Helpers shared by the server's tests: request builders (official tensorflow-serving-api messages, as
a third-party client sends them), and raw-socket HTTP with an echoing API for the REST server."""
from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import numpy as np
from tensorflow_serving.apis import predict_pb2

from serving.server.rest import HttpAnswer, HttpRequest
from serving.server.rest_server import RestServer
from tests.server.tinymodels import FUEL_FEATURES


def write_config(path: Path, store: Path, models=("fuel", "defect"), extra: dict[str, str] | None = None) -> Path:
    parts = []
    for name in models:
        parts.append(f'config {{ name: "{name}" base_path: "{store / name}" model_platform: "tensorflow" '
                     f'{(extra or {}).get(name, "")} }}')
    path.write_text("model_config_list { " + " ".join(parts) + " }")
    return path


def fuel_request(n: int = 1, **spec) -> predict_pb2.PredictRequest:
    req = predict_pb2.PredictRequest()
    req.model_spec.name = spec.pop("name", "fuel")
    for key, value in spec.items():
        if key == "version":
            req.model_spec.version.value = value
        else:
            setattr(req.model_spec, key, value)
    import tensorflow as tf

    for feature in FUEL_FEATURES:
        req.inputs[feature].CopyFrom(tf.make_tensor_proto(np.ones(n, np.float32)))
    return req


def fuel_instance(value: float = 1.0) -> dict:
    return {feature: value for feature in FUEL_FEATURES}


class Echo:
    """Answers the request it got: method, path and body length; ``gate`` holds answers back."""

    def __init__(self) -> None:
        self.seen: list[HttpRequest] = []
        self.gate = threading.Event()
        self.gate.set()

    def handle(self, request: HttpRequest) -> HttpAnswer:
        self.gate.wait(30)
        self.seen.append(request)
        body = {"method": request.method, "path": request.path, "length": len(request.body)}
        return HttpAnswer(200, json.dumps(body).encode())


def connect(server: RestServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def read_answer(sock: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One answer from ``sock`` (more may stay in ``buffer``)."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before an answer; got {bytes(buffer)!r}")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-answer")
        rest += chunk
    buffer[:] = rest[length:]
    return int(lines[0].split()[1]), headers, rest[:length]


def closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
