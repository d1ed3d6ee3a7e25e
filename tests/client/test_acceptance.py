"""The client against a real ``plantserve serve`` (both models, ``stable`` label assigned).

One server for the module; every scenario runs over gRPC and REST and must agree.
"""
from __future__ import annotations

import json
import re
import subprocess
import urllib.request
import sys
from pathlib import Path

import numpy as np
import pytest

from serving.client import (LATEST, DeadlineExceeded, FailedPrecondition, InvalidInput, ModelNotFound, PredictClient,
                            RestClient)
from tests.client.no_tensorflow import BLOCKED
from tests.client.servers import MONITORING_PATH, Served, start_serve
from tests.support import REPO, run_cli

CARS = {  # two real Auto MPG rows (true mpg 36.4 and 17.0); horsepower NaN is imputed by the graph
    "cylinders": [4.0, 8.0], "displacement": [97.0, 302.0], "horsepower": [78.0, 140.0],
    "weight": [2188.0, 3449.0], "acceleration": [15.8, 10.5], "model_year": [80.0, 70.0], "origin": [2.0, 1.0],
}


@pytest.fixture(scope="module")
def served(model_store: Path, tmp_path_factory: pytest.TempPathFactory):
    with start_serve(tmp_path_factory.mktemp("serve"), model_store, ("fuel", "defect"), monitoring=True) as server:
        yield server


@pytest.fixture(params=["grpc", "rest"])
def client(request, served: Served):
    cls, target = (PredictClient, served.grpc_target) if request.param == "grpc" else (RestClient, served.rest_target)
    with cls(target, timeout_seconds=30) as c:
        yield c


def _images(n: int) -> np.ndarray:
    return np.random.default_rng(0).random((n, 28, 28, 1), dtype=np.float32)


def test_fuel_predict_by_default_label_version_and_latest(client):
    by_label = client.predict("fuel", CARS)["mpg"]
    assert by_label.dtype == np.float32 and by_label.shape == (2,)
    assert 10 < by_label[1] < by_label[0] < 60  # the light 4-cylinder beats the V8
    np.testing.assert_allclose(client.predict("fuel", CARS, version=1)["mpg"], by_label, rtol=1e-5)
    np.testing.assert_allclose(client.predict("fuel", CARS, label=LATEST)["mpg"], by_label, rtol=1e-5)


def test_predict_says_which_version_answered(served: Served):
    with PredictClient(served.grpc_target) as g, RestClient(served.rest_target) as r:
        assert g.predict("fuel", CARS).version == 1  # the stable label's version, echoed by the server
        assert g.predict("fuel", CARS, label=LATEST).version == 1
        assert r.predict("fuel", CARS, version=1).version == 1
        assert r.predict("fuel", CARS).version is None  # REST answers carry no model spec
        assert isinstance(g.predict("fuel", CARS), dict)


def test_grpc_and_rest_agree(served: Served):
    with PredictClient(served.grpc_target) as g, RestClient(served.rest_target) as r:
        np.testing.assert_allclose(g.predict("fuel", CARS)["mpg"], r.predict("fuel", CARS)["mpg"], rtol=1e-5)
        gi, ri = g.predict("defect", {"image": _images(3)}), r.predict("defect", {"image": _images(3)})
    assert gi["class_id"].dtype == ri["class_id"].dtype == np.int64
    np.testing.assert_array_equal(gi["class_id"], ri["class_id"])
    np.testing.assert_allclose(gi["probabilities"], ri["probabilities"], rtol=1e-4, atol=1e-6)


def test_defect_predict_with_a_bare_array_and_classify(client):
    images = _images(4)
    out = client.predict("defect", images)  # the only input, looked up from the signature
    assert out["probabilities"].shape == (4, 5) and out["class_id"].shape == (4,)
    np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, rtol=1e-4)
    classes = client.classify("defect", {"image": images.reshape(4, 784)})
    assert classes["classes"].shape == (4, 5) and classes["scores"].dtype == np.float32
    best = [row[np.argmax(scores)] for row, scores in zip(classes["classes"], classes["scores"])]
    assert len(set(best) - {"clean", "scratch", "pit", "crack", "inclusion", b"clean", b"scratch", b"pit",
                            b"crack", b"inclusion"}) == 0


def test_fuel_regress_matches_predict(client):
    rows = [{k: [v[i]] for k, v in CARS.items()} for i in range(2)]
    np.testing.assert_allclose(client.regress("fuel", rows), client.predict("fuel", CARS)["mpg"], rtol=1e-4)


def test_metadata_and_status(client):
    meta = client.metadata("defect")
    sig = meta.signatures["serving_default"]
    assert sig.inputs["image"].dtype == "DT_FLOAT" and sig.inputs["image"].shape == (-1, 28, 28, 1)
    assert sig.outputs["class_id"].dtype == "DT_INT64"
    status = client.status("fuel")
    assert [(s.version, s.state, s.error_code) for s in status] == [(1, "AVAILABLE", "OK")]


def test_errors_are_typed(client):
    with pytest.raises(ModelNotFound):
        client.predict("no_such_model", CARS, label=LATEST)
    with pytest.raises(ModelNotFound):
        client.predict("fuel", CARS, version=99)
    with pytest.raises(InvalidInput):
        client.predict("fuel", CARS, label="unassigned")  # TF Serving: unknown label is INVALID_ARGUMENT
    with pytest.raises(InvalidInput):
        client.predict("fuel", {"cylinders": [4.0]})  # missing inputs
    with pytest.raises((FailedPrecondition, InvalidInput)):
        client.predict("fuel", CARS, signature="nope")
    with pytest.raises(ModelNotFound):
        client.status("no_such_model")


def _request_count(served: Served, status: str) -> int:
    text = urllib.request.urlopen(served.rest_target + MONITORING_PATH, timeout=10).read().decode()
    match = re.search(r':tensorflow:serving:request_count\{model_name="fuel",status="%s"\} (\S+)' % status, text)
    return int(float(match.group(1))) if match else 0


def test_invalid_argument_reaches_the_server_exactly_once(served: Served):
    before = _request_count(served, "INVALID_ARGUMENT")
    with PredictClient(served.grpc_target) as client, pytest.raises(InvalidInput):
        client.predict("fuel", {"cylinders": [4.0]})  # missing inputs: INVALID_ARGUMENT, not retried
    assert _request_count(served, "INVALID_ARGUMENT") == before + 1


def test_grpc_deadline_is_honoured(served: Served):
    with PredictClient(served.grpc_target) as client:
        with pytest.raises(DeadlineExceeded):
            client.predict("defect", {"image": _images(256)}, timeout=0.0005)
        assert client.predict("fuel", CARS, timeout=30)["mpg"].shape == (2,)  # the channel is still fine


def test_predict_without_tensorflow_importable(served: Served):
    for target in (served.grpc_target, served.rest_target):
        res = subprocess.run([sys.executable, "-m", "tests.client.no_tensorflow", target, "fuel", json.dumps(CARS)],
                             capture_output=True, text=True, timeout=120, cwd=REPO)
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout.strip().splitlines()[-1])
        assert out["loaded"] == [] and len(out["outputs"]["mpg"]) == 2
        assert not any(m.split(".")[0] in BLOCKED for m in out["loaded"])


def test_cli_predict_csv_and_images(served: Served, tmp_path: Path):
    csv_path = tmp_path / "cars.csv"
    names = list(CARS)
    lines = ["car," + ",".join(names) + ",mpg", "vw rabbit," + ",".join(str(CARS[n][0]) for n in names) + ",36.4",
             "ford torino," + ",".join(str(CARS[n][1]) for n in names) + ",17"]
    csv_path.write_text("\n".join(lines) + "\n")
    res = run_cli("predict", "fuel", "--target", served.grpc_target, "--csv", str(csv_path))
    assert res.returncode == 0, res.stderr
    header, first, second = res.stdout.splitlines()
    assert header.split() == ["#", "car", "mpg", "mpg"] and first.startswith("0  vw rabbit")

    from PIL import Image

    for i in range(2):
        Image.fromarray((_images(2)[i, :, :, 0] * 255).astype(np.uint8)).save(tmp_path / f"part{i}.png")
    images = [str(tmp_path / f"part{i}.png") for i in range(2)]
    res = run_cli("predict", "defect", "--target", served.rest_target, "--image", *images, "--classify")
    assert res.returncode == 0, res.stderr
    rows = res.stdout.splitlines()
    assert rows[0].split() == ["#", "image", "classes", "scores"] and "part1.png" in rows[2]


def test_bench_against_the_server(served: Served, tmp_path: Path):
    res = run_cli("bench", "fuel", "--target", served.rest_target, "--mode", "open", "--rate", "50",
                  "--warmup-seconds", "0.5", "--duration-seconds", "2", "--out", str(tmp_path), "--name", "acc")
    assert res.returncode == 0, res.stderr
    result = json.loads((tmp_path / "acc.json").read_text())
    assert result["errors"] == {} and result["ok"] == 100
    assert (tmp_path / "acc.png").stat().st_size > 10_000
