"""Issue 14, acceptance 1 and 4: ``explain`` and ``trust`` answer through a real ``plantserve serve``
over gRPC and REST, through our clients, through the official tensorflow-serving-api stubs and
plain REST JSON with ``signature_name: "explain"``, and through ``plantserve explain``."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from serving.client import FeatureExplanation, MapExplanation, PredictClient, RestClient
from tests.client.servers import Served, start_serve
from tests.support import run_cli
from training.data.defects import render
from training.data.fuel import FEATURES

CARS = {  # two real Auto MPG rows (true mpg 36.4 and 17.0)
    "cylinders": [4.0, 8.0], "displacement": [97.0, 302.0], "horsepower": [78.0, 140.0],
    "weight": [2188.0, 3449.0], "acceleration": [15.8, 10.5], "model_year": [80.0, 70.0], "origin": [2.0, 1.0],
}


@pytest.fixture(scope="module")
def served(model_store: Path, tmp_path_factory: pytest.TempPathFactory):
    with start_serve(tmp_path_factory.mktemp("serve"), model_store, ("fuel", "defect")) as server:
        yield server


@pytest.fixture(params=["grpc", "rest"])
def client(request, served: Served):
    cls, target = (PredictClient, served.grpc_target) if request.param == "grpc" else (RestClient, served.rest_target)
    with cls(target, timeout_seconds=60) as c:
        yield c


def _defects(labels: tuple[str, ...], seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([render(rng, label) for label in labels])[..., None]


def test_fuel_explanations_by_feature_in_mpg(client) -> None:
    rows = client.explain("fuel", CARS)
    assert len(rows) == 2 and all(isinstance(r, FeatureExplanation) for r in rows)
    light, v8 = rows
    assert list(light.attributions) == list(FEATURES)
    assert light.prediction > light.baseline > v8.prediction  # the medians car sits between the two
    for row in rows:
        assert abs(sum(row.attributions.values()) - (row.prediction - row.baseline)) <= 0.02 * abs(
            row.prediction - row.baseline) + 1e-3
        assert row.trust.trusted and row.trust.distance < row.trust.threshold
    np.testing.assert_allclose(light.prediction, client.predict("fuel", CARS)["mpg"][0], rtol=1e-5)
    assert v8.top(1)[0][1] < 0  # the V8's biggest contribution pulls mpg down


def test_defect_map_of_the_predicted_or_a_requested_class(client) -> None:
    images = _defects(("scratch", "pit"))
    rows = client.explain("defect", images)
    assert [r.class_name for r in rows] == ["scratch", "pit"] and all(isinstance(r, MapExplanation) for r in rows)
    for row in rows:
        assert row.attributions.shape == (28, 28, 1)
        assert abs(row.completeness_error) <= 0.02 * abs(row.explained_probability - row.baseline_probability)
        assert row.trust.trusted
    other = client.explain("defect", images, target_class="clean")
    assert [r.explained_class_name for r in other] == ["clean", "clean"]
    assert [r.class_name for r in other] == ["scratch", "pit"]
    assert client.explain("defect", images, target_class=2)[0].explained_class_name == "pit"


def test_trust_flags_out_of_distribution_inputs(client) -> None:
    broken = {k: list(v) for k, v in CARS.items()}
    broken["weight"] = [0.0, 34490.0]  # a dead scale, and one reading ten times too much
    assert [t.trusted for t in client.trust("fuel", CARS)] == [True, True]
    assert [t.trusted for t in client.trust("fuel", broken)] == [False, False]
    noise = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    blank = np.full((1, 28, 28, 1), 0.5, np.float32)
    verdicts = client.trust("defect", np.concatenate([_defects(("crack",)), noise, blank]))
    assert [t.trusted for t in verdicts] == [True, False, False, False]


def test_grpc_and_rest_agree(served: Served) -> None:
    with PredictClient(served.grpc_target, timeout_seconds=60) as g, RestClient(served.rest_target) as r:
        a, b = g.explain("defect", _defects(("crack",))), r.explain("defect", _defects(("crack",)))
        np.testing.assert_allclose(a[0].attributions, b[0].attributions, rtol=1e-5, atol=1e-7)
        assert g.explain("fuel", CARS).version == 1


def test_official_stubs_and_plain_rest_json(served: Served) -> None:
    import grpc
    import requests
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name, request.model_spec.signature_name = "fuel", "explain"
    for name, values in CARS.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(values, np.float32)))
    with grpc.insecure_channel(served.grpc_target) as channel:
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=60)
    assert response.model_spec.signature_name == "explain"
    attributions = tf.make_ndarray(response.outputs["attributions"])
    assert attributions.shape == (2, 7)
    assert [n.decode() for n in tf.make_ndarray(response.outputs["feature_names"])[0]] == list(FEATURES)
    assert tf.make_ndarray(response.outputs["trusted"]).tolist() == [True, True]

    rows = [{k: v[i] for k, v in CARS.items()} for i in range(2)]
    body = requests.post(f"{served.rest_target}/v1/models/fuel:predict",
                         json={"signature_name": "explain", "instances": rows}, timeout=60).json()
    assert len(body["predictions"]) == 2 and body["predictions"][0]["feature_names"][0] == "cylinders"
    np.testing.assert_allclose(body["predictions"][1]["attributions"], attributions[1], rtol=1e-5, atol=1e-5)
    image = _defects(("pit",))[0].tolist()
    body = requests.post(f"{served.rest_target}/v1/models/defect:predict",
                         json={"signature_name": "explain", "instances": [{"image": image}]}, timeout=60).json()
    assert np.asarray(body["predictions"][0]["attributions"]).shape == (28, 28, 1)
    body = requests.post(f"{served.rest_target}/v1/models/defect:predict",
                         json={"signature_name": "explain_class", "instances": [{"image": image, "class_id": 9}]},
                         timeout=60)
    assert body.status_code == 400 and "class_id must be < 5" in body.json()["error"]


def test_cli_prints_contributions_and_writes_overlays(served: Served, tmp_path: Path) -> None:
    from PIL import Image

    cars = tmp_path / "cars.csv"
    with open(cars, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", *CARS, "mpg"])
        writer.writerow(["vw rabbit", *(v[0] for v in CARS.values()), 36.4])
        writer.writerow(["ford torino", *(v[1] for v in CARS.values()), 17.0])
    result = run_cli("explain", "fuel", "--target", served.grpc_target, "--csv", str(cars), "--top", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "top 2 contributions" in lines[0] and "trust" in lines[0]
    assert "vw rabbit" in lines[1] and "ok" in lines[1]
    assert any(f"{f} +" in lines[1] or f"{f} -" in lines[1] for f in FEATURES)
    images = []
    for label, image in zip(("scratch", "inclusion"), _defects(("scratch", "inclusion"))):
        path = tmp_path / f"{label}.png"
        Image.fromarray((image[..., 0] * 255).round().astype(np.uint8), "L").save(path)
        images.append(str(path))
    out = tmp_path / "overlays"
    result = run_cli("explain", "defect", "--target", served.rest_target, "--image", *images, "--out", str(out),
                     "--output", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["class_name"] for r in rows] == ["scratch", "inclusion"]
    for row in rows:
        with Image.open(row["overlay"]) as png:
            assert png.format == "PNG" and png.size[0] == 280
    assert sorted(p.name for p in out.iterdir()) == ["inclusion.explain.png", "scratch.explain.png"]
    missing_out = run_cli("explain", "defect", "--target", served.grpc_target, "--image", images[0])
    assert missing_out.returncode == 2 and "--out" in missing_out.stderr
