"""Generate the plantserve Grafana dashboard with grafana-foundation-sdk.

    .venv/bin/python helm/plantserve/dashboards/generate.py          # rewrite plantserve.json
    .venv/bin/python helm/plantserve/dashboards/generate.py --check  # exit 1 when it is stale

The chart ships the JSON (templates/configmap-dashboard.yaml); tests/chart checks that it matches
this generator and tests/monitoring runs every panel's PromQL against a real Prometheus.

Variables: ``$datasource`` (Prometheus), ``$namespace``, ``$model`` (multi). GPU panels use the
standard DCGM exporter metrics (DCGM_FI_DEV_GPU_UTIL, DCGM_FI_DEV_FB_USED, DCGM_FI_DEV_FB_FREE)
with the exporter's pod/namespace labels (scrape it with honorLabels: true, as the GPU operator does).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as dm

OUT = Path(__file__).with_name("plantserve.json")
DS = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")

# Selectors shared by every query. TF Serving labels the model `model_name`; the sidecar `model`.
TFS = 'namespace="$namespace", model_name=~"$model"'
SIDE = 'namespace="$namespace", model=~"$model"'
RI = "$__rate_interval"
#: Restricts DCGM series to pods that run the plantserve sidecar.
OUR_PODS = 'and on (namespace, pod) plantserve_store_reachable{namespace="$namespace"}'


def latency_queries() -> list[tuple[str, str]]:
    out = []
    for q in ("0.5", "0.95", "0.99"):
        expr = (f"histogram_quantile({q}, sum by (model_name, API, entrypoint, le) "
                f"(rate(:tensorflow:serving:request_latency_bucket{{{TFS}}}[{RI}]))) / 1000")
        out.append((expr, f"p{int(float(q) * 100)} {{{{model_name}}}} {{{{API}}}} {{{{entrypoint}}}}"))
    return out


#: (row title, [(panel title, unit, [(expr, legend)], description)])
PANELS: list[tuple[str, list[tuple[str, str, list[tuple[str, str]], str]]]] = [
    ("Requests", [
        ("Latency p50 / p95 / p99 by model, API and entrypoint", "ms", latency_queries(),
         "From :tensorflow:serving:request_latency (microseconds; OK requests only)."),
        ("Request rate by status", "reqps", [
            (f"sum by (model_name, status) (rate(:tensorflow:serving:request_count{{{TFS}}}[{RI}]))",
             "{{model_name}} {{status}}"),
        ], "Requests per second from :tensorflow:serving:request_count, by gRPC status code."),
        ("Error ratio (non-OK)", "percentunit", [
            (f'(sum by (model_name) (rate(:tensorflow:serving:request_count{{{TFS}, status!="OK"}}[{RI}]))'
             f" or sum by (model_name) (rate(:tensorflow:serving:request_count{{{TFS}}}[{RI}])) * 0)"
             f" / sum by (model_name) (rate(:tensorflow:serving:request_count{{{TFS}}}[{RI}]))",
             "{{model_name}}"),
        ], "Share of requests with a status other than OK (0 when every request succeeds)."),
    ]),
    ("Versions and rollouts", [
        ("Versions serving per pod", "none", [
            (f"max by (pod, model, label) (plantserve_model_label_version{{{SIDE}}})", "{{pod}} {{model}} {{label}}"),
        ], "The version each pod's stable and previous labels point at (sidecar)."),
        ("Version states", "none", [
            (f"sum by (model, state) (plantserve_model_version_state{{{SIDE}}} == 1)", "{{model}} {{state}}"),
        ], "Versions per TF Serving state across the pods (GetModelStatus, via the sidecar)."),
        ("Rollout timeline", "none", [
            (f"sum by (model, result) (increase(plantserve_rollout_total{{{SIDE}}}[{RI}]))", "{{model}} {{result}}"),
        ], "Promotions, rejections and rollbacks."),
        ("Rollout step duration p90", "s", [
            (f"histogram_quantile(0.9, sum by (step, le) (rate(plantserve_rollout_step_seconds_bucket{{{SIDE}}}[{RI}])))",
             "{{step}}"),
        ], "Download, verify, load, golden set, latency probe and promote."),
    ]),
    ("Sync", [
        ("Sync download duration p95", "s", [
            (f"histogram_quantile(0.95, sum by (model, le) (rate(plantserve_sync_download_seconds_bucket{{{SIDE}}}[{RI}])))",
             "{{model}}"),
        ], "Time to download and verify a version from the store."),
        ("Sync bytes", "Bps", [
            (f"sum by (model) (rate(plantserve_sync_download_bytes_total{{{SIDE}}}[{RI}]))", "{{model}}"),
        ], "Bytes downloaded from the store per second."),
        ("Seconds since last successful sync", "s", [
            (f"time() - max by (pod, model) (plantserve_sync_last_success_timestamp_seconds{{{SIDE}}})",
             "{{pod}} {{model}}"),
        ], "Alerts at metrics.prometheusRule.syncStaleSeconds."),
    ]),
    ("GPU (DCGM exporter)", [
        ("GPU utilisation", "percent", [
            (f'avg by (pod, gpu) (DCGM_FI_DEV_GPU_UTIL{{namespace="$namespace"}} {OUR_PODS})', "{{pod}} GPU {{gpu}}"),
        ], "DCGM_FI_DEV_GPU_UTIL of the GPUs assigned to plantserve pods."),
        ("GPU memory used", "decmbytes", [
            (f'sum by (pod, gpu) (DCGM_FI_DEV_FB_USED{{namespace="$namespace"}} {OUR_PODS})', "{{pod}} GPU {{gpu}}"),
            (f'sum by (pod, gpu) ((DCGM_FI_DEV_FB_USED{{namespace="$namespace"}} + DCGM_FI_DEV_FB_FREE{{namespace="$namespace"}})'
             f' {OUR_PODS})', "{{pod}} GPU {{gpu}} total"),
        ], "Framebuffer memory (MiB) from DCGM_FI_DEV_FB_USED and DCGM_FI_DEV_FB_FREE."),
    ]),
]


def build() -> dict:
    board = (
        dashboard.Dashboard("plantserve")
        .uid("plantserve")
        .description("TensorFlow Serving and the plantserve sidecar: latency, errors, versions, sync and GPUs.")
        .tags(["plantserve", "tensorflow-serving"])
        .refresh("30s")
        .time("now-1h", "now")
        .timezone("browser")
        .editable()
        .with_variable(dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus"))
        .with_variable(
            dashboard.QueryVariable("namespace").label("Namespace").datasource(DS)
            .query("label_values(plantserve_store_reachable, namespace)").refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
        )
        .with_variable(
            dashboard.QueryVariable("model").label("Model").datasource(DS)
            .query('label_values(plantserve_model_available{namespace="$namespace"}, model)')
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).multi(True).include_all(True).all_value(".*")
        )
    )
    ids = iter(range(1, 1000))  # stable, unique panel ids (links such as ?viewPanel=N rely on them)
    for row_title, panels in PANELS:
        board = board.with_row(dashboard.Row(row_title).id(next(ids)))
        for title, unit, queries, description in panels:
            panel = (timeseries.Panel().id(next(ids)).title(title).description(description).unit(unit).datasource(DS)
                     .height(8).span(12).fill_opacity(10))
            for i, (expr, legend) in enumerate(queries):
                panel = panel.with_target(
                    prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(chr(ord("A") + i)).range()
                )
            board = board.with_panel(panel)
    return json.loads(JSONEncoder(sort_keys=True, indent=2).encode(board.build()))


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is stale: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
