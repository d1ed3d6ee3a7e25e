"""PredictClient against a scripted in-process server: wire contents, retries, deadlines, TLS."""
from __future__ import annotations

import time
from pathlib import Path

import grpc
import numpy as np
import pytest

from serving.client import DeadlineExceeded, InvalidInput, ModelNotFound, PredictClient, Unavailable
from serving.client.grpc_client import predict_request, prediction_from
from serving.client.settings import ModelRef
from serving.protocol import messages
from tests.tls import make_tls
from tests.client.fakes import Behaviour, FakeGrpcServer
from tests.support import free_port


@pytest.fixture
def served():
    behaviour = Behaviour()
    port = free_port()
    with FakeGrpcServer(port, behaviour) as server:
        yield server


def _client(server: FakeGrpcServer, **kw) -> PredictClient:
    return PredictClient(f"127.0.0.1:{server.port}", retry_initial_backoff_seconds=0.01, **kw)


def _last_spec(server: FakeGrpcServer):
    return messages.PredictRequest.FromString(server.behaviour.requests[-1]).model_spec


def test_predict_round_trips_a_dict_of_arrays(served):
    with _client(served) as client:
        out = client.predict("fuel", {"x": np.array([1.5, 2.0], np.float32), "n": np.array([[1, 2]], np.int64)})
    assert out["x"].dtype == np.float32 and out["x"].tolist() == [3.0, 4.0]
    assert out["n"].dtype == np.int64 and out["n"].tolist() == [[2, 4]]


def test_request_uses_tensor_content_not_per_element_lists(served):
    with _client(served) as client:
        client.predict("fuel", {"x": np.arange(1000, dtype=np.float32)})
    tensor = messages.PredictRequest.FromString(served.behaviour.requests[-1]).inputs["x"]
    assert len(tensor.tensor_content) == 4000 and len(tensor.float_val) == 0


def test_default_label_is_stable_and_explicit_choices_override_it(served):
    with _client(served) as client:
        client.predict("fuel", {"x": [1.0]})
        assert _last_spec(served).version_label == "stable"
        assert _last_spec(served).signature_name == "serving_default"
        client.predict("fuel", {"x": [1.0]}, version=3)
        spec = _last_spec(served)
        assert spec.WhichOneof("version_choice") == "version" and spec.version.value == 3
        client.predict("fuel", {"x": [1.0]}, label="canary")
        assert _last_spec(served).version_label == "canary"
    with _client(served, default_label=None) as client:
        client.predict("fuel", {"x": [1.0]})
        assert _last_spec(served).WhichOneof("version_choice") is None


def test_bare_array_is_named_after_the_sole_signature_input(served):
    with _client(served) as client:
        out = client.predict("fuel", np.array([1.0, 2.0], np.float32))
    assert list(out) == ["x"] and out["x"].tolist() == [2.0, 4.0]


def test_unavailable_is_retried_until_success(served):
    served.behaviour.script[:] = ["UNAVAILABLE", "UNAVAILABLE"]
    with _client(served) as client:
        out = client.predict("fuel", {"x": [1.0]})
    assert out["x"].tolist() == [2.0]
    assert served.behaviour.calls == 3


def test_invalid_argument_is_never_retried(served):
    served.behaviour.script[:] = ["INVALID_ARGUMENT", "INVALID_ARGUMENT"]
    with _client(served) as client, pytest.raises(InvalidInput) as info:
        client.predict("fuel", {"x": [1.0]})
    assert served.behaviour.calls == 1
    assert info.value.code == "INVALID_ARGUMENT" and isinstance(info.value, ValueError)


def test_retries_stop_at_the_attempt_budget(served):
    served.behaviour.script[:] = ["UNAVAILABLE"] * 10
    with _client(served, retry_attempts=3) as client, pytest.raises(Unavailable):
        client.predict("fuel", {"x": [1.0]})
    assert served.behaviour.calls == 3


def test_not_found_maps_to_model_not_found(served):
    served.behaviour.script[:] = ["NOT_FOUND"]
    with _client(served) as client, pytest.raises(ModelNotFound) as info:
        client.predict("nope", {"x": [1.0]})
    assert isinstance(info.value, LookupError) and served.behaviour.calls == 1


def test_deadline_is_honoured(served):
    served.behaviour.delay_seconds = 3.0
    with _client(served) as client:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            client.predict("fuel", {"x": [1.0]}, timeout=0.3)
        elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 2.0


def test_nothing_listening_is_unavailable_after_retries():
    with PredictClient(f"127.0.0.1:{free_port()}", retry_initial_backoff_seconds=0.01) as client:
        with pytest.raises(Unavailable) as info:
            client.predict("fuel", {"x": [1.0]}, timeout=5)
    assert isinstance(info.value, ConnectionError)


def test_big_image_payload_fits_and_is_replayed_on_retry(served):
    served.behaviour.script[:] = ["UNAVAILABLE"]
    image = np.random.default_rng(0).random((4, 224, 224, 3), dtype=np.float32)  # 2.4 MB > 256 KiB retry buffer
    with _client(served) as client:
        out = client.predict("defect", {"x": image})
    np.testing.assert_array_equal(out["x"], image * 2)
    assert served.behaviour.calls == 2


def test_tls_and_mtls(tmp_path: Path):
    tls = make_tls(tmp_path)
    server_tls = grpc.ssl_server_credentials([(tls.server.key, tls.server.cert)])
    port = free_port()
    with FakeGrpcServer(port, Behaviour(), server_tls):
        with PredictClient(f"localhost:{port}", ca_cert=tls.ca_path) as client:
            assert client.predict("fuel", {"x": [1.0]})["x"].tolist() == [2.0]
        with PredictClient(f"localhost:{port}", retry_attempts=1) as plaintext:
            with pytest.raises(Unavailable):
                plaintext.predict("fuel", {"x": [1.0]}, timeout=3)

    mtls = grpc.ssl_server_credentials([(tls.server.key, tls.server.cert)], root_certificates=tls.ca.cert,
                                       require_client_auth=True)
    port = free_port()
    with FakeGrpcServer(port, Behaviour(), mtls):
        with PredictClient(f"localhost:{port}", ca_cert=tls.ca_path, client_cert=tls.client_cert_path,
                           client_key=tls.client_key_path) as client:
            assert client.predict("fuel", {"x": [2.0]})["x"].tolist() == [4.0]
        with PredictClient(f"localhost:{port}", ca_cert=tls.ca_path, retry_attempts=1) as anonymous:
            with pytest.raises(Unavailable):
                anonymous.predict("fuel", {"x": [1.0]}, timeout=3)


def test_inputs_without_a_tensor_form_are_invalid_input():
    with pytest.raises(InvalidInput, match="input 'day': numpy dtype datetime64\\[D\\] has no TensorFlow equivalent"):
        predict_request(ModelRef("fuel"), {"day": np.array(["2020-01-01"], dtype="datetime64[D]")})


def test_an_undecodable_answer_is_invalid_input():
    response = messages.PredictResponse()
    bad = response.outputs["mpg"]
    bad.dtype, bad.float_val[:] = 1, [1.0, 2.0, 3.0]
    bad.tensor_shape.dim.add(size=2)
    with pytest.raises(InvalidInput, match="float_val holds 3 values for shape \\[2\\]"):
        prediction_from(response)
