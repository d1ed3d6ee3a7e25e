"""`helm lint --strict` and `helm template` for every ci/ scenario, and the values contract
(values.schema.json) refusing what it must refuse."""
from __future__ import annotations

import pytest

from tests.chart.charts import CHART, SCENARIO_IDS, SCENARIOS, helm, parse, template_text

EXPECTED_SCENARIOS = {"01-minimal", "02-cpu-only", "03-gpu", "04-tls", "05-s3-existing-secret", "06-full",
                      "07-signing"}


def test_every_required_scenario_exists():
    assert EXPECTED_SCENARIOS <= set(SCENARIO_IDS)


@pytest.mark.parametrize("values", SCENARIOS, ids=SCENARIO_IDS)
def test_lint_strict(values):
    result = helm("lint", "--strict", str(CHART), "-f", str(values), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout, result.stdout


@pytest.mark.parametrize("values", SCENARIOS, ids=SCENARIO_IDS)
def test_template_renders_objects(values):
    objs = parse(template_text([values]))
    kinds = {o["kind"] for o in objs}
    assert {"Deployment", "Service", "ConfigMap", "Pod"} <= kinds
    names = [(o["kind"], o["metadata"]["name"]) for o in objs]
    assert len(names) == len(set(names)), f"duplicate objects: {names}"
    for o in objs:
        assert o["metadata"].get("namespace") or o["kind"] in ("ClusterRole",), f"{o['kind']} without namespace"


def _template_error(*sets: str) -> str:
    result = helm("template", "plantserve", str(CHART), *[a for s in sets for a in ("--set", s)], check=False)
    assert result.returncode != 0, f"helm template accepted {sets}"
    return result.stderr


@pytest.mark.parametrize("sets, message", [
    ((), "sidecar.store is required"),
    (("sidecar.store=s3://b", "server.tls.enabled=true"), "server.tls.existingSecret is required"),
    (("sidecar.store=s3://b", "minio.enabled=true"), "minio.existingSecret is required"),
    (("sidecar.store=s3://b", "server.batching.enabled=true", "server.batching.maxBatchSize=16",
      "server.batching.allowedBatchSizes={4,8}"), "must equal server.batching.maxBatchSize"),
    (("sidecar.store=s3://b", "terminationGracePeriodSeconds=10"), "terminationGracePeriodSeconds must be larger"),
])
def test_render_fails_with_an_actionable_message(sets, message):
    assert message in _template_error(*sets)


@pytest.mark.parametrize("bad", [
    "server.image.tag=latest",             # never :latest
    "sidecar.image.tag=latest",
    "sidecar.logLevel=VERBOSE",            # enum
    "autoscaling.metric=p99",              # enum
    "training.strategy=random",            # enum
    "server.grpcPort=0",                   # minimum
    "sidecar.keepVersions=1",              # rollback needs the previous version on disk
    "sidecar.rollbackErrorRatio=2",        # maximum
    "sidecar.modles={fuel}",               # typo: additionalProperties false
    "server.tls.secret=x",                 # typo in a nested object
    "sidecar.store=ftp://models",          # store URI scheme
    "server.image.digest=sha256:abc",      # digest form
    "metrics.prometheusRule.versionSkewFor=30 minutes",
])
def test_schema_rejects(bad):
    err = _template_error("sidecar.store=s3://b", bad) if not bad.startswith("sidecar.store=") else _template_error(bad)
    assert "values don't meet the specifications of the schema" in err or "schema" in err.lower(), err


def test_refuses_clusters_without_native_sidecars():
    result = helm("template", "plantserve", str(CHART), "--set", "sidecar.store=s3://b", "--kube-version", "1.28.0",
                  check=False)
    assert result.returncode != 0 and "kubeVersion" in result.stderr, result.stderr
    helm("template", "plantserve", str(CHART), "--set", "sidecar.store=s3://b", "--kube-version", "1.29.0")
