"""The REST API in-process: routing details, the timeout, the metrics page, CORS and config-file polling."""
import json

import pytest
import requests

from tests.server.helpers import fuel_instance, write_config
from tests.support import wait_until


@pytest.fixture
def server(inproc_server, tiny_store, tmp_path):
    (tmp_path / "mon.conf").write_text('prometheus_config { enable: true path: "/metrics" }')
    return inproc_server("--model_name=fuel", f"--model_base_path={tiny_store / 'fuel'}",
                         f"--monitoring_config_file={tmp_path / 'mon.conf'}")


def _url(server, path: str) -> str:
    return f"http://127.0.0.1:{server.rest.port}{path}"


def test_query_strings_and_url_escapes(server):
    assert requests.get(_url(server, "/v1/models/fuel?x=1"), timeout=10).status_code == 200
    assert requests.get(_url(server, "/v1/models/f%75el"), timeout=10).status_code == 200


def test_version_and_label_together_are_malformed(server):
    response = requests.get(_url(server, "/v1/models/fuel/versions/1/labels/x"), timeout=10)
    assert response.status_code == 400 and response.json()["error"].startswith("Malformed request")


def test_metrics_page_is_plain_text(server):
    requests.post(_url(server, "/v1/models/fuel:predict"), json={"instances": [fuel_instance()]}, timeout=10)
    response = requests.get(_url(server, "/metrics"), timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/plain"
    assert ':tensorflow:serving:request_count{model_name="fuel",status="OK"} 1' in response.text


def test_rest_timeout_is_504(inproc_server, tiny_store):
    server = inproc_server("--model_name=fuel", f"--model_base_path={tiny_store / 'fuel'}", "--rest_api_timeout_in_ms=1")
    body = json.dumps({"instances": [fuel_instance()] * 20000})
    response = requests.post(_url(server, "/v1/models/fuel:predict"), data=body, timeout=60)
    assert response.status_code == 504 and response.json() == {"error": "Deadline exceeded"}


def test_model_config_file_is_polled(inproc_server, tiny_store, tmp_path):
    config = write_config(tmp_path / "models.conf", tiny_store, models=("fuel",))
    server = inproc_server(f"--model_config_file={config}", "--model_config_file_poll_wait_seconds=1")
    assert requests.get(_url(server, "/v1/models/defect"), timeout=10).status_code == 404
    write_config(config, tiny_store, models=("fuel", "defect"))
    wait_until(lambda: requests.get(_url(server, "/v1/models/defect"), timeout=10).status_code == 200,
               what="defect added by the config-file poll")


def test_cors_headers_when_enabled(inproc_server, tiny_store):
    server = inproc_server("--model_name=fuel", f"--model_base_path={tiny_store / 'fuel'}",
                           "--rest_api_enable_cors_support=true")
    response = requests.get(_url(server, "/v1/models/fuel"), timeout=10)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = requests.options(_url(server, "/v1/models/fuel:predict"), headers={"Origin": "https://plant.example"},
                                 timeout=10)
    assert (preflight.status_code, preflight.content) == (200, b"")
    assert preflight.headers["Access-Control-Allow-Methods"] == "POST, GET"


def test_every_v1_request_is_counted_with_its_model(server):
    requests.get(_url(server, "/v1/models/fuel"), timeout=10)
    requests.post(_url(server, "/v1/models/fuel:PREDICT"), data=b"{}", timeout=10)
    requests.head(_url(server, "/v1/models/fuel"), timeout=10)
    page = requests.get(_url(server, "/metrics"), timeout=10).text
    assert ':tensorflow:serving:request_count{model_name="fuel",status="OK"} 1' in page
    assert ':tensorflow:serving:request_count{model_name="fuel",status="INVALID_ARGUMENT"} 1' in page
    assert ':tensorflow:serving:request_count{model_name="",status="INVALID_ARGUMENT"} 1' in page  # HEAD
    assert ':tensorflow:serving:request_latency_count{model_name="fuel",API="",entrypoint="REST"} 1' in page
