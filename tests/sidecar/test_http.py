import json

import pytest
from prometheus_client import CollectorRegistry, Counter

from serving.sidecar.http import handler_for, serve_http
from tests.sidecar.harness import http_get
from tests.support import free_port


@pytest.fixture
def endpoint():
    flags = {"started": False, "ready": False, "healthy": True}
    registry = CollectorRegistry()
    Counter("plantserve_demo", "demo", registry=registry).inc()
    port = free_port()
    server = serve_http("127.0.0.1", port, handler_for(
        lambda: {"models": {"fuel": {"stable": 3}}}, lambda: flags["started"], lambda: flags["ready"],
        lambda: flags["healthy"], registry))
    yield f"http://127.0.0.1:{port}", flags
    server.shutdown()


def test_probes_follow_the_agent(endpoint):
    url, flags = endpoint
    assert [http_get(f"{url}/{p}")[0] for p in ("startupz", "readyz", "healthz")] == [503, 503, 200]
    flags.update(started=True, ready=True, healthy=False)
    assert [http_get(f"{url}/{p}")[0] for p in ("startupz", "readyz", "healthz")] == [200, 200, 503]


def test_metrics_status_and_unknown_routes(endpoint):
    url, _ = endpoint
    code, body = http_get(f"{url}/metrics")
    assert code == 200 and b"plantserve_demo_total 1.0" in body
    assert json.loads(http_get(f"{url}/status")[1]) == {"models": {"fuel": {"stable": 3}}}
    assert http_get(f"{url}/nope")[0] == 404
