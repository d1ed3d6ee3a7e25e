"""What the rendered workload does: TF Serving as PID 1 with the right flags, the native sidecar
with the contract's flags and probes, shutdown, services, scaling, disruption and network policy."""
from __future__ import annotations

import pytest

from tests.chart.charts import (container, deployment_spec, find, one, render_scenario)


def flags(c: dict) -> dict[str, str | bool]:
    out: dict[str, str | bool] = {}
    for a in c.get("args", []):
        if a.startswith("--"):
            k, _, v = a[2:].partition("=")
            out[k] = v if _ else True
    return out


def test_server_runs_tensorflow_model_server_as_pid_1():
    spec = deployment_spec(render_scenario("01-minimal"))
    server = container(spec, "tensorflow-serving")
    assert server["command"] == ["tensorflow_model_server"]
    assert server["image"] == "tensorflow/serving:2.20.0"
    f = flags(server)
    assert f["port"] == "8500" and f["rest_api_port"] == "8501"
    assert f["model_config_file"] == "/models/models.config"
    assert f["model_config_file_poll_wait_seconds"] == "0"
    assert f["monitoring_config_file"] == "/etc/plantserve/monitoring.config"
    assert f["grpc_channel_arguments"] == "grpc.max_connection_age_ms=30000"
    assert f["allow_version_labels_for_unavailable_models"] is True
    assert "enable_batching" not in f and "batching_parameters_file" not in f and "ssl_config_file" not in f
    assert {"name": "models", "mountPath": "/models", "readOnly": True} in server["volumeMounts"]


def test_monitoring_config_turns_prometheus_on():
    objs = render_scenario("01-minimal")
    cm = one(objs, "ConfigMap", "plantserve")
    assert "enable: true" in cm["data"]["monitoring.config"]
    assert 'path: "/monitoring/prometheus/metrics"' in cm["data"]["monitoring.config"]


def test_batching_and_tls_map_to_tf_serving_flags():
    objs = render_scenario("04-tls")
    spec = deployment_spec(objs)
    f = flags(container(spec, "tensorflow-serving"))
    assert f["enable_batching"] is True
    assert f["batching_parameters_file"] == "/etc/plantserve/batching.config"
    assert f["ssl_config_file"] == "/run/plantserve/tls/ssl.config"
    batching = one(objs, "ConfigMap", "plantserve")["data"]["batching.config"]
    assert "max_batch_size { value: 32 }" in batching and "allowed_batch_sizes: 32" in batching
    tls = container(spec, "tls-config")
    assert tls["command"][-1] == "--client-verify"
    # The TLS config is rendered before the sidecar starts (init order) and read-only for the server.
    names = [c["name"] for c in spec["initContainers"]]
    assert names.index("tls-config") < names.index("sidecar")


def test_ssl_config_renderer_writes_inline_pem(tmp_path):
    import subprocess
    import sys

    from tests.chart.charts import CHART

    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "tls.crt").write_text("-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n")
    (secret / "tls.key").write_text("-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----\n")
    (secret / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nCCC\n-----END CERTIFICATE-----\n")
    out = tmp_path / "ssl.config"
    subprocess.run([sys.executable, str(CHART / "files" / "render-ssl-config.py"), str(secret), str(out),
                    "--client-verify"], check=True, timeout=30)
    text = out.read_text()
    assert 'server_cert: "-----BEGIN CERTIFICATE-----\\nAAA\\n-----END CERTIFICATE-----\\n"' in text
    assert 'server_key: "-----BEGIN PRIVATE KEY-----\\nBBB' in text
    assert 'custom_ca: "-----BEGIN CERTIFICATE-----\\nCCC' in text and "client_verify: true" in text


def test_sidecar_is_a_native_sidecar_with_the_contract_flags():
    spec = deployment_spec(render_scenario("05-s3-existing-secret"))
    sidecar = container(spec, "sidecar")
    assert sidecar in spec["initContainers"] and sidecar["restartPolicy"] == "Always"
    assert sidecar["args"][0] == "sidecar" and sidecar["args"][1] == "--log-level=INFO"
    f = flags(sidecar)
    assert f["store"] == "s3://plant-models/line-3"
    assert f["models"] == "fuel,defect"
    assert f["model-base-path"] == "/models"
    assert f["model-config-file"] == "/models/models.config"
    assert f["server-grpc"] == "localhost:8500" and f["server-rest"] == "http://localhost:8501"
    assert f["http-port"] == "8502"
    assert f["s3-endpoint-url"] == "https://s3.plant.example:9000"
    assert "kubernetes" not in f, "the switch is PLANTSERVE_KUBERNETES (works for a flag with or without a value)"
    for k in ("poll-interval-seconds", "rollback-window-seconds", "keep-versions", "latency-p99-ratio",
              "latency-slack-ms", "rollback-error-ratio", "rollback-p99-ms"):
        assert k in f, k
    env = {e["name"]: e for e in sidecar["env"]}
    assert env["PLANTSERVE_KUBERNETES"]["value"] == "true"
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert sidecar["startupProbe"]["httpGet"] == {"path": "/startupz", "port": "sidecar-http"}
    assert sidecar["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert sidecar["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"name": "models", "mountPath": "/models"} in sidecar["volumeMounts"]


def test_probes_and_shutdown():
    spec = deployment_spec(render_scenario("01-minimal"))
    server = container(spec, "tensorflow-serving")
    assert server["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 8502}
    startup = server["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600, "big models need minutes to load"
    sleep = int(server["lifecycle"]["preStop"]["exec"]["command"][1])
    assert server["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep" and sleep >= 5
    assert spec["terminationGracePeriodSeconds"] > sleep
    models = next(v for v in spec["volumes"] if v["name"] == "models")
    assert models["emptyDir"]["sizeLimit"] == "10Gi"


def test_services_rest_grpc_and_headless():
    objs = render_scenario("01-minimal")
    svc = one(objs, "Service", "plantserve")
    assert svc["spec"]["type"] == "ClusterIP"
    assert {p["name"]: p["port"] for p in svc["spec"]["ports"]} == {"http": 8501, "grpc": 8500}
    headless = one(objs, "Service", "plantserve-headless")
    assert headless["spec"]["clusterIP"] == "None"
    assert {p["name"] for p in headless["spec"]["ports"]} == {"grpc", "http", "sidecar-http"}
    selector = {"app.kubernetes.io/name": "plantserve", "app.kubernetes.io/instance": "plantserve"}
    assert svc["spec"]["selector"] == selector == headless["spec"]["selector"]
    assert one(objs, "Deployment")["spec"]["selector"]["matchLabels"] == selector


def test_selectors_do_not_change_with_values():
    """Selectors are immutable: no value may change them (only name and instance)."""
    base = one(render_scenario("01-minimal"), "Deployment")["spec"]["selector"]
    for scenario in ("03-gpu", "06-full"):
        assert one(render_scenario(scenario), "Deployment", "plantserve")["spec"]["selector"] == base


def test_other_workloads_never_match_the_serving_selector():
    objs = render_scenario("06-full")
    selector = one(objs, "Deployment", "plantserve")["spec"]["selector"]["matchLabels"]
    from tests.chart.charts import pod_specs  # noqa: F401

    for o in objs:
        if o["kind"] in ("Deployment", "Job", "CronJob", "Pod") and o["metadata"]["name"] != "plantserve":
            tmpl = o if o["kind"] == "Pod" else (o["spec"]["jobTemplate"]["spec"] if o["kind"] == "CronJob" else o["spec"])
            labels = tmpl["metadata"]["labels"] if o["kind"] == "Pod" else tmpl["template"]["metadata"]["labels"]
            assert not all(labels.get(k) == v for k, v in selector.items()), f"{o['kind']}/{o['metadata']['name']}"


def test_config_change_rolls_pods():
    def checksum(*sets):
        return one(render_scenario("01-minimal", sets=sets), "Deployment")["spec"]["template"]["metadata"][
            "annotations"]["checksum/config"]

    assert checksum() != checksum("server.batching.enabled=true")
    assert checksum() == checksum("replicaCount=5")


def test_pdb_topology_and_hpa():
    objs = render_scenario("01-minimal")
    pdb = one(objs, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1
    spec = deployment_spec(objs)
    keys = [c["topologyKey"] for c in spec["topologySpreadConstraints"]]
    assert keys == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    assert not find(objs, "HorizontalPodAutoscaler")
    assert one(objs, "Deployment")["spec"]["replicas"] == 2

    full = render_scenario("06-full")
    hpa = one(full, "HorizontalPodAutoscaler")
    assert hpa["spec"]["metrics"][0]["type"] == "Pods"
    assert hpa["spec"]["metrics"][0]["pods"]["metric"]["name"] == "plantserve_requests_per_second"
    assert "replicas" not in one(full, "Deployment", "plantserve")["spec"]
    cpu = one(render_scenario("01-minimal", sets=("autoscaling.enabled=true",)), "HorizontalPodAutoscaler")
    assert cpu["spec"]["metrics"][0]["resource"]["name"] == "cpu"


def test_network_policy_limits_ports_and_sources():
    np = one(render_scenario("03-gpu"), "NetworkPolicy", "plantserve")
    assert np["spec"]["policyTypes"] == ["Ingress", "Egress"]
    serving, metrics = np["spec"]["ingress"]
    # numbers, never names: the sidecar's port is on an init container (kubernetes/kubernetes#127958)
    assert {p["port"] for p in serving["ports"]} == {8500, 8501}
    assert serving["from"] == [{"podSelector": {}}]
    assert {p["port"] for p in metrics["ports"]} == {8501, 8502}
    assert metrics["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    assert one(render_scenario("01-minimal"), "NetworkPolicy", "plantserve"), "on by default"
    assert not find(render_scenario("01-minimal", sets=("networkPolicy.enabled=false",)), "NetworkPolicy")
    custom = one(render_scenario("03-gpu", sets=(
        "networkPolicy.allowedClients[0].namespaceSelector.matchLabels.plant=line-3",)), "NetworkPolicy", "plantserve")
    peers = custom["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"plant": "line-3"}}} in peers
    test_pod = one(render_scenario("03-gpu"), "Pod")["metadata"]["labels"]
    assert any(all(test_pod.get(k) == v for k, v in p.get("podSelector", {}).get("matchLabels", {}).items())
               and p.get("podSelector", {}).get("matchLabels") for p in peers), "helm test pod must stay allowed"
    assert {"podSelector": {}} not in peers


def _egress_ports(policy: dict) -> set[tuple[int, str]]:
    return {(p["port"], p["protocol"]) for rule in policy["spec"]["egress"] for p in rule.get("ports", [])}


def test_network_policy_egress_is_dns_store_and_api_server_only():
    minimal = one(render_scenario("01-minimal"), "NetworkPolicy", "plantserve")
    assert _egress_ports(minimal) == {(53, "UDP"), (53, "TCP"), (443, "TCP")}
    # the S3 endpoint's own port is opened; the API server only with sidecar.kubernetes
    plant = one(render_scenario("05-s3-existing-secret"), "NetworkPolicy", "plantserve")
    assert _egress_ports(plant) == {(53, "UDP"), (53, "TCP"), (443, "TCP"), (9000, "TCP"), (6443, "TCP")}
    narrowed = one(render_scenario("01-minimal", sets=("networkPolicy.storeEgress.peers[0].ipBlock.cidr=10.9.0.0/16",)),
                   "NetworkPolicy", "plantserve")
    store_rule = next(r for r in narrowed["spec"]["egress"] if {"port": 443, "protocol": "TCP"} in r["ports"])
    assert store_rule["to"] == [{"ipBlock": {"cidr": "10.9.0.0/16"}}]


def test_network_policy_covers_minio_and_training():
    full = render_scenario("06-full")
    minio = one(full, "NetworkPolicy", "plantserve-minio")
    assert minio["spec"]["egress"] == [] and minio["spec"]["policyTypes"] == ["Ingress", "Egress"]
    sources = [p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in minio["spec"]["ingress"][0]["from"]]
    assert sources == ["plantserve", "plantserve-training"]
    training = one(full, "NetworkPolicy", "plantserve-training")
    assert training["spec"]["ingress"] == []
    assert (9000, "TCP") in _egress_ports(training) and (53, "UDP") in _egress_ports(training)
    serving = one(full, "NetworkPolicy", "plantserve")
    to_minio = [r for r in serving["spec"]["egress"] if any("podSelector" in t and "namespaceSelector" not in t
                                                              for t in r["to"])]
    assert to_minio and to_minio[0]["ports"] == [{"port": 9000, "protocol": "TCP"}]


def test_service_monitor_scrapes_server_and_sidecar():
    sm = one(render_scenario("03-gpu"), "ServiceMonitor")
    eps = {e["port"]: e["path"] for e in sm["spec"]["endpoints"]}
    assert eps == {"http": "/monitoring/prometheus/metrics", "sidecar-http": "/metrics"}
    assert sm["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "serving-headless"
    labels = one(render_scenario("05-s3-existing-secret"), "ServiceMonitor")["metadata"]["labels"]
    assert labels["release"] == "kube-prometheus-stack"


def test_training_job_and_cronjob():
    objs = render_scenario("06-full")
    jobs, crons = find(objs, "Job"), find(objs, "CronJob")
    assert sorted(j["metadata"]["name"] for j in jobs) == ["plantserve-train-defect-r1", "plantserve-train-fuel-r1"]
    assert len(crons) == 2
    pod = crons[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    train = pod["containers"][0]
    assert train["args"][0] == "train" and train["args"][1] in ("fuel", "defect")
    f = flags(train)
    assert f["store"] == "s3://plant-models/prod" and f["strategy"] == "incremental"
    assert f["epochs"] == "20" and f["data-dir"] == "/data"
    assert train["resources"]["limits"]["nvidia.com/gpu"] == 1
    env = {e["name"]: e for e in train["env"]}
    assert env["AWS_ENDPOINT_URL"]["value"] == "http://plantserve-minio:9000"
    assert env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["name"] == "plantserve-minio"


def test_helm_test_pod_makes_a_grpc_predict_with_a_pinned_image():
    pod = one(render_scenario("01-minimal"), "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    c = pod["spec"]["containers"][0]
    assert c["image"] == "ghcr.io/plantserve/plantserve:0.1.0"
    script = c["args"][0]
    assert "plantserve predict fuel --target dns:///plantserve-headless.plantserve.svc:8500 --json" in script
    tls = one(render_scenario("04-tls"), "Pod")["spec"]["containers"][0]["args"][0]
    assert ("--tls --ca-cert /tls/ca.crt --server-name plantserve-headless.plantserve.svc "
            "--client-cert /tls/tls.crt --client-key /tls/tls.key") in tls


@pytest.mark.parametrize("scenario", ["06-full"])
def test_minio_is_self_contained_and_off_by_default(scenario):
    assert not [o for o in render_scenario("01-minimal") if "minio" in o["metadata"]["name"]]
    objs = render_scenario(scenario)
    minio = one(objs, "Deployment", "plantserve-minio")
    assert minio["spec"]["template"]["spec"]["containers"][0]["image"].startswith("quay.io/minio/minio:RELEASE.")
    assert one(objs, "PersistentVolumeClaim")["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    sidecar = container(deployment_spec(objs), "sidecar")
    assert flags(sidecar)["s3-endpoint-url"] == "http://plantserve-minio:9000"
