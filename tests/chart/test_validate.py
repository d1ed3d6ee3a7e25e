"""Every rendered object validates against the Kubernetes OpenAPI schema (strict: unknown fields
fail) for the oldest and newest supported minors, and the prometheus-operator objects against
validators generated from the ServiceMonitor/PrometheusRule CRD schemas."""
from __future__ import annotations

import json
import os
import subprocess

import kubernetes_validate
import pytest

from tests.chart.charts import KUBE_VERSIONS, REPO, SCENARIO_IDS, SCENARIOS, parse, template_text, tool

CRD_KINDS = {"ServiceMonitor", "PrometheusRule", "PodMonitor"}
NODE_MODULES = REPO / ".tools" / "node" / "node_modules"
VALIDATOR = REPO / "tests" / "chart" / "crd_validator" / "validate.mjs"


def test_kubernetes_validate_ships_the_versions():
    shipped = {kubernetes_validate.utils.major_minor(v) for v in kubernetes_validate.utils.all_versions()}
    assert set(KUBE_VERSIONS) <= shipped
    assert KUBE_VERSIONS[-1] == max(shipped, key=lambda v: tuple(map(int, v.split(".")))), \
        "a newer Kubernetes schema is available: add it to KUBE_VERSIONS"


@pytest.mark.parametrize("kube", KUBE_VERSIONS)
@pytest.mark.parametrize("values", SCENARIOS, ids=SCENARIO_IDS)
def test_objects_validate(values, kube):
    objs = parse(template_text([values], kube_version=f"{kube}.0"))
    checked = 0
    for obj in objs:
        if obj["kind"] in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, kube, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} invalid for Kubernetes {kube}: "
                        f"{exc.message} at {'/'.join(map(str, exc.path))}")
        checked += 1
    assert checked >= 5


def test_strict_validation_catches_a_typo():
    """The validator is strict: a misspelt field fails (so the test above can fail)."""
    objs = parse(template_text([SCENARIOS[0]]))
    deployment = next(o for o in objs if o["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBE_VERSIONS[0], strict=True)


def validate_crds(objs: list[dict]) -> list[dict]:
    node = tool("node")
    assert (NODE_MODULES / "@kubernetes-models" / "prometheus-operator").is_dir(), \
        "CRD validators missing: run `make tools`"
    proc = subprocess.run([node, str(VALIDATOR)], input=json.dumps(objs), capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PLANTSERVE_NODE_MODULES": str(NODE_MODULES)})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("scenario", ["03-gpu", "05-s3-existing-secret", "06-full"])
def test_prometheus_operator_objects_validate(scenario):
    objs = [o for o in parse(template_text([SCENARIOS[SCENARIO_IDS.index(scenario)]])) if o["kind"] in CRD_KINDS]
    assert {o["kind"] for o in objs} == {"ServiceMonitor", "PrometheusRule"}
    results = validate_crds(objs)
    assert len(results) == len(objs)
    assert [r for r in results if r["error"]] == []


def test_crd_validator_rejects_bad_objects():
    bad = [
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "x"},
         "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up", "for": "5 minutes"}]}]}},
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "x"},
         "spec": {"selector": {}, "endpoints": [{"port": "http", "interval": "30"}]}},
    ]
    results = validate_crds(bad)
    assert all(r["error"] for r in results), results


#: Fields the operator knows on the objects we render. The CRD schemas allow unknown fields (the
#: API server prunes them silently), so a misspelt key would vanish: check the keys we use.
ENDPOINT_KEYS = {"port", "path", "interval", "scrapeTimeout", "scheme", "honorLabels", "relabelings",
                 "metricRelabelings", "tlsConfig"}
RULE_KEYS = {"alert", "record", "expr", "for", "labels", "annotations", "keep_firing_for"}


def test_prometheus_operator_objects_use_known_fields():
    objs = parse(template_text([SCENARIOS[SCENARIO_IDS.index("06-full")]]))
    sm = next(o for o in objs if o["kind"] == "ServiceMonitor")
    assert set(sm["spec"]) <= {"selector", "namespaceSelector", "endpoints", "jobLabel", "targetLabels"}
    for ep in sm["spec"]["endpoints"]:
        assert set(ep) <= ENDPOINT_KEYS, ep
    rule = next(o for o in objs if o["kind"] == "PrometheusRule")
    for group in rule["spec"]["groups"]:
        assert set(group) <= {"name", "interval", "rules"}
        for r in group["rules"]:
            assert set(r) <= RULE_KEYS, r
