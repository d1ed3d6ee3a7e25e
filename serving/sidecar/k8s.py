"""Optional Kubernetes reporting: rollout steps as Events on the pod, serving versions as an
annotation. Off outside a cluster (``--kubernetes`` and POD_NAME/POD_NAMESPACE turn it on).

RBAC the pod's service account needs: ``events`` create (core/v1) and ``pods`` patch in its namespace
(the chart's Role grants exactly these); ``plantserve rollout status`` needs ``pods`` list. The calls
go through ``kubeapi.InClusterAPI`` (no client library).

Example::

    >>> r = NullReporter(); r.event("fuel", "Promoted", "version 3 is stable"); r.annotate({})
"""
from __future__ import annotations

import datetime
import json
import logging
from typing import Any, Protocol

__all__ = ["Reporter", "NullReporter", "KubeReporter", "ANNOTATION"]

log = logging.getLogger(__name__)

ANNOTATION = "plantserve.io/serving"


class Reporter(Protocol):
    def event(self, model: str, reason: str, message: str, warning: bool = False) -> None: ...

    def annotate(self, serving: dict[str, Any]) -> None: ...


class NullReporter:
    def event(self, model: str, reason: str, message: str, warning: bool = False) -> None:
        return None

    def annotate(self, serving: dict[str, Any]) -> None:
        return None


class KubeReporter:
    """Reports through the kubernetes client. ``api`` is injectable (a CoreV1Api or a fake)."""

    def __init__(self, pod_name: str, namespace: str, api: Any | None = None) -> None:
        if api is None:
            from .kubeapi import InClusterAPI

            api = InClusterAPI.load()  # ConfigError outside a pod, or without a token
        self.api = api
        self.pod_name = pod_name
        self.namespace = namespace
        self._last_annotation: str | None = None

    def event(self, model: str, reason: str, message: str, warning: bool = False) -> None:
        now = datetime.datetime.now(datetime.timezone.utc)
        body = {
            "metadata": {"generateName": f"{self.pod_name}.", "namespace": self.namespace},
            "involvedObject": {"kind": "Pod", "name": self.pod_name, "namespace": self.namespace,
                               "apiVersion": "v1"},
            "reason": reason,
            "message": f"{model}: {message}"[:1024],
            "type": "Warning" if warning else "Normal",
            "source": {"component": "plantserve-sidecar"},
            "firstTimestamp": now.isoformat(), "lastTimestamp": now.isoformat(), "count": 1,
        }
        try:
            self.api.create_namespaced_event(self.namespace, body)
        except Exception as exc:  # noqa: BLE001 - reporting must never stop a rollout
            log.warning("could not record Kubernetes event %s for %s: %s", reason, model, exc)

    def annotate(self, serving: dict[str, Any]) -> None:
        value = json.dumps(serving, sort_keys=True, separators=(",", ":"))
        if value == self._last_annotation:
            return
        try:
            self.api.patch_namespaced_pod(self.pod_name, self.namespace,
                                          {"metadata": {"annotations": {ANNOTATION: value}}})
            self._last_annotation = value
        except Exception as exc:  # noqa: BLE001 - reporting must never stop a rollout
            log.warning("could not annotate pod %s/%s: %s", self.namespace, self.pod_name, exc)
