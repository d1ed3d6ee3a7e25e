"""Chart conventions: documented values, a generated schema and README table, a generated
dashboard, helpers prefixed with the chart name, one kind per template."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import yaml

from tests.chart.charts import CHART, REPO, parse, template_text

sys.path.insert(0, str(REPO / "helm" / "tools"))
import chartdocs  # noqa: E402


def test_schema_and_readme_are_generated_from_values():
    result = subprocess.run([sys.executable, str(REPO / "helm" / "tools" / "chartdocs.py"), str(CHART), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_every_value_has_a_description():
    text = (CHART / "values.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=values.schema.json")
    docs = chartdocs.descriptions(text)
    schema = json.loads((CHART / "values.schema.json").read_text())
    free_form = {"resources", "podSecurityContext", "securityContext", "nodeSelector", "labels",
                 "monitoringNamespaceSelector", "ingressNamespaceSelector"}

    def walk(node, path, sch):
        assert path == "" or path in docs, f"{path} has no `# --` comment in values.yaml"
        assert path == "" or sch.get("description"), f"{path} has no description in values.schema.json"
        if isinstance(node, dict) and path.split(".")[-1] not in free_form:
            assert sch.get("additionalProperties") is False or sch.get("additionalProperties") == {"type": "string"} \
                or sch.get("type") == "object", path
            for k, v in node.items():
                if "properties" in sch:
                    walk(v, f"{path}.{k}" if path else k, sch["properties"][k])

    walk(yaml.safe_load(text), "", schema)


def test_schema_has_enums_and_closed_objects():
    schema = json.loads((CHART / "values.schema.json").read_text())
    props = schema["properties"]
    assert schema["additionalProperties"] is False
    assert props["sidecar"]["properties"]["logLevel"]["enum"] == ["DEBUG", "INFO", "WARNING", "ERROR"]
    assert props["autoscaling"]["properties"]["metric"]["enum"] == ["cpu", "requestRate"]
    assert props["training"]["properties"]["strategy"]["enum"] == ["full", "incremental", "finetune"]
    assert props["server"]["properties"]["tls"]["additionalProperties"] is False


def test_dashboard_is_generated_by_the_library():
    result = subprocess.run([sys.executable, str(CHART / "dashboards" / "generate.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_dashboard_panels_have_unique_ids_and_targets():
    board = json.loads((CHART / "dashboards" / "plantserve.json").read_text())
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) and i > 0 for i in ids)
    assert board["uid"] == "plantserve"
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource", "namespace", "model"]
    for p in board["panels"]:
        if p["type"] != "row":
            assert p["targets"] and p["datasource"]["uid"] == "${datasource}", p["title"]
            assert p["fieldConfig"]["defaults"]["unit"], p["title"]


def test_dashboard_configmap_carries_the_grafana_label_and_the_json():
    objs = parse(template_text([CHART / "ci" / "03-gpu-values.yaml"]))
    cm = next(o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("dashboard"))
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(cm["data"]["plantserve.json"]) == json.loads((CHART / "dashboards" / "plantserve.json").read_text())


def test_helpers_are_prefixed_and_templates_hold_one_kind():
    for tpl in (CHART / "templates").glob("_*.tpl"):
        for name in re.findall(r'define "([^"]+)"', tpl.read_text()):
            assert name.startswith("plantserve."), f"{tpl.name}: helper {name}"
    objs = parse(template_text([CHART / "ci" / "06-full-values.yaml"]))
    kinds_by_source: dict[str, set[str]] = {}
    rendered = template_text([CHART / "ci" / "06-full-values.yaml"])
    for doc in rendered.split("\n---\n"):
        m = re.search(r"# Source: plantserve/templates/(\S+)", doc)
        body = yaml.safe_load(doc)
        if m and body:
            kinds_by_source.setdefault(m.group(1), set()).add(body["kind"])
    assert all(len(k) == 1 for k in kinds_by_source.values()), kinds_by_source
    assert len(objs) >= 20


def test_notes_print_endpoints_and_port_forward():
    from tests.chart.charts import helm

    out = helm("install", "plantserve", str(CHART), "--dry-run=client", "--namespace", "plantserve",
               "-f", str(CHART / "ci" / "03-gpu-values.yaml")).stdout
    notes = out.split("NOTES:", 1)[1]
    assert "dns:///plantserve-headless.plantserve.svc.cluster.local:8500" in notes
    assert "kubectl -n plantserve port-forward svc/plantserve 8500:8500 8501:8501" in notes
    assert "helm test plantserve" in notes
    assert "on GPU nodes" in notes


def _declared_flags(*classes) -> set[str]:
    from serving import settings as spec
    from serving.cli import CommonSettings

    return {s.flag for cls in (CommonSettings, *classes) for s in spec.specs(cls) if s.flag}


def test_flags_the_values_table_names_are_the_processes_declared_settings():
    """The chart README's rows say which flag a value sets; each must be a flag the process declares."""
    from serving.signing.flags import SigningSettings
    from serving.sidecar.settings import Settings
    from training.settings import TrainSettings

    declared = {"sidecar": _declared_flags(Settings), "training": _declared_flags(TrainSettings, SigningSettings)}
    rows = re.findall(r"^\| `(?:sidecar|training)\.[^\n]*$", (CHART / "README.md").read_text(), re.M)
    assert len(rows) > 10
    cited = {(line.split("`")[1].split(".")[0], flag) for line in rows
             for flag in re.findall(r"`(--[a-z][a-z0-9-]*)", line)}
    assert ("sidecar", "--store") in cited
    unknown = sorted(f"{process}: {flag}" for process, flag in cited if flag not in declared[process])
    assert unknown == []
