"""REST: routes, JSON shapes, error bodies and HTTP codes (TFSERVING.md §4)."""
from __future__ import annotations

import json
import math

import pytest

from tests.conformance.client import DEFECT_CLASSES, FUEL_FEATURES, FUEL_ROW, b64, fuel_example


def _error(response, code: int) -> str:
    assert response.status_code == code, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()["error"]


@pytest.mark.parametrize("path", ["/v1/models/fuel", "/v1/models/fuel/versions/1", "/V1/MODELS/fuel"])
def test_status_routes(target, path):
    response = target.get(path)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    status = response.json()["model_version_status"]
    assert status[0] == {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}


def test_metadata_route(target):
    body = target.get("/v1/models/fuel/metadata").json()
    assert body["model_spec"]["name"] == "fuel" and body["model_spec"]["version"] == "1"
    sigs = body["metadata"]["signature_def"]["signature_def"]
    assert set(FUEL_FEATURES) == set(sigs["serving_default"]["inputs"])
    assert sigs["serving_default"]["inputs"]["weight"]["dtype"] == "DT_FLOAT"
    assert sigs["regress"]["method_name"] == "tensorflow/serving/regress"
    assert target.get("/v1/models/defect/versions/1/metadata").json()["model_spec"]["version"] == "1"


def test_predict_row_and_columnar(target):
    row = target.post("/v1/models/fuel:predict", {"instances": [FUEL_ROW, FUEL_ROW]})
    assert row.status_code == 200 and row.headers["Content-Type"].startswith("application/json")
    predictions = row.json()["predictions"]
    assert len(predictions) == 2 and isinstance(predictions[0], float) and 5 < predictions[0] < 60
    columnar = target.post("/v1/models/fuel/versions/1:predict",
                           {"inputs": {k: [v, v] for k, v in FUEL_ROW.items()}}).json()
    assert columnar == {"outputs": pytest.approx(predictions)}
    one = target.post("/v1/models/fuel:predict", {"signature_name": "serving_default", "instances": [FUEL_ROW]})
    assert one.json()["predictions"] == pytest.approx(predictions[:1])


def test_predict_several_outputs_is_a_list_of_objects(target):
    image = [[[0.5] for _ in range(28)] for _ in range(28)]
    body = target.post("/v1/models/defect:predict", {"instances": [image]}).json()
    prediction = body["predictions"][0]
    assert set(prediction) == {"probabilities", "class_id"}
    assert len(prediction["probabilities"]) == 5 and isinstance(prediction["class_id"], int)
    assert math.isclose(sum(prediction["probabilities"]), 1.0, rel_tol=1e-4)
    columnar = target.post("/v1/models/defect:predict", {"inputs": {"image": [image]}}).json()
    assert set(columnar["outputs"]) == {"probabilities", "class_id"}


def test_predict_b64_strings(target):
    serialized = fuel_example().SerializeToString()
    body = target.post("/v1/models/fuel:predict", {"signature_name": "regress", "instances": [b64(serialized)]})
    assert body.status_code == 200, body.text
    plain = target.post("/v1/models/fuel:predict", {"instances": [FUEL_ROW]}).json()["predictions"][0]
    assert body.json()["predictions"][0] == pytest.approx(plain, rel=1e-5)


def test_nan_and_infinity_are_accepted(target):
    for token in ("NaN", "Infinity", "-Infinity"):
        row = dict(FUEL_ROW, weight="__X__")
        text = json.dumps({"instances": [row]}).replace('"__X__"', token)
        response = target.post("/v1/models/fuel:predict", text)
        assert response.status_code == 200, response.text
        assert len(response.json()["predictions"]) == 1  # json accepts NaN/Infinity in answers too


def test_classify_and_regress(target):
    image = {"image": [0.5] * 784}
    body = target.post("/v1/models/defect:classify", {"signature_name": "classify", "examples": [image, image]})
    assert body.status_code == 200, body.text
    results = body.json()["results"]
    assert len(results) == 2 and [label for label, _ in results[0]] == DEFECT_CLASSES
    regress = target.post("/v1/models/fuel:regress", {"signature_name": "regress", "examples": [FUEL_ROW]})
    assert regress.status_code == 200, regress.text
    plain = target.post("/v1/models/fuel:predict", {"instances": [FUEL_ROW]}).json()["predictions"][0]
    assert regress.json()["results"][0] == pytest.approx(plain, rel=1e-5)
    context = target.post("/v1/models/fuel:regress", {"signature_name": "regress", "context": {"origin": 3.0},
                                                      "examples": [{k: v for k, v in FUEL_ROW.items() if k != "origin"}]})
    assert context.json()["results"][0] == pytest.approx(plain, rel=1e-5)


def test_not_found_errors(target):
    assert _error(target.get("/v1/models/nope"), 404) == "Could not find any versions of model nope"
    assert _error(target.get("/v1/models/fuel/versions/7"), 404) == "Could not find version 7 of model fuel"
    assert _error(target.post("/v1/models/nope:predict", {"instances": [1]}), 404) == \
        "Servable not found for request: Latest(nope)"
    assert _error(target.post("/v1/models/fuel/versions/7:predict", {"instances": [FUEL_ROW]}), 404) == \
        "Servable not found for request: Specific(fuel, 7)"
    assert _error(target.get("/v1/models/fuel/versions/7/metadata"), 404) == \
        "Servable not found for request: Specific(fuel, 7)"


def test_bad_requests(target):
    assert _error(target.post("/v1/models/fuel:predict", b""), 400) == "JSON Parse error: The document is empty"
    assert _error(target.post("/v1/models/fuel:predict", b"{nope"), 400).startswith("JSON Parse error")
    assert _error(target.post("/v1/models/fuel:predict", {"nothing": 1}), 400) == "Missing 'inputs' or 'instances' key"
    assert "is not of expected type: float" in _error(
        target.post("/v1/models/fuel:predict", {"instances": [dict(FUEL_ROW, weight="heavy")]}), 400)
    assert "keys must be equal to" in _error(
        target.post("/v1/models/fuel:predict", {"instances": [{"weight": 1.0}]}), 400)
    assert _error(target.post("/v1/models/fuel:predict", {"signature_name": "nope", "instances": [FUEL_ROW]}), 400) \
        == 'Serving signature name: "nope" not found in signature def'
    assert "'examples' is expected and was not found" in _error(target.post("/v1/models/fuel:regress", {}), 400)
    assert _error(target.post("/v1/models/defect:classify", {"signature_name": "classify", "examples": []}),
                  400).endswith("'examples' value is an empty array")
    assert _error(target.post("/v1/models/fuel/labels/nope:predict", {"instances": [FUEL_ROW]}), 400) == \
        "Unrecognized servable version label: nope"


@pytest.mark.parametrize("method, path", [("GET", "/v1/models/fuel:predict"), ("POST", "/v1/models/fuel"),
                                          ("GET", "/v1/models/fuel/versions/abc"), ("GET", "/v1/nothing"),
                                          ("POST", "/v1/models/fuel:explain")])
def test_malformed_paths_under_v1(target, method, path):
    response = target.get(path) if method == "GET" else target.post(path, {"instances": [FUEL_ROW]})
    assert _error(response, 400) == f"Malformed request: {method} {path}"


def test_missing_model_name(target):
    assert _error(target.get("/v1/models"), 400) == "Missing model name in request."


def test_paths_outside_v1_are_404(target):
    assert target.get("/v2/models/fuel").status_code == 404
    assert target.get("/").status_code == 404
