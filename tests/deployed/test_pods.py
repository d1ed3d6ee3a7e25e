"""The chart's serving pod, run exactly as rendered, for every ci/ scenario and kustomize overlay.

Each case renders with the real helm (or kubectl kustomize), starts the pod's containers as local
processes in the kubelet's order (tests/deployed/kubelet.py), with the store on loopback S3, and checks
what the kubelet and a user would see: every probe within its rendered thresholds, a prediction
through the port the Service targets (TLS where the scenario turns it on), a new version rolled out,
every ServiceMonitor endpoint serving metrics, and each container's peak memory under its limit.
README.md says what this proves and what only a real cluster can.
"""
from __future__ import annotations

import json
import math
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from serving.client import PredictClient
from tests.deployed.kubelet import Pod
from tests.deployed.rendering import Deployment, Rendering, deployments, render
from tests.deployed.stores import build_cluster, sidecar_arg, tls_secret
from tests.support import wait_until

#: How long a pod may take to turn Ready here (the rendered probes bound each step; readiness has no bound).
READY_WITHIN_SECONDS = 240.0
FUEL_ROW = {"cylinders": [4.0], "displacement": [97.0], "horsepower": [88.0], "weight": [2130.0],
            "acceleration": [14.5], "model_year": [71.0], "origin": [3.0]}


def _service_port(rendering: Rendering, pod: Pod, service: dict, port_name: str) -> int:
    """A Service port -> the local port of the container port it targets. A targetPort name resolves
    through the app containers only: Kubernetes before 1.32 does not look at (native sidecar) init
    containers (kubernetes/kubernetes#127958)."""
    port = next(p for p in service["spec"]["ports"] if p.get("name") == port_name)
    target = port.get("targetPort", port["port"])
    if isinstance(target, str):
        owners = [c for c in pod.spec["containers"] if any(p.get("name") == target for p in c.get("ports", []))]
        assert owners, (f"Service {service['metadata']['name']} targets port name {target!r}, which no app "
                        "container declares (an init container's name resolves only from Kubernetes 1.32)")
        return pod.local_port(owners[0], target)
    return pod.local_port(pod.spec["containers"][0], int(target))


def _status(pod: Pod) -> dict:
    sidecar = pod.container("sidecar")
    port = pod.local_port(sidecar, int(sidecar_arg(sidecar, "http-port")))
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as response:
        return json.load(response)


def _client(target: str, tls, scenario_tls: bool, client_auth: bool, tmp: Path) -> PredictClient:
    if not scenario_tls:
        return PredictClient(target, timeout_seconds=10.0)
    (tmp / "ca.pem").write_bytes(tls.ca.cert)
    (tmp / "client.pem").write_bytes(tls.client.cert)
    (tmp / "client.key").write_bytes(tls.client.key)
    pair = {"client_cert": tmp / "client.pem", "client_key": tmp / "client.key"} if client_auth else {}
    return PredictClient(target, timeout_seconds=10.0, tls=True, ca_cert=tmp / "ca.pem",
                         server_name_override=tls.server_name, **pair)


@pytest.mark.parametrize("deployment", deployments(), ids=str)
def test_serving_pod_as_rendered(deployment: Deployment, model_store: Path, s3_server, tmp_path: Path,
                                 image_venv: Path) -> None:
    rendering = render(deployment)
    template = rendering.serving_deployment()["spec"]["template"]
    spec = template["spec"]
    sidecar = next(c for c in spec["initContainers"] if c["name"] == "sidecar")
    server_args = next(c for c in spec["containers"] if c["name"] == "tensorflow-serving").get("args", [])
    scenario_tls = any(a.startswith("--ssl_config_file=") for a in server_args)
    client_auth = scenario_tls and bool(sidecar_arg(sidecar, "server-tls-cert-file"))
    server_name = sidecar_arg(sidecar, "server-tls-server-name") or "localhost"
    tls = tls_secret(server_name)
    cluster, site = build_cluster(spec, rendering, s3_server.endpoint, tmp_path, tls)
    models = sidecar_arg(sidecar, "models").split(",")
    for model in models:
        site.seed(model_store, model, 1)
    pod = Pod(rendering, template, cluster, tmp_path / "pod", image_venv)
    try:
        pod.start()
        for c in spec["containers"]:
            if "startupProbe" in c:
                pod.wait_probe(c["name"], "startupProbe")
        for c in [*spec["initContainers"], *spec["containers"]]:
            if "readinessProbe" in c:
                pod.wait_probe(c["name"], "readinessProbe", limit_seconds=READY_WITHIN_SECONDS)
            if "livenessProbe" in c:
                ok, detail = pod.probe_once(c["name"], "livenessProbe")
                assert ok, f"livenessProbe of {c['name']} fails once Ready: {detail}"

        # A prediction through every Service port named grpc, as plant systems reach the pod.
        services = rendering.services_selecting(template["metadata"]["labels"])
        grpc_services = [s for s in services if any(p.get("name") == "grpc" for p in s["spec"]["ports"])]
        assert grpc_services, "no Service exposes the gRPC port"
        for service in grpc_services:
            port = _service_port(rendering, pod, service, "grpc")
            with _client(f"127.0.0.1:{port}", tls, scenario_tls, client_auth, tmp_path) as client:
                answer = client.predict("fuel", {k: np.array(v, np.float32) for k, v in FUEL_ROW.items()})
            assert answer.version == 1 and math.isfinite(float(answer["mpg"].ravel()[0]))

        # Every ServiceMonitor endpoint, resolved through its Service to a container port, serves metrics.
        for monitor in rendering.find("ServiceMonitor"):
            selector = monitor["spec"]["selector"]["matchLabels"]
            monitored = [s for s in services if all(s["metadata"]["labels"].get(k) == v for k, v in selector.items())]
            assert monitored, f"ServiceMonitor {monitor['metadata']['name']} selects no Service of the pod"
            for endpoint in monitor["spec"]["endpoints"]:
                port = _service_port(rendering, pod, monitored[0], endpoint["port"])
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{endpoint.get('path', '/metrics')}",
                                            timeout=10) as response:
                    families = list(text_string_to_metric_families(response.read().decode()))
                assert families, f"{endpoint['port']}{endpoint.get('path')} serves no metrics"

        # Publishing a new version rolls it out.
        site.publish_copy(model_store, "fuel", 1, 2, tmp_path)
        wait_until(lambda: _status(pod)["models"]["fuel"]["stable"] == 2, timeout=180,
                   what="fuel version 2 promoted by the sidecar")
        port = _service_port(rendering, pod, grpc_services[0], "grpc")
        with _client(f"127.0.0.1:{port}", tls, scenario_tls, client_auth, tmp_path) as client:
            assert client.predict("fuel", {k: np.array(v, np.float32) for k, v in FUEL_ROW.items()}).version == 2
        if site.signing is not None:  # the sidecar verifies signatures: an unsigned version is refused
            site.signing = None
            site.publish_copy(model_store, "fuel", 1, 3, tmp_path)
            mark = wait_until(lambda: _status(pod)["models"]["fuel"]["bad"].get("3"), timeout=120,
                              what="unsigned fuel version 3 refused by the sidecar")
            assert mark["reason"] == "signature" and "unsigned" in mark["detail"]
            assert _status(pod)["models"]["fuel"]["stable"] == 2
        pod.check_alive()
    finally:
        pod.stop()
        site.close()
    limits = pod.memory_limits()
    report = {name: (r.peak_rss, limits.get(name)) for name, r in pod.running.items()}
    print(f"\n{deployment}: peak RSS / memory limit: " + ", ".join(
        f"{n} {rss / 2**20:.0f} MiB / {(lim or 0) / 2**20:.0f} MiB" for n, (rss, lim) in report.items()))
    over = {n: (rss, lim) for n, (rss, lim) in report.items() if lim is not None and rss > lim}
    assert not over, f"containers over their rendered memory limit (peak RSS, limit): {over}"
