"""The kustomize tree: base and components generated from the chart (no drift), overlays build
with kubectl's kustomize, and each overlay equals the chart rendered for its ci/ scenario."""
from __future__ import annotations

import copy
import os
import subprocess
import sys

import kubernetes_validate
import pytest

from tests.chart.charts import CHART, KUBE_VERSIONS, REPO, parse, run, template_text, tool

K8S = REPO / "k8s"
#: overlay -> the ci/ scenario it must equal
OVERLAYS = {"gpu": "03-gpu", "cpu-dev": "02-cpu-only"}


def kustomize(path) -> list[dict]:
    return parse(run([tool("kubectl"), "kustomize", str(path)]).stdout)


def normalise(objs: list[dict]) -> dict[tuple[str, str], dict]:
    out = {}
    for o in objs:
        o = copy.deepcopy(o)
        if o["metadata"].get("annotations", {}).get("helm.sh/hook"):
            continue  # helm test pods are not part of the kustomize tree
        for meta in (o["metadata"], o.get("spec", {}).get("template", {}).get("metadata", {})):
            labels = meta.get("labels", {})
            if labels.get("app.kubernetes.io/managed-by") in ("Helm", "kustomize"):
                labels["app.kubernetes.io/managed-by"] = "<tool>"
        out[(o["kind"], o["metadata"]["name"])] = o
    return out


def test_generated_tree_matches_the_chart():
    env = {**os.environ, "PATH": f"{REPO / '.tools' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, str(K8S / "generate.py"), "--check"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr


def test_base_equals_the_chart():
    base = normalise(kustomize(K8S / "base"))
    chart = normalise(parse(template_text([K8S / "base-values.yaml"])))
    assert base.keys() == chart.keys()
    for key in base:
        assert base[key] == chart[key], key


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_overlay_equals_its_ci_scenario(overlay):
    built = normalise(kustomize(K8S / "overlays" / overlay))
    chart = normalise(parse(template_text([CHART / "ci" / f"{OVERLAYS[overlay]}-values.yaml"])))
    assert sorted(built) == sorted(chart)
    for key in built:
        assert built[key] == chart[key], f"{overlay}: {key} differs from helm/plantserve/ci/{OVERLAYS[overlay]}"


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_overlay_objects_validate(overlay):
    for obj in kustomize(K8S / "overlays" / overlay):
        if obj["apiVersion"].startswith("monitoring.coreos.com"):
            continue  # validated from the chart in test_validate.py (same objects, proven above)
        for kube in KUBE_VERSIONS:
            kubernetes_validate.validate(obj, kube, strict=True)


def test_drift_check_detects_a_change(tmp_path):
    """The comparison is not vacuous: a changed base object no longer equals the chart."""
    base = normalise(kustomize(K8S / "base"))
    chart = normalise(parse(template_text([K8S / "base-values.yaml"], sets=["server.preStopSleepSeconds=20"])))
    key = ("Deployment", "plantserve")
    assert base[key] != chart[key]


def test_gpu_overlay_pins_the_gpu_image_with_the_images_transformer():
    text = (K8S / "overlays" / "gpu" / "kustomization.yaml").read_text()
    assert "images:" in text and "newTag: 2.20.0-gpu" in text
    assert "disableNameSuffixHash" not in "".join(p.read_text() for p in K8S.rglob("kustomization.yaml"))
