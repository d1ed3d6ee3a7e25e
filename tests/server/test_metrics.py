from prometheus_client.parser import text_string_to_metric_families

from serving.server.metrics import LATENCY_BUCKETS, ServingMetrics


def test_page_has_type_lines_only_and_parses():
    m = ServingMetrics()
    m.request_count.inc("fuel", "OK")
    m.request_latency.observe("fuel", "Predict", "GRPC", value=123.0)
    text = m.render()
    assert "# HELP" not in text
    assert "# TYPE :tensorflow:serving:request_latency histogram" in text
    assert "# TYPE :tensorflow:serving:request_count counter" in text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    latency = families[":tensorflow:serving:request_latency"]
    buckets = [s for s in latency.samples if s.name.endswith("_bucket")]
    assert len(buckets) == 34 and buckets[-1].labels["le"] == "+Inf"
    assert buckets[0].labels == {"model_name": "fuel", "API": "Predict", "entrypoint": "GRPC", "le": "10"}


def test_bucket_bounds_are_exponential_and_tf_formatted():
    assert len(LATENCY_BUCKETS) == 33 and LATENCY_BUCKETS[1] == 18.0
    m = ServingMetrics()
    m.runtime_latency.observe("fuel", "Predict", "TF1", value=10.0)  # TF: a value equal to a bound goes up
    lines = [l for l in m.render().splitlines() if l.startswith(":tensorflow:serving:runtime_latency_bucket")]
    assert lines[0].endswith('le="10"} 0') and lines[1].endswith('le="18"} 1')
    assert 'le="32.4"' in lines[2] and lines[-1].endswith('le="+Inf"} 1')


def test_label_values_are_escaped():
    m = ServingMetrics()
    m.request_count.inc('we"ird\\', "OK")
    assert ':tensorflow:serving:request_count{model_name="we\\"ird\\\\",status="OK"} 1' in m.render()


def test_batching_metrics_appear_only_when_enabled():
    m = ServingMetrics()
    assert "queuing_latency" not in m.render()
    m.enable_batching_metrics()
    m.queuing_latency.observe("pool", value=150.0)
    families = {f.name for f in text_string_to_metric_families(m.render())}
    assert ":tensorflow:serving:batching_session:queuing_latency" in families
