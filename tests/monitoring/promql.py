"""The chart's PromQL in one place for the monitoring tests: alert rules rendered by helm, and
the dashboard's panel queries with Grafana's variables substituted."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from tests.chart.charts import CHART, one, render_scenario

DASHBOARD = CHART / "dashboards" / "plantserve.json"


def rule_groups(strip_annotations: bool = False) -> list[dict]:
    """The PrometheusRule's groups as rendered for ci/03-gpu (release and namespace plantserve)."""
    groups = json.loads(json.dumps(one(render_scenario("03-gpu"), "PrometheusRule")["spec"]["groups"]))
    if strip_annotations:
        for g in groups:
            for r in g["rules"]:
                r.pop("annotations", None)
    return groups


def write_rules(path: Path, strip_annotations: bool = False) -> Path:
    path.write_text(yaml.safe_dump({"groups": rule_groups(strip_annotations)}, sort_keys=False))
    return path


def alerts() -> dict[str, str]:
    return {r["alert"]: r["expr"] for g in rule_groups() for r in g["rules"] if "alert" in r}


def panels() -> list[dict]:
    board = json.loads(DASHBOARD.read_text())
    out = []
    for p in board["panels"]:
        out.extend(p.get("panels", []) if p["type"] == "row" else [p])
    return [p for p in out if p.get("targets")]


def panel_queries(namespace: str, model: str = ".*", rate_interval: str = "1m") -> list[tuple[str, str]]:
    """(panel title/refId, expr) with $namespace, $model and $__rate_interval substituted."""
    out = []
    for p in panels():
        for t in p["targets"]:
            expr = (t["expr"].replace("$__rate_interval", rate_interval)
                    .replace("$namespace", namespace).replace("$model", model))
            assert "$" not in expr, f"unsubstituted variable in {p['title']}: {expr}"
            out.append((f"{p['title']} [{t['refId']}]", expr))
    return out


def metric_names(expr: str) -> set[str]:
    """Metric names used in an expression (identifiers followed by a label matcher or range)."""
    names = set(re.findall(r"([:a-zA-Z_][:a-zA-Z0-9_]*)\s*\{", expr))
    return {n for n in names if n not in {"by", "on", "without", "ignoring", "group_left", "group_right"}}
