"""REST transport (TFSERVING.md §10): gzip bodies, case-sensitive verbs and subresources, OPTIONS, other
methods, labels on the status route, and the path outside ``/v1``."""
from __future__ import annotations

import gzip
import json

import pytest
import requests

from tests.conformance.client import FUEL_ROW


def _error(response, code: int) -> str:
    assert response.status_code == code, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()["error"]


def test_gzip_request_bodies_are_uncompressed(target):
    body = gzip.compress(json.dumps({"instances": [FUEL_ROW, FUEL_ROW]}).encode())
    response = requests.post(target.rest_url + "/v1/models/fuel:predict", data=body,
                             headers={"Content-Encoding": "gzip"}, timeout=30)
    assert response.status_code == 200, response.text
    plain = target.post("/v1/models/fuel:predict", {"instances": [FUEL_ROW, FUEL_ROW]}).json()
    assert response.json() == plain


def test_a_body_that_is_not_gzip_reads_as_empty(target):
    response = requests.post(target.rest_url + "/v1/models/fuel:predict", data=b'{"instances": [1]}',
                             headers={"Content-Encoding": "gzip"}, timeout=30)
    assert _error(response, 400) == "JSON Parse error: The document is empty"


@pytest.mark.parametrize("path", ["/v1/models/fuel:PREDICT", "/v1/models/fuel:Predict", "/V1/MODELS/fuel:regres"])
def test_the_verb_is_case_sensitive(target, path):
    response = target.post(path, {"instances": [FUEL_ROW]})
    assert _error(response, 400) == f"Malformed request: POST {path}"


def test_the_metadata_subresource_is_case_sensitive(target):
    status = target.get("/v1/models/fuel/METADATA")
    assert status.status_code == 200 and "model_version_status" in status.json()
    assert "metadata" in target.get("/v1/models/fuel/metadata").json()


def test_options_is_a_cors_preflight(target):
    preflight = requests.options(target.rest_url + "/v1/models/fuel:predict",
                                 headers={"Origin": "https://hmi.plant.example"}, timeout=30)
    assert (preflight.status_code, preflight.content) == (200, b"")
    no_origin = requests.options(target.rest_url + "/v1/models/fuel:predict", timeout=30)
    assert (no_origin.status_code, no_origin.content) == (400, b"")


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_other_methods_are_malformed_requests(target, method):
    response = requests.request(method, target.rest_url + "/v1/models/fuel", data=b"{}", timeout=30)
    assert _error(response, 400) == f"Malformed request: {method} /v1/models/fuel"


def test_head_is_a_malformed_request_without_a_body(target):
    response = requests.head(target.rest_url + "/v1/models/fuel", timeout=30)
    assert response.status_code == 400 and response.content == b""  # HTTP: no body in an answer to HEAD


def test_status_ignores_the_label_as_get_model_status_does(target):
    """GetModelStatus ignores ``version_label`` (get_model_status_impl.cc), so the status route answers
    for any label, known or not; routes that resolve a version refuse an unknown label."""
    status = target.get("/v1/models/fuel/labels/no-such-label")
    assert status.status_code == 200
    assert [s["version"] for s in status.json()["model_version_status"]] == ["1"]
    assert _error(target.get("/v1/models/fuel/labels/no-such-label/metadata"), 400) == \
        "Unrecognized servable version label: no-such-label"
    assert _error(target.post("/v1/models/fuel/labels/no-such-label:predict", {"instances": [FUEL_ROW]}), 400) == \
        "Unrecognized servable version label: no-such-label"


def test_instances_must_be_a_list(target):
    assert _error(target.post("/v1/models/fuel:predict", {"instances": 3}), 400).endswith(
        " Expecting 'instances' to be an list/array")


def test_paths_outside_v1_are_not_found(target):
    for path in ("/", "/v2/models/fuel", "/monitoring/nope"):
        response = target.get(path)
        assert response.status_code == 404 and b"Not Found" in response.content
