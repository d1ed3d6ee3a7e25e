"""`promtool check rules` on the chart's alerts, `promtool test rules` unit tests (each alert
firing and not firing), and the dashboard's queries checked as PromQL by promtool too."""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.chart.charts import run, tool
from tests.monitoring import promql

HERE = Path(__file__).resolve().parent


def test_promtool_check_rules(tmp_path):
    rules = promql.write_rules(tmp_path / "rules.yaml")
    result = run([tool("promtool"), "check", "rules", str(rules)])
    assert f"SUCCESS: {len(promql.alerts())} rules found" in result.stdout, result.stdout


def test_promtool_check_rules_fails_on_bad_promql(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "sum by (x (up)"}]}]}))
    assert run([tool("promtool"), "check", "rules", str(bad)], check=False).returncode != 0


def test_promtool_unit_tests(tmp_path):
    promql.write_rules(tmp_path / "rules.yaml", strip_annotations=True)
    shutil.copy(HERE / "alerts.test.yaml", tmp_path / "alerts.test.yaml")
    result = run([tool("promtool"), "test", "rules", str(tmp_path / "alerts.test.yaml")], check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_case():
    spec = yaml.safe_load((HERE / "alerts.test.yaml").read_text())
    firing, quiet = set(), set()
    for t in spec["tests"]:
        for case in t.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = set(promql.alerts())
    assert names - firing == set(), "alerts without a firing test"
    assert names - quiet == set(), "alerts without a not-firing test"
    assert {"PlantserveLatencyP99High", "PlantserveErrorRatioHigh", "PlantserveRolloutRejected",
            "PlantserveRolledBack", "PlantserveSyncStale", "PlantserveNoAvailableVersion",
            "PlantservePodOnOldVersion"} <= names


def test_unit_tests_fail_when_an_alert_is_broken(tmp_path):
    """The unit tests can fail: with the latency threshold raised, the firing case no longer fires."""
    groups = promql.rule_groups(strip_annotations=True)
    for g in groups:
        for r in g["rules"]:
            if r.get("alert") == "PlantserveLatencyP99High":
                r["expr"] = r["expr"].replace("> 250", "> 900")
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    shutil.copy(HERE / "alerts.test.yaml", tmp_path / "alerts.test.yaml")
    result = run([tool("promtool"), "test", "rules", str(tmp_path / "alerts.test.yaml")], check=False)
    assert result.returncode != 0 and "PlantserveLatencyP99High" in result.stdout + result.stderr


def test_dashboard_queries_are_valid_promql(tmp_path):
    queries = promql.panel_queries(namespace="plantserve")
    assert len(queries) >= 14
    rules = [{"record": f"plantserve:dashboard_query_{i}", "expr": expr} for i, (_, expr) in enumerate(queries)]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run([tool("promtool"), "check", "rules", str(path)], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_covers_the_required_panels():
    titles = " | ".join(p["title"] for p in promql.panels())
    exprs = " ".join(e for _, e in promql.panel_queries("plantserve"))
    for q in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({q}, sum by (model_name, API, entrypoint, le)" in exprs
    for metric in (":tensorflow:serving:request_latency_bucket", ":tensorflow:serving:request_count",
                   "plantserve_model_label_version", "plantserve_rollout_total", "plantserve_sync_download_seconds_bucket",
                   "plantserve_sync_download_bytes_total", "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED"):
        assert metric in exprs, metric
    assert "Versions serving per pod" in titles and "Rollout timeline" in titles
