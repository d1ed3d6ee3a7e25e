"""Hostile input against ``plantserve serve`` (issue 11, items 4 to 6): the server's peak RSS, read
from /proc, stays within the configured limit plus 64 MiB for any one hostile request, REST or gRPC;
gRPC keeps answering while a huge REST body arrives; and 6,000 idle REST connections leave it
answering within a second of their closing.

Stand-in only: TF Serving has neither ``--rest_api_max_body_bytes`` nor ``--max_request_elements``,
and the tests read the server process's memory.
"""
from __future__ import annotations

import contextlib
import gzip
import json
import resource
import socket
import threading
import time
import zlib
from typing import Callable

import grpc
import numpy as np
import pytest
import requests
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from tests.conformance.client import FUEL_ROW, fuel_predict, rpc_error
from tests.conformance.conftest import start_plantserve

MIB = 1 << 20
BODY_LIMIT = 4 * MIB
ELEMENT_LIMIT = 1 << 20
SLACK = 64 * MIB
IDLE_CONNECTIONS = 6000


def _status(pid: int, key: str) -> int:
    """A ``/proc/PID/status`` size in bytes (VmRSS, VmHWM)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def _peak_growth(pid: int, action: Callable[[], None], label: str = "") -> int:
    """How far the process's peak RSS rises above its RSS before ``action`` (the peak is reset first);
    printed for ``pytest -s``."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    before = _status(pid, "VmRSS")
    action()
    growth = _status(pid, "VmHWM") - before
    print(f"peak RSS growth, {label}: {growth / MIB:.1f} MiB")
    return growth


@pytest.fixture
def server(standin_store, tmp_path):
    proc, grpc_port, rest_port = start_plantserve(standin_store, tmp_path, f"--rest_api_max_body_bytes={BODY_LIMIT}",
                                                  f"--max_request_elements={ELEMENT_LIMIT}")
    try:
        rest = f"http://127.0.0.1:{rest_port}"
        assert requests.post(rest + "/v1/models/fuel:predict", json={"instances": [FUEL_ROW]}, timeout=30).ok
        yield proc, grpc_port, rest_port
    finally:
        proc.stop()


def _answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed without an answer: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split()[1]), body


def _post_raw(port: int, head: bytes, body_chunks=()) -> tuple[int, bytes]:
    """Send ``head`` and stream ``body_chunks`` (stopping when the server hangs up); return its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for chunk in body_chunks:
                sock.sendall(chunk)
        return _answer(sock)


def _zeros(total: int, size: int = MIB):
    for _ in range(total // size):
        yield b"0" * size


def _gzip_bomb(inflated: int) -> bytes:
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * MIB
    return b"".join(deflate.compress(chunk) for _ in range(inflated // MIB)) + deflate.flush()


def test_large_rest_bodies_are_refused_unread_and_grpc_keeps_answering(server):
    proc, grpc_port, rest_port = server
    pid = proc.popen.pid
    failures: list[str] = []
    stop = threading.Event()

    def grpc_traffic() -> None:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(f"127.0.0.1:{grpc_port}"))
        while not stop.is_set():
            try:
                stub.Predict(fuel_predict(), timeout=5)
            except grpc.RpcError as exc:
                failures.append(f"{exc.code()}: {exc.details()}")

    traffic = threading.Thread(target=grpc_traffic)
    traffic.start()
    try:
        huge = 10**12
        cases = {
            "Content-Length of 10^12": (f"POST /v1/models/fuel:predict HTTP/1.1\r\nContent-Length: {huge}\r\n\r\n"
                                        .encode(), ()),
            "200 MB body": (f"POST /v1/models/fuel:predict HTTP/1.1\r\nContent-Length: {200 * MIB}\r\n\r\n".encode(),
                            _zeros(200 * MIB)),
            "200 MB chunked body": (b"POST /v1/models/fuel:predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                                    (b"100000\r\n" + c + b"\r\n" for c in _zeros(200 * MIB))),
        }
        bomb = _gzip_bomb(512 * MIB)
        assert len(bomb) < BODY_LIMIT
        cases["gzip bomb (512 MiB inflated)"] = (
            f"POST /v1/models/fuel:predict HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: {len(bomb)}\r\n\r\n"
            .encode() + bomb, ())
        for name, (head, body) in cases.items():
            answers: list[tuple[int, bytes]] = []
            try:
                growth = _peak_growth(pid, lambda: answers.append(_post_raw(rest_port, head, body)), name)
            except OSError as exc:
                raise AssertionError(f"{name}: no answer ({exc!r})") from exc
            status, text = answers[0]
            assert growth <= BODY_LIMIT + SLACK, f"{name}: peak RSS +{growth / MIB:.0f} MiB"
            assert status == 413, (name, text)
            assert "--rest_api_max_body_bytes" in json.loads(text)["error"]
    finally:
        stop.set()
        traffic.join(60)
    assert failures == []


def test_a_body_at_the_limit_is_served_within_the_limit(server):
    """The most a REST body may cost: one just under both limits, of JSON floats (a Python object each
    while parsed), to a model that takes them all (``legacy``: one float input) and answers as many."""
    proc, _, rest_port = server
    values = ",".join(["1.5"] * min(ELEMENT_LIMIT, (BODY_LIMIT - 100) // 4))
    body = ('{"instances": [' + values + "]}").encode()
    assert len(body) <= BODY_LIMIT
    answers = []
    growth = _peak_growth(proc.popen.pid, lambda: answers.append(
        requests.post(f"http://127.0.0.1:{rest_port}/v1/models/legacy:predict", data=body, timeout=120)),
        "a REST body at the limit")
    assert answers[0].status_code == 200, answers[0].text[:200]
    assert len(answers[0].json()["predictions"]) == body.count(b",") + 1
    assert growth <= BODY_LIMIT + SLACK, f"peak RSS +{growth / MIB:.0f} MiB"


def _declaring(dtype: int, elements: int, **values) -> tensor_pb2.TensorProto:
    proto = tensor_pb2.TensorProto(dtype=dtype, **values)
    proto.tensor_shape.dim.add(size=elements)
    return proto


def test_tiny_grpc_requests_declaring_huge_tensors_allocate_nothing(server):
    """66 bytes can declare 2^29 floats "from one value": refused from the shape alone."""
    proc, grpc_port, _ = server
    stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(f"127.0.0.1:{grpc_port}"))
    hostile = {
        "2^29 floats from one value": _declaring(types_pb2.DT_FLOAT, 2**29, float_val=[1.0]),
        "2^31 floats, no values": _declaring(types_pb2.DT_FLOAT, 2**31),
        "2^28 floats as [2^14, 2^14]": _declaring(types_pb2.DT_FLOAT, 2**14, float_val=[1.0]),
    }
    hostile["2^28 floats as [2^14, 2^14]"].tensor_shape.dim.add(size=2**14)
    for name, proto in hostile.items():
        request = fuel_predict()
        request.inputs["weight"].CopyFrom(proto)
        errors = []
        growth = _peak_growth(proc.popen.pid, lambda: errors.append(rpc_error(stub.Predict, request)), name)
        assert growth <= SLACK, f"{name}: peak RSS +{growth / MIB:.0f} MiB"
        assert errors[0].code() == grpc.StatusCode.INVALID_ARGUMENT, (name, errors[0].details())
        assert "--max_request_elements" in errors[0].details(), (name, errors[0].details())


def test_a_grpc_request_at_the_element_limit_is_served_within_it(server):
    proc, grpc_port, _ = server
    channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}", options=[("grpc.max_receive_message_length", -1)])
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "legacy"
    request.inputs["x"].CopyFrom(_declaring(types_pb2.DT_FLOAT, ELEMENT_LIMIT, float_val=[2.0]))
    assert request.ByteSize() < 100
    answers = []
    growth = _peak_growth(proc.popen.pid, lambda: answers.append(stub.Predict(request, timeout=60)),
                          "a gRPC request at the element limit")
    assert tf.make_ndarray(answers[0].outputs["y"]).shape == (ELEMENT_LIMIT,)
    assert growth <= ELEMENT_LIMIT * 4 + SLACK, f"at the limit: peak RSS +{growth / MIB:.0f} MiB"
    over = predict_pb2.PredictRequest()
    over.CopyFrom(request)
    over.inputs["x"].tensor_shape.dim[0].size = ELEMENT_LIMIT + 1
    assert "--max_request_elements" in rpc_error(stub.Predict, over).details()


def _raise_open_files(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            raise AssertionError(f"this test needs {need} open files; the hard limit is {hard} (ulimit -Hn)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def test_idle_connections_do_not_starve_the_server(standin_store, tmp_path):
    _raise_open_files(2 * IDLE_CONNECTIONS + 1000)  # the server, started below, inherits the limit
    proc, grpc_port, rest_port = start_plantserve(standin_store, tmp_path)
    rest = f"http://127.0.0.1:{rest_port}/v1/models/fuel:predict"
    stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(f"127.0.0.1:{grpc_port}"))
    idle: list[socket.socket] = []
    try:
        opening_deadline = time.monotonic() + 120
        while len(idle) < IDLE_CONNECTIONS:
            assert time.monotonic() < opening_deadline, f"only {len(idle)} connections opened in 120 s"
            idle.append(socket.create_connection(("127.0.0.1", rest_port), timeout=30))
        assert requests.post(rest, json={"instances": [FUEL_ROW]}, timeout=5).ok  # served beside them
        for sock in idle:
            sock.close()
        closed = time.monotonic()
        response = requests.post(rest, json={"instances": [FUEL_ROW]}, timeout=1.0)
        assert response.status_code == 200
        assert stub.Predict(fuel_predict(), timeout=max(0.05, closed + 1.0 - time.monotonic())).outputs["mpg"].float_val
        assert time.monotonic() - closed <= 1.0
    finally:
        for sock in idle:
            sock.close()
        proc.stop()


def test_gzip_at_the_rest_limit_still_serves(server):
    _, _, rest_port = server
    rows = {"instances": [FUEL_ROW] * 1000}
    compressed = gzip.compress(json.dumps(rows).encode())
    response = requests.post(f"http://127.0.0.1:{rest_port}/v1/models/fuel:predict", data=compressed,
                             headers={"Content-Encoding": "gzip"}, timeout=60)
    assert response.status_code == 200 and len(response.json()["predictions"]) == 1000
    assert np.isfinite(response.json()["predictions"]).all()
