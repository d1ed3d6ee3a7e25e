"""RestClient against a scripted REST stand-in: shapes, dtypes, retries on 503 only, deadlines."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest

from serving.client import DeadlineExceeded, InvalidInput, ModelNotFound, RestClient, Unavailable
from tests.client.fakes import Behaviour, FakeRestServer
from tests.support import free_port


@pytest.fixture
def served():
    port = free_port()
    with FakeRestServer(port, Behaviour()) as server:
        yield server


def _client(server, **kw) -> RestClient:
    return RestClient(f"http://127.0.0.1:{server.port}", retry_initial_backoff_seconds=0.01, **kw)


def _last(server) -> tuple[str, dict]:
    path, _, body = server.behaviour.requests[-1].partition(b" ")
    return path.decode(), json.loads(body)


def test_predict_uses_label_path_and_signature_dtypes(served):
    with _client(served) as client:
        out = client.predict("fuel", {"x": np.array([1.5, 2.0], np.float32)})
    assert out["x"].dtype == np.float32 and out["x"].tolist() == [3.0, 4.0]
    path, body = _last(served)
    assert path == "/v1/models/fuel/labels/stable:predict"
    assert body == {"signature_name": "serving_default", "inputs": {"x": [1.5, 2.0]}}


def test_version_and_latest_paths(served):
    with _client(served) as client:
        client.predict("fuel", {"x": [1.0]}, version=4)
        assert _last(served)[0] == "/v1/models/fuel/versions/4:predict"
    with _client(served, default_label=None) as client:
        client.predict("fuel", np.array([1.0], np.float32))
        assert _last(served)[0] == "/v1/models/fuel:predict"


def test_503_is_retried_and_400_is_not(served):
    served.behaviour.script[:] = ["503", "503"]
    with _client(served) as client:
        assert client.predict("fuel", {"x": [1.0]})["x"].tolist() == [2.0]
        assert served.behaviour.calls == 3
        served.behaviour.script[:] = ["400", "400"]
        with pytest.raises(InvalidInput):
            client.predict("fuel", {"x": [1.0]})
        assert served.behaviour.calls == 4


def test_404_is_model_not_found(served):
    served.behaviour.script[:] = ["404"]
    with _client(served) as client, pytest.raises(ModelNotFound):
        client.predict("fuel", {"x": [1.0]})


def test_deadline_is_honoured(served):
    served.behaviour.delay_seconds = 3.0
    with _client(served) as client:
        client.metadata("fuel")  # warm the connection and the signature cache
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            client.predict("fuel", {"x": [1.0]}, timeout=0.3)
    assert time.monotonic() - started < 2.0


def test_nothing_listening_is_unavailable():
    with RestClient(f"http://127.0.0.1:{free_port()}", retry_initial_backoff_seconds=0.01) as client:
        with pytest.raises(Unavailable):
            client.status("fuel", timeout=2)


def test_target_must_be_a_url():
    with pytest.raises(ValueError, match="http://host:8501"):
        RestClient("localhost:8501")
