"""A real Prometheus (Debian's package, from `make tools`) scrapes a running `plantserve serve` and
`plantserve sidecar`, started with the flags the chart renders, under a short load that includes
a rollout of a new version. Every dashboard panel query returns data; every alert expression
returns the right empty result, proven by the same expression with its threshold inverted
returning data; Prometheus loads the chart's rules and none fires.

Everything listens on 127.0.0.1. The scrape config mimics what the ServiceMonitor produces (job =
the headless Service's name, plus namespace/pod/endpoint labels); a stand-in DCGM exporter serves
the standard GPU metric names with the exporter's pod/namespace labels.
"""
from __future__ import annotations

import dataclasses
import json
import random
import shutil
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from tests.chart.charts import container, deployment_spec, render_scenario, tool
from tests.monitoring import promql
from tests.support import PLANTSERVE, Proc, free_port, port_open, wait_until

NAMESPACE, JOB, POD = "plantserve", "plantserve-headless", "plantserve-7d9c-test"
MODELS = ("fuel", "defect")


# --- helpers ---------------------------------------------------------------------------------
def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def http_post(url: str, body: dict, timeout: float = 10.0) -> int:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code


def rewrite(args: list[str], values: dict[str, str]) -> list[str]:
    """Replace --flag=value pairs of the chart's rendered args (ports and paths differ locally)."""
    out, seen = [], set()
    for a in args:
        key = a[2:].split("=", 1)[0] if a.startswith("--") else None
        if key in values:
            out.append(f"--{key}={values[key]}")
            seen.add(key)
        else:
            out.append(a)
    assert seen == set(values), f"the chart no longer renders {set(values) - seen}"
    return out


@dataclasses.dataclass
class Stack:
    prom_url: str
    rest: int
    grpc: int
    sidecar: int
    store: Path
    procs: list[Proc]

    def query(self, expr: str) -> list[dict]:
        url = f"{self.prom_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        status, body = http_get(url, timeout=10)
        data = json.loads(body)
        assert status == 200 and data["status"] == "success", f"{expr}: {data}"
        return data["data"]["result"]


def fuel_rows(n: int) -> list[dict]:
    rnd = random.Random(7)
    return [{"cylinders": rnd.choice([4.0, 6.0, 8.0]), "displacement": rnd.uniform(70, 400),
             "horsepower": rnd.uniform(50, 220), "weight": rnd.uniform(1600, 5000),
             "acceleration": rnd.uniform(8, 24), "model_year": float(rnd.randint(70, 82)),
             "origin": float(rnd.randint(1, 3))} for _ in range(n)]


def republish(store: Path, model: str, source_version: int) -> int:
    """Publish a copy of an existing version as the next version (same files, new number)."""
    from serving.store import open_store
    from serving.store.repository import ModelRepository

    repo = ModelRepository(open_store(str(store)), model)
    manifest = repo.manifest(source_version)
    version = repo.reserve_next()
    new = dataclasses.replace(manifest, version=version, parent_version=source_version,
                              created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    repo.publish(store / model / str(source_version), new)
    return version


def start_fake_dcgm(port: int):
    """The standard DCGM exporter metric names and labels for one GPU assigned to our pod."""
    from prometheus_client import CollectorRegistry, Gauge, start_http_server

    registry = CollectorRegistry()
    labels = ["gpu", "UUID", "modelName", "Hostname", "container", "namespace", "pod"]
    gauges = {name: Gauge(name, name, labels, registry=registry)
              for name in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE")}
    # GPU 0 serves our pod; GPU 1 another workload in the same namespace, which the panels must leave out.
    for gpu, pod, util in (("0", POD, 37.0), ("1", "other-app-5f6d", 90.0)):
        values = [gpu, f"GPU-5b1e2c34-0000-0000-0000-00000000000{gpu}", "NVIDIA L4", "gpu-node-1",
                  "tensorflow-serving", NAMESPACE, pod]
        gauges["DCGM_FI_DEV_GPU_UTIL"].labels(*values).set(util)
        gauges["DCGM_FI_DEV_FB_USED"].labels(*values).set(2048.0)
        gauges["DCGM_FI_DEV_FB_FREE"].labels(*values).set(20480.0)
    return start_http_server(port, addr="127.0.0.1", registry=registry)


def prometheus_config(stack_ports: dict[str, int], rules: Path, metrics_path: str) -> dict:
    def target(port: int, endpoint: str) -> dict:
        return {"targets": [f"127.0.0.1:{port}"],
                "labels": {"namespace": NAMESPACE, "pod": POD, "endpoint": endpoint, "service": JOB,
                           "container": "tensorflow-serving" if endpoint == "http" else "sidecar"}}

    as_service_monitor = [{"target_label": "job", "replacement": JOB}]
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "900ms"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {"job_name": "tfserving", "metrics_path": metrics_path, "static_configs": [target(stack_ports["rest"], "http")],
             "relabel_configs": as_service_monitor},
            {"job_name": "sidecar", "metrics_path": "/metrics",
             "static_configs": [target(stack_ports["sidecar"], "sidecar-http")], "relabel_configs": as_service_monitor},
            {"job_name": "dcgm-exporter", "honor_labels": True,
             "static_configs": [{"targets": [f"127.0.0.1:{stack_ports['dcgm']}"]}]},
        ],
    }


# --- the stack ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stack(model_store: Path, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("live-prometheus")
    store = tmp / "store"
    shutil.copytree(model_store, store)  # the test publishes a new version into it
    models = [m for m in MODELS if (store / m).is_dir()]
    assert "fuel" in models, f"model_store has no fuel model: {sorted(p.name for p in store.iterdir())}"
    ports = {"grpc": free_port(), "rest": free_port(), "sidecar": free_port(), "dcgm": free_port(), "prom": free_port()}
    model_dir = tmp / "models"
    model_dir.mkdir()
    config_file = model_dir / "models.config"
    procs: list[Proc] = []

    # The flags exactly as the chart renders them, with local ports and paths.
    spec = deployment_spec(render_scenario("01-minimal"))
    cm_monitoring = next(o for o in render_scenario("01-minimal") if o["kind"] == "ConfigMap")["data"]["monitoring.config"]
    (tmp / "monitoring.config").write_text(cm_monitoring)
    metrics_path = "/monitoring/prometheus/metrics"
    assert f'path: "{metrics_path}"' in cm_monitoring
    sidecar_args = rewrite(container(spec, "sidecar")["args"], {
        "store": str(store), "models": ",".join(models), "model-base-path": str(model_dir),
        "model-config-file": str(config_file), "server-grpc": f"127.0.0.1:{ports['grpc']}",
        "server-rest": f"http://127.0.0.1:{ports['rest']}", "http-port": str(ports["sidecar"]),
        "poll-interval-seconds": "1",
        # The copy of v1 is as fast as v1, but on a shared 2-core machine the interleaved latency
        # probe can still lose by chance; this test is about metrics, not about that gate.
        "latency-p99-ratio": "100", "latency-slack-ms": "1000", "rollback-error-ratio": "0.5",
    })
    server_args = rewrite(container(spec, "tensorflow-serving")["args"], {
        "port": str(ports["grpc"]), "rest_api_port": str(ports["rest"]),
        "model_config_file": str(config_file), "monitoring_config_file": str(tmp / "monitoring.config"),
    })
    dcgm = None
    try:
        sidecar = Proc([*PLANTSERVE, *sidecar_args, "--http-host=127.0.0.1"], tmp / "sidecar.log")
        procs.append(sidecar)
        # The native sidecar's startupProbe gates the server: /startupz must turn 200 first.
        wait_until(lambda: http_get(f"http://127.0.0.1:{ports['sidecar']}/startupz")[0] == 200
                   or (not sidecar.alive() and pytest.fail(sidecar.output())), timeout=120, interval=0.2,
                   what="sidecar /startupz")
        assert config_file.exists()
        server = Proc([*PLANTSERVE, "serve", *server_args], tmp / "server.log")
        procs.append(server)
        wait_until(lambda: port_open(ports["grpc"]) or (not server.alive() and pytest.fail(server.output())),
                   timeout=120, interval=0.2, what="server gRPC port")
        wait_until(lambda: http_get(f"http://127.0.0.1:{ports['sidecar']}/readyz")[0] == 200,
                   timeout=120, interval=0.2, what="sidecar /readyz (every stable version AVAILABLE)")
        dcgm = start_fake_dcgm(ports["dcgm"])

        rules = promql.write_rules(tmp / "rules.yaml")
        cfg = tmp / "prometheus.yml"
        cfg.write_text(yaml.safe_dump(prometheus_config(ports, rules, metrics_path)))
        prom = Proc([tool("prometheus"), f"--config.file={cfg}", f"--storage.tsdb.path={tmp / 'tsdb'}",
                     f"--web.listen-address=127.0.0.1:{ports['prom']}", "--storage.tsdb.retention.time=1h",
                     "--log.level=warn"], tmp / "prometheus.log")
        procs.append(prom)
        prom_url = f"http://127.0.0.1:{ports['prom']}"
        wait_until(lambda: http_get(f"{prom_url}/-/ready")[0] == 200
                   or (not prom.alive() and pytest.fail(prom.output())), timeout=60, interval=0.2, what="prometheus")
        yield Stack(prom_url, ports["rest"], ports["grpc"], ports["sidecar"], store, procs)
    finally:
        for p in reversed(procs):
            p.stop()
        if dcgm is not None:
            dcgm[0].shutdown()


@pytest.fixture(scope="module")
def loaded(stack: Stack) -> Stack:
    """Short load over REST and gRPC (with a few failing requests), and a rollout of fuel v2."""
    import numpy as np

    from serving.client.grpc_client import PredictClient

    base = f"http://127.0.0.1:{stack.rest}/v1/models"
    rows = fuel_rows(8)
    columns = {k: np.array([r[k] for r in rows], dtype=np.float32) for k in rows[0]}
    client = PredictClient(f"127.0.0.1:{stack.grpc}", timeout_seconds=10)

    def grpc_predict() -> None:
        client.predict("fuel", columns)

    def burst(n: int, errors: bool = False) -> None:
        for i in range(n):
            assert http_post(f"{base}/fuel:predict", {"instances": rows}) == 200
            grpc_predict()
            if errors and i % 10 == 0:  # NOT_FOUND: a version that does not exist
                assert http_post(f"{base}/fuel/versions/999:predict", {"instances": rows}) == 404

    # Wait until Prometheus has scraped both targets, then load while it scrapes every second.
    wait_until(lambda: len(stack.query(f'up{{job="{JOB}"}} == 1')) == 2, timeout=60, interval=0.5,
               what="both targets up")
    burst(60, errors=True)  # before the rollout only: the rollback window judges errors after it
    version = republish(stack.store, "fuel", 1)
    burst(40)
    def promoted() -> bool:
        rejected = stack.query('plantserve_rollout_total{model="fuel", result=~"rejected|rolled_back"} > 0')
        assert not rejected, f"fuel {version} was not promoted: {rejected}\n{stack.procs[0].output()[-3000:]}"
        return bool(stack.query(f'plantserve_model_label_version{{model="fuel", label="stable"}} == {version}'))

    wait_until(promoted, timeout=120, interval=0.5, what=f"sidecar promotes fuel {version}")
    burst(40)
    # Rates over 1m need two scrapes after a series first appears (the rollout's step histograms
    # appear at the end of the rollout): poll until every panel has data, with a deadline.
    try:
        wait_until(lambda: not empty_panels(stack), timeout=30, interval=0.5, what="every panel has data")
    except TimeoutError:
        pass  # test_every_dashboard_panel_returns_data reports which panels and why

    client.close()
    return stack


# --- the checks ----------------------------------------------------------------------------------
def test_server_and_sidecar_metrics_carry_the_contract_names(loaded: Stack):
    names = {r["metric"]["__name__"] for r in loaded.query(f'{{job="{JOB}"}}')}
    for name in (":tensorflow:serving:request_count", ":tensorflow:serving:request_latency_bucket",
                 ":tensorflow:serving:runtime_latency_bucket", ":tensorflow:cc:saved_model:load_attempt_count",
                 "plantserve_model_label_version", "plantserve_model_version_state", "plantserve_model_available",
                 "plantserve_sync_downloads_total", "plantserve_sync_download_bytes_total",
                 "plantserve_sync_download_seconds_bucket", "plantserve_sync_last_success_timestamp_seconds",
                 "plantserve_rollout_total", "plantserve_rollout_step_seconds_bucket", "plantserve_store_reachable",
                 "plantserve_pointer_pinned_version"):
        assert name in names, f"{name} not scraped; have {sorted(names)}"


def empty_panels(stack: Stack) -> list[tuple[str, str]]:
    return [(title, expr) for title, expr in promql.panel_queries(NAMESPACE) if not stack.query(expr)]


def test_every_dashboard_panel_returns_data(loaded: Stack):
    empty = empty_panels(loaded)
    details = {title: [r["metric"] for r in loaded.query(f"count by (__name__, model, step, result) ({{__name__=~\"{'|'.join(promql.metric_names(expr))}\"}})")]
               for title, expr in empty}
    assert empty == [], f"panels without data: {details}"


def test_panels_are_scoped_to_the_namespace_and_our_pods(loaded: Stack):
    assert all(not loaded.query(expr) for _, expr in promql.panel_queries("another-namespace"))
    gpu = [expr for title, expr in promql.panel_queries(NAMESPACE) if title.startswith("GPU utilisation")]
    result = loaded.query(gpu[0])
    assert [(r["metric"]["pod"], r["value"][1]) for r in result] == [(POD, "37")]


#: For each alert, one textual change that inverts its threshold: the result must then be non-empty,
#: which proves the healthy (empty) result comes from the threshold, not from a wrong selector.
INVERTED = {
    "PlantserveLatencyP99High": ("/ 1000 > 250", "/ 1000 > 0"),
    "PlantserveErrorRatioHigh": ("> 0.05", ">= 0"),
    "PlantserveMetricsDown": ("== 0", "== 1"),
    "PlantserveRolloutRejected": ('result="rejected"', 'result="promoted"'),
    "PlantserveRolledBack": ('result="rolled_back"', 'result="promoted"'),
    "PlantservePodOnOldVersion": ("\n  < on", "\n  <= on"),
    "PlantserveVersionPinned": ("> 0", ">= 0"),
    "PlantserveNoAvailableVersion": ("== 0", "== 1"),
    "PlantserveSyncStale": ("> 900", "> -1"),
    "PlantserveStoreUnreachable": ("== 0", "== 1"),
}


def test_every_alert_is_quiet_and_would_fire_with_its_threshold_inverted(loaded: Stack):
    alerts = promql.alerts()
    assert set(alerts) == set(INVERTED)
    for name, expr in alerts.items():
        assert loaded.query(expr) == [], f"{name} fires on a healthy stack"
        old, new = INVERTED[name]
        assert old in expr, f"{name}: cannot invert, expected {old!r} in {expr}"
        assert loaded.query(expr.replace(old, new)), f"{name} with its threshold inverted returns nothing"


def test_prometheus_loaded_the_chart_rules_and_nothing_fires(loaded: Stack):
    status, body = http_get(f"{loaded.prom_url}/api/v1/rules")
    groups = json.loads(body)["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert {r["name"] for r in rules} == set(promql.alerts())
    assert all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]
    firing = [a for a in json.loads(http_get(f"{loaded.prom_url}/api/v1/alerts")[1])["data"]["alerts"]]
    assert firing == []


def test_helm_test_pod_script_predicts(loaded: Stack):
    """The `helm test` pod's own command, run here against the live server (only the DNS name of
    the headless Service is swapped for the loopback address)."""
    import os
    import subprocess
    import sys

    from tests.chart.charts import one

    pod = one(render_scenario("01-minimal"), "Pod")
    c = pod["spec"]["containers"][0]
    script = c["args"][0].replace("/tmp/request.json", "request.json")
    target = "dns:///plantserve-headless.plantserve.svc:8500"
    assert target in script
    script = script.replace(target, f"dns:///127.0.0.1:{loaded.grpc}")
    env = {**os.environ, **{e["name"]: e["value"] for e in c["env"]},
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([*c["command"], script], capture_output=True, text=True, env=env, timeout=120,
                            cwd=loaded.store.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    header, first = result.stdout.strip().splitlines()[:2]
    assert header.split()[0] == "#" and len(header.split()) >= 2, result.stdout  # a table: index + outputs
    assert float(first.split()[-1]) > 0, result.stdout  # one prediction (miles per gallon for fuel)
