"""Generate values.schema.json and the README values table from a chart's values.yaml.

    .venv/bin/python helm/tools/chartdocs.py helm/plantserve          # rewrite both
    .venv/bin/python helm/tools/chartdocs.py helm/plantserve --check  # exit 1 when stale

values.yaml is the single source: each key's ``# -- text`` comment (helm-docs form) becomes its
schema description and its README row. Types come from the default values; enums, bounds,
patterns and the Kubernetes pass-through objects are declared in RULES below. Every chart-owned
object gets ``additionalProperties: false``, so a typo in a values file fails ``helm lint``.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

PULL_POLICY = {"enum": ["Always", "IfNotPresent", "Never"]}
PORT = {"minimum": 1, "maximum": 65535}
TAG = {"minLength": 1, "not": {"enum": ["latest"]}, "pattern": r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"}
OPT_TAG = {"not": {"enum": ["latest"]}, "pattern": r"^$|^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"}
DIGEST = {"pattern": r"^$|^sha256:[a-f0-9]{64}$"}
QUANTITY = {"pattern": r"^[0-9]+(\.[0-9]+)?([EPTGMK]i?|[mk])?$"}
INT_QUANTITY = {"pattern": r"^[0-9]+([KMGT]i|[kMGT])?$"}  # whole units: the chart computes with them
DURATION = {"pattern": r"^([0-9]+(ms|s|m|h|d|w|y))+$"}
K8S_OBJECT = {"type": "object"}  # validated by Kubernetes itself (resources, affinity, ...)
K8S_LIST = {"type": "array", "items": {"type": "object"}}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}

#: Extra schema per dotted key path ("*" matches any one segment).
RULES: dict[str, dict[str, Any]] = {
    "replicaCount": {"minimum": 0},
    "imagePullSecrets": K8S_LIST,
    "*.image.pullPolicy": PULL_POLICY,
    "*.image.digest": DIGEST,
    "server.image.tag": TAG,
    "sidecar.image.tag": OPT_TAG,
    "training.image.tag": OPT_TAG,
    "tests.image.tag": OPT_TAG,
    "minio.image.tag": TAG,
    "server.grpcPort": PORT,
    "server.restPort": PORT,
    "sidecar.httpPort": PORT,
    "server.restApiTimeoutMs": {"minimum": 1},
    "server.fileSystemPollWaitSeconds": {"minimum": 0},
    "server.maxNumLoadRetries": {"minimum": 0},
    "server.loadRetryIntervalMicros": {"minimum": 0},
    "server.grpcMaxConnectionAgeMs": {"minimum": 1000},
    "server.monitoring.path": {"pattern": "^/"},
    "server.batching.maxBatchSize": {"minimum": 1},
    "server.batching.batchTimeoutMicros": {"minimum": 0},
    "server.batching.maxEnqueuedBatches": {"minimum": 1},
    "server.batching.numBatchThreads": {"minimum": 1},
    "server.batching.allowedBatchSizes": {"items": {"type": "integer", "minimum": 1}},
    "*.resources": K8S_OBJECT,
    "*.startupProbe.periodSeconds": {"minimum": 1},
    "*.startupProbe.failureThreshold": {"minimum": 1},
    "server.preStopSleepSeconds": {"minimum": 0},
    "*.extraArgs": {"items": {"type": "string", "pattern": "^--"}},
    "*.extraEnv": K8S_LIST,
    "server.extraVolumeMounts": K8S_LIST,
    "extraVolumes": K8S_LIST,
    "sidecar.store": {"pattern": r"^$|^(s3|gs|file)://.+|^/.+"},
    "sidecar.models": {"minItems": 1, "uniqueItems": True,
                       "items": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}},
    "training.models": {"minItems": 1, "uniqueItems": True,
                        "items": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}},
    "sidecar.s3EndpointUrl": {"pattern": r"^$|^https?://"},
    "sidecar.pollIntervalSeconds": {"minimum": 1},
    "sidecar.rollbackWindowSeconds": {"minimum": 0},
    "sidecar.keepVersions": {"minimum": 2},
    "sidecar.latencyP99Ratio": {"type": "number", "minimum": 1},
    "sidecar.latencySlackMs": {"type": "number", "minimum": 0},
    "sidecar.rollbackErrorRatio": {"type": "number", "minimum": 0, "maximum": 1},
    "sidecar.rollbackP99Ms": {"type": "number", "minimum": 0},
    "sidecar.logLevel": {"enum": ["DEBUG", "INFO", "WARNING", "ERROR"]},
    "modelVolume.sizeLimit": INT_QUANTITY,
    "tmpVolume.sizeLimit": INT_QUANTITY,
    "training.tmpSizeLimit": INT_QUANTITY,
    "storeCredentials.mode": {"enum": ["env", "file"]},
    "runtimeClassName": {"pattern": r"^$|^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"},
    "training.runtimeClassName": {"pattern": r"^$|^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"},
    "server.tls.serverName": {"pattern": r"^$|^[A-Za-z0-9*]([-A-Za-z0-9.]*[A-Za-z0-9])?$"},
    "modelVolume.medium": {"enum": ["", "Memory"]},
    "gpu.count": {"minimum": 1},
    "gpu.nodeSelector": STRING_MAP,
    "gpu.tolerations": K8S_LIST,
    "serviceAccount.annotations": STRING_MAP,
    "podAnnotations": STRING_MAP,
    "podLabels": STRING_MAP,
    "podSecurityContext": K8S_OBJECT,
    "securityContext": K8S_OBJECT,
    "terminationGracePeriodSeconds": {"minimum": 1},
    "nodeSelector": STRING_MAP,
    "tolerations": K8S_LIST,
    "affinity": K8S_OBJECT,
    "topologySpread.maxSkew": {"minimum": 1},
    "topologySpreadConstraints": K8S_LIST,
    "service.type": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
    "service.annotations": STRING_MAP,
    "ingress.annotations": STRING_MAP,
    "ingress.hosts": {"items": {
        "type": "object", "additionalProperties": False, "required": ["host", "paths"],
        "properties": {
            "host": {"type": "string"},
            "paths": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["path", "pathType"],
                "properties": {"path": {"type": "string", "pattern": "^/"},
                               "pathType": {"enum": ["Prefix", "Exact", "ImplementationSpecific"]}}}}}}},
    "ingress.tls": K8S_LIST,
    "autoscaling.minReplicas": {"minimum": 1},
    "autoscaling.maxReplicas": {"minimum": 1},
    "autoscaling.metric": {"enum": ["cpu", "requestRate"]},
    "autoscaling.targetCPUUtilizationPercentage": {"minimum": 1, "maximum": 100},
    "autoscaling.requestRate.targetAverageValue": QUANTITY,
    "podDisruptionBudget.maxUnavailable": {"type": ["integer", "string"], "minimum": 0,
                                           "pattern": "^[0-9]+%?$"},
    "networkPolicy.allowedClients": K8S_LIST,
    "networkPolicy.monitoringNamespaceSelector": STRING_MAP,
    "networkPolicy.ingressNamespaceSelector": STRING_MAP,
    "networkPolicy.dnsPeers": K8S_LIST,
    "networkPolicy.*.peers": K8S_LIST,
    "networkPolicy.*.ports": {"minItems": 1, "items": {"type": "integer", "minimum": 1, "maximum": 65535}},
    "metrics.serviceMonitor.interval": DURATION,
    "metrics.serviceMonitor.scrapeTimeout": DURATION,
    "metrics.*.labels": STRING_MAP,
    "metrics.*.annotations": STRING_MAP,
    "metrics.prometheusRule.additionalAlertLabels": STRING_MAP,
    "metrics.prometheusRule.latencyP99Ms": {"type": "number", "exclusiveMinimum": 0},
    "metrics.prometheusRule.errorRatio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    "metrics.prometheusRule.syncStaleSeconds": {"minimum": 60},
    "metrics.prometheusRule.versionSkewFor": DURATION,
    "training.cronJob.schedule": {"minLength": 9},
    "training.epochs": {"minimum": 0},
    "training.strategy": {"enum": ["full", "incremental", "finetune"]},
    "training.activeDeadlineSeconds": {"minimum": 60},
    "minio.persistenceSize": QUANTITY,
}


def _match(rule: str, path: str) -> bool:
    r, p = rule.split("."), path.split(".")
    return len(r) == len(p) and all(a in ("*", b) for a, b in zip(r, p))


def rules_for(path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rule, extra in RULES.items():
        if _match(rule, path):
            out.update(extra)
    return out


def descriptions(values_text: str) -> dict[str, str]:
    """Map dotted key paths to their ``# --`` comment, following indentation."""
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] = []
    collecting = False
    for line in values_text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending, collecting = [stripped[4:].strip()], True
            continue
        if stripped.startswith("#") and collecting:
            pending.append(stripped[1:].strip())
            continue
        collecting = False
        m = re.match(r"^(\s*)([A-Za-z0-9_.\-]+):", line)
        if not m or stripped.startswith("-"):
            continue
        indent = len(m.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, m.group(2)))
        path = ".".join(k for _, k in stack)
        if pending:
            out[path] = " ".join(pending)
            pending = []
    return out


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def schema_for(value: Any, path: str, docs: dict[str, str]) -> dict[str, Any]:
    extra = rules_for(path)
    node: dict[str, Any] = {"type": _type(value)}
    if isinstance(value, dict) and "type" not in extra:
        node["additionalProperties"] = False
        node["properties"] = {k: schema_for(v, f"{path}.{k}" if path else k, docs) for k, v in value.items()}
    elif isinstance(value, list) and "items" not in extra and "type" not in extra:
        node["items"] = schema_for(value[0], path + "[]", docs) if value else {"type": "string"}
    node.update(extra)
    if path in docs:
        node = {"description": docs[path], **node}
    return node


def build_schema(values_text: str) -> dict[str, Any]:
    values = yaml.safe_load(values_text)
    docs = descriptions(values_text)
    root = schema_for(values, "", docs)
    return {"$schema": "https://json-schema.org/draft-07/schema#", "title": "plantserve chart values", **root}


def _default(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else "see values.yaml"


def values_table(values_text: str) -> str:
    values = yaml.safe_load(values_text)
    docs = descriptions(values_text)
    rows = ["| Key | Type | Default | Description |", "|-----|------|---------|-------------|"]

    def walk(node: Any, path: str) -> None:
        documented_children = isinstance(node, dict) and any(k.startswith(path + ".") for k in docs)
        if path in docs and not documented_children:
            text = docs[path].replace("|", r"\|")
            rows.append(f"| `{path}` | {_type(node)} | `{_default(node)}` | {text} |")
            return
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else k)

    walk(values, "")
    return "\n".join(rows) + "\n"


BEGIN, END = "<!-- values-table:begin -->", "<!-- values-table:end -->"


def render_readme(readme: str, table: str) -> str:
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table}{END}{tail}"


def main(argv: list[str]) -> int:
    chart = Path(argv[0])
    check = "--check" in argv[1:]
    values_text = (chart / "values.yaml").read_text()
    outputs = {
        chart / "values.schema.json": json.dumps(build_schema(values_text), indent=2) + "\n",
        chart / "README.md": render_readme((chart / "README.md").read_text(), values_table(values_text)),
    }
    stale = [p for p, text in outputs.items() if not p.exists() or p.read_text() != text]
    if check:
        for p in stale:
            print(f"{p} is stale: run helm/tools/chartdocs.py {chart}", file=sys.stderr)
        return 1 if stale else 0
    for p in stale:
        p.write_text(outputs[p])
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
