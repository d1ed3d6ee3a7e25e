"""The Prometheus page (TFSERVING.md §6): names, labels, buckets, TYPE lines; parsed with prometheus-client."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from tensorflow_serving.apis import inference_pb2

from tests.conformance.client import FUEL_ROW, fuel_predict, regress_request, rpc_error
from tests.conformance.layout import METRICS_PATH

LATENCY_BOUNDS = [10 * 1.8**i for i in range(33)]


def _page(target) -> tuple[str, dict]:
    response = target.get(METRICS_PATH)
    assert response.status_code == 200
    return response.text, {f.name: f for f in text_string_to_metric_families(response.text)}


def _value(family, name: str, **labels) -> float:
    """The parser names counter samples ``<name>_total``; the page itself has no such suffix."""
    return sum(s.value for s in family.samples if s.name in (name, name + "_total")
               and all(s.labels.get(k) == v for k, v in labels.items()))


def test_page_format(target):
    text, _ = _page(target)
    assert "# HELP" not in text
    assert "# TYPE :tensorflow:serving:request_count counter" in text
    assert "# TYPE :tensorflow:serving:request_latency histogram" in text
    assert "# TYPE :tensorflow:cc:saved_model:load_attempt_count counter" in text
    assert ":tensorflow:serving:request_count_total" not in text


def test_request_count_and_latency_by_entrypoint(target):
    target.predict_stub().Predict(fuel_predict(), timeout=30)
    rpc_error(target.predict_stub().Predict, fuel_predict(version=77))
    assert target.post("/v1/models/fuel:predict", {"instances": [FUEL_ROW]}).status_code == 200
    _, families = _page(target)
    count = families[":tensorflow:serving:request_count"]
    assert _value(count, ":tensorflow:serving:request_count", model_name="fuel", status="OK") >= 2
    assert _value(count, ":tensorflow:serving:request_count", model_name="fuel", status="NOT_FOUND") >= 1
    latency = families[":tensorflow:serving:request_latency"]
    grpc_buckets = [s for s in latency.samples if s.name.endswith("_bucket")
                    and s.labels.get("entrypoint") == "GRPC" and s.labels.get("API") == "Predict"
                    and s.labels.get("model_name") == "fuel"]
    assert [float(s.labels["le"]) for s in grpc_buckets[:-1]] == [float("%.6g" % b) for b in LATENCY_BOUNDS]
    assert grpc_buckets[-1].labels["le"] == "+Inf" and grpc_buckets[-1].value >= 1
    rest = [s for s in latency.samples if s.name.endswith("_count") and s.labels.get("entrypoint") == "REST"
            and s.labels.get("API") == "predict"]
    assert rest and rest[0].value >= 1
    runtime = families[":tensorflow:serving:runtime_latency"]
    assert {"model_name", "API", "runtime"} <= set(runtime.samples[0].labels)


def test_load_and_warmup_metrics(target):
    _, families = _page(target)
    attempts = families[":tensorflow:cc:saved_model:load_attempt_count"]
    paths = [s.labels["model_path"] for s in attempts.samples if s.labels.get("status") == "success"]
    assert any(p.endswith("/fuel/1") for p in paths)
    assert ":tensorflow:cc:saved_model:load_latency" in families
    warmup = families[":tensorflow:serving:model_warmup_latency"]
    done = [s for s in warmup.samples if s.name.endswith("_count") and s.labels["model_path"].endswith("/fuel/1")]
    assert done and done[0].labels["status"] == "OK" and done[0].value >= 1


def test_example_counts(target):
    """TF Serving 2.20 records example counts for MultiInference only (multi_inference.cc)."""
    request = inference_pb2.MultiInferenceRequest()
    request.tasks.add(method_name="tensorflow/serving/regress").model_spec.name = "fuel"
    request.tasks[0].model_spec.signature_name = "regress"
    request.input.CopyFrom(regress_request(3).input)
    target.predict_stub().MultiInference(request, timeout=30)
    _, families = _page(target)
    counts = families[":tensorflow:serving:request_example_counts"]
    bounds = [s.labels["le"] for s in counts.samples if s.name.endswith("_bucket") and s.labels["model"] == "fuel"]
    assert bounds == [str(2**i) for i in range(15)] + ["+Inf"]
    total = [s.value for s in counts.samples if s.name.endswith("_sum") and s.labels["model"] == "fuel"]
    assert total and total[0] >= 3
