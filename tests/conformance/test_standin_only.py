"""Behaviour that needs its own server process with particular flags, so these tests always start
``plantserve serve`` themselves (stand-in only), even when the suite targets a real TF Serving:
TLS/mTLS, labels at start-up, the health service, batching, SIGTERM, a config file that does not parse, and
gRPC on a unix socket."""
from __future__ import annotations

import json
import signal
import socket
import threading

import grpc
import pytest
from tensorflow_serving.apis import prediction_service_pb2_grpc

from tests.tls import issue, make_ca
from tests.conformance.client import FUEL_ROW, Target, defect_predict, fuel_predict, rpc_error
from tests.conformance.conftest import start_plantserve
from tests.conformance.layout import METRICS_PATH, model_config
from tests.support import run_cli, wait_until


def _ssl_config(path, server, ca=None, client_verify=False) -> str:
    def q(pem: bytes) -> str:
        return pem.decode().replace("\n", "\\n")
    body = f'server_key: "{q(server.key)}"\nserver_cert: "{q(server.cert)}"\n'
    if ca is not None:
        body += f'custom_ca: "{q(ca.cert)}"\n'
    body += f"client_verify: {'true' if client_verify else 'false'}\n"
    path.write_text(body)
    return str(path)


@pytest.fixture(scope="module")
def pki():
    ca, ca_pair = make_ca()
    _, other_pair = make_ca("someone else")
    return {"ca": ca, "server": issue(ca_pair, "localhost", server=True),
            "client": issue(ca_pair, "plant-client", server=False),
            "stranger": issue(other_pair, "stranger", server=False)}


def _stub(port: int, creds=None):
    target = f"localhost:{port}"
    channel = grpc.secure_channel(target, creds) if creds else grpc.insecure_channel(target)
    return prediction_service_pb2_grpc.PredictionServiceStub(channel), channel


def test_mtls(standin_store, tmp_path, pki):
    config = _ssl_config(tmp_path / "ssl.config", pki["server"], pki["ca"], client_verify=True)
    proc, grpc_port, rest_port = start_plantserve(standin_store, tmp_path, f"--ssl_config_file={config}")
    try:
        good = grpc.ssl_channel_credentials(pki["ca"].cert, pki["client"].key,
                                            pki["client"].cert)
        stub, channel = _stub(grpc_port, good)
        assert stub.Predict(fuel_predict(), timeout=30).model_spec.version.value == 1
        channel.close()
        for creds in (grpc.ssl_channel_credentials(pki["ca"].cert),  # no client certificate
                      grpc.ssl_channel_credentials(pki["ca"].cert, pki["stranger"].key,
                                                   pki["stranger"].cert),
                      None):  # plaintext
            stub, channel = _stub(grpc_port, creds)
            assert rpc_error(stub.Predict, fuel_predict(), timeout=10).code() == grpc.StatusCode.UNAVAILABLE
            channel.close()
        rest = Target("", f"http://127.0.0.1:{rest_port}", standin_store, str(standin_store), False)
        assert rest.get("/v1/models/fuel").status_code == 200  # REST stays plain HTTP
    finally:
        assert proc.stop() == 0


def test_tls_without_client_verification(standin_store, tmp_path, pki):
    config = _ssl_config(tmp_path / "ssl.config", pki["server"])
    proc, grpc_port, _ = start_plantserve(standin_store, tmp_path, f"--ssl_config_file={config}")
    try:
        stub, channel = _stub(grpc_port, grpc.ssl_channel_credentials(pki["ca"].cert))
        assert stub.Predict(fuel_predict(), timeout=30).outputs["mpg"].float_val
        channel.close()
        stub, channel = _stub(grpc_port)
        assert rpc_error(stub.Predict, fuel_predict(), timeout=10).code() == grpc.StatusCode.UNAVAILABLE
        channel.close()
    finally:
        proc.stop()


def test_labels_at_start_up_need_the_flag(standin_store, tmp_path):
    (standin_store / "labels.config").write_text(model_config(
        str(standin_store), ("fuel",), {"fuel": 'version_labels { key: "stable" value: 1 }'}))
    result = run_cli("serve", "--port=1", f"--model_config_file={standin_store / 'labels.config'}", timeout=180)
    assert result.returncode == 255
    assert ("Failed to start server. Error: FAILED_PRECONDITION: Request to assign label to version 1 of model fuel, "
            "which is not currently available for inference") in result.stdout
    proc, grpc_port, rest_port = start_plantserve(
        standin_store, tmp_path, f"--model_config_file={standin_store / 'labels.config'}",
        "--allow_version_labels_for_unavailable_models=true", config=False)
    try:
        stub, channel = _stub(grpc_port)
        response = stub.Predict(fuel_predict(version_label="stable"), timeout=30)
        assert response.model_spec.version.value == 1
        channel.close()
    finally:
        proc.stop()


def test_health_service_always_serving(standin_store, tmp_path):
    proc, grpc_port, _ = start_plantserve(standin_store, tmp_path, "--enable_grpc_healthcheck_service=true")
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
        check = channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b,
                                    response_deserializer=lambda b: b)
        assert check(b"", timeout=10) == b"\x08\x01"  # HealthCheckResponse{status: SERVING}
        assert check(b"\x0a\x04fuel", timeout=10) == b"\x08\x01"
        channel.close()
    finally:
        proc.stop()


def test_batching_merges_concurrent_requests(standin_store, tmp_path):
    (tmp_path / "batching.config").write_text(
        "max_batch_size { value: 32 } batch_timeout_micros { value: 20000 } num_batch_threads { value: 2 } "
        "max_enqueued_batches { value: 100 }")
    proc, grpc_port, rest_port = start_plantserve(standin_store, tmp_path, "--enable_batching",
                                                  f"--batching_parameters_file={tmp_path / 'batching.config'}")
    try:
        stub, channel = _stub(grpc_port)
        errors: list[Exception] = []

        def client() -> None:
            try:
                for _ in range(10):
                    stub.Predict(fuel_predict(1), timeout=30)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=client) for _ in range(8)]
        [t.start() for t in threads]
        [t.join(120) for t in threads]
        assert errors == []
        too_big = rpc_error(stub.Predict, defect_predict(33))
        assert too_big.code() == grpc.StatusCode.INVALID_ARGUMENT
        page = Target("", f"http://127.0.0.1:{rest_port}", standin_store, "", False).get(METRICS_PATH).text
        runs = [l for l in page.splitlines() if l.startswith(":tensorflow:serving:batching_session:wrapped_run_count")]
        queued = [l for l in page.splitlines()
                  if l.startswith(":tensorflow:serving:batching_session:queuing_latency_count")]
        assert queued and int(float(queued[0].split()[-1])) >= 80
        assert runs and int(runs[0].split()[-1]) < 80 + 12  # fewer runs than requests (+ warmup records)
        channel.close()
    finally:
        proc.stop()


def test_sigterm_finishes_requests_in_flight(standin_store, tmp_path):
    """A REST request whose body is still arriving when SIGTERM comes is answered, then the process exits 0."""
    proc, _, rest_port = start_plantserve(standin_store, tmp_path, log_level="DEBUG")
    body = json.dumps({"instances": [FUEL_ROW]}).encode()
    with socket.create_connection(("127.0.0.1", rest_port), timeout=60) as sock:
        sock.sendall(b"POST /v1/models/fuel:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body[:10])
        wait_until(lambda: "REST request started: POST /v1/models/fuel:predict" in proc.output(),
                   what="the request to reach the server")
        proc.popen.send_signal(signal.SIGTERM)
        wait_until(lambda: "shutting down" in proc.output(), what="the server to see SIGTERM")
        sock.sendall(body[10:])
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    assert b'"predictions"' in reply
    assert proc.popen.wait(60) == 0


def test_a_config_file_that_does_not_parse(tmp_path):
    """protobuf's own line on stderr, then TF Serving's ``Failed to start server`` line, exit 255; the
    file is read before TensorFlow loads."""
    bad = tmp_path / "bad.config"
    bad.write_text("improperly formatted file")
    result = run_cli("serve", "--port=1", f"--model_config_file={bad}", timeout=120)
    assert result.returncode == 255
    assert result.stdout.strip().endswith(
        f"Failed to start server. Error: INVALID_ARGUMENT: Invalid protobuf file: '{bad}'")
    assert ("Error parsing text-format tensorflow.serving.ModelServerConfig: 1:1: Message type "
            '"tensorflow.serving.ModelServerConfig" has no field named "improperly".') in result.stderr


def test_grpc_on_a_unix_socket(standin_store, tmp_path):
    """``--grpc_socket_path`` adds a ``unix:PATH`` listener; with ``--port=0`` it is the only one."""
    path = tmp_path / "tfs.sock"
    proc, grpc_port, _ = start_plantserve(standin_store, tmp_path, f"--grpc_socket_path={path}", "--port=0")
    try:
        stub, channel = _stub(grpc_port)
        assert rpc_error(stub.Predict, fuel_predict(), timeout=5).code() == grpc.StatusCode.UNAVAILABLE
        channel.close()
        channel = grpc.insecure_channel(f"unix:{path}")
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(fuel_predict(), timeout=30)
        assert response.model_spec.version.value == 1
        channel.close()
        assert "Running gRPC ModelServer at UNIX socket" in proc.output()
    finally:
        proc.stop()
