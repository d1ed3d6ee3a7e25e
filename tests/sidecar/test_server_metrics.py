import math

from serving.sidecar.server_metrics import parse

PAGE = """# TYPE :tensorflow:serving:request_count counter
:tensorflow:serving:request_count{model_name="fuel",status="OK"} 90
:tensorflow:serving:request_count{model_name="fuel",status="INVALID_ARGUMENT"} 10
:tensorflow:serving:request_count{model_name="defect",status="OK"} 5
# TYPE :tensorflow:serving:request_latency histogram
:tensorflow:serving:request_latency_bucket{model_name="fuel",API="predict",entrypoint="GRPC",le="10"} 0
:tensorflow:serving:request_latency_bucket{model_name="fuel",API="predict",entrypoint="GRPC",le="1000"} 80
:tensorflow:serving:request_latency_bucket{model_name="fuel",API="predict",entrypoint="GRPC",le="5000"} 90
:tensorflow:serving:request_latency_bucket{model_name="fuel",API="predict",entrypoint="GRPC",le="+Inf"} 90
:tensorflow:serving:request_latency_bucket{model_name="fuel",API="predict",entrypoint="REST",le="+Inf"} 0
"""


def test_parse_one_model():
    snap = parse(PAGE, "fuel")
    assert snap.requests == {"OK": 90.0, "INVALID_ARGUMENT": 10.0}
    assert snap.latency_buckets[1000.0] == 80.0 and snap.latency_buckets[math.inf] == 90.0


def test_window_since_a_baseline():
    before = parse(PAGE, "fuel")
    after = parse(PAGE.replace("} 90\n", "} 190\n", 1).replace('status="INVALID_ARGUMENT"} 10', 'status="INVALID_ARGUMENT"} 30'), "fuel")
    window = after.since(before)
    assert window.total == 120 and math.isclose(window.error_ratio, 20 / 120)


def test_p99_is_the_bucket_bound_in_ms():
    window = parse(PAGE, "fuel").since(parse("", "fuel"))
    assert window.p99_ms() == 5.0
    assert parse("", "fuel").since(parse("", "fuel")).p99_ms() is None


def test_a_counter_reset_is_no_window():
    """A restarted server counts from zero: its numbers are not the promoted version's (the caller
    takes a new baseline; before, the new totals counted whole and a restart rolled a healthy version back)."""
    before = parse(PAGE, "fuel")
    after = parse(':tensorflow:serving:request_count{model_name="fuel",status="INVALID_ARGUMENT"} 36\n', "fuel")
    assert after.since(before) is None


def test_untyped_and_typed_pages_parse_alike():
    untyped = PAGE.replace("# TYPE :tensorflow:serving:request_count counter\n", "")
    assert parse(untyped, "fuel") == parse(PAGE, "fuel")
