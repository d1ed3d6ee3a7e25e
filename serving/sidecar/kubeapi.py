"""The three Kubernetes API calls plantserve makes from inside a pod, over HTTPS with the pod's own
service-account token: no client library (the official one is a third of the sidecar image).

- ``create_namespaced_event(namespace, body)``: ``POST /api/v1/namespaces/NS/events``;
- ``patch_namespaced_pod(name, namespace, body)``: a JSON merge patch of one pod;
- ``list_namespaced_pod(namespace, label_selector)``: the pods' JSON objects.

The token is read again before each call (projected tokens rotate); the API server's CA and address
come from the service-account mount and ``KUBERNETES_SERVICE_HOST``/``_PORT``, as every in-cluster client
reads them.

Example (outside a cluster there is nothing to load)::

    >>> try:
    ...     InClusterAPI.load(environ={})
    ... except ConfigError as exc:
    ...     print(str(exc).split(":")[0])
    not inside a Kubernetes pod
"""
from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Mapping

__all__ = ["InClusterAPI", "ApiError", "ConfigError", "SERVICE_ACCOUNT_DIR"]

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class ConfigError(RuntimeError):
    """No in-cluster configuration: not in a pod, or no service-account token mounted."""


class ApiError(RuntimeError):
    """The API server answered an error; ``status`` is the HTTP status (403: RBAC, 404: no such object)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class InClusterAPI:
    def __init__(self, base_url: str, token_file: Path, ca_file: Path | None, timeout_seconds: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_file = token_file
        self.timeout_seconds = timeout_seconds
        self._context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, account_dir: Path = SERVICE_ACCOUNT_DIR) -> "InClusterAPI":
        env = os.environ if environ is None else environ
        host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT", "443")
        if not host:
            raise ConfigError("not inside a Kubernetes pod: KUBERNETES_SERVICE_HOST is not set")
        token = account_dir / "token"
        if not token.is_file():
            raise ConfigError(f"no service-account token at {token}: mount one (the chart projects it into the "
                              "sidecar when sidecar.kubernetes.enabled)")
        ca = account_dir / "ca.crt"
        host = f"[{host}]" if ":" in host else host
        return cls(f"https://{host}:{port}", token, ca if ca.is_file() else None)

    def _call(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token_file.read_text().strip()}",
            "Accept": "application/json", **({"Content-Type": content_type} if data is not None else {})})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds, context=self._context) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            raise ApiError(f"{method} {path}: HTTP {exc.code}: {detail}", exc.code) from exc

    def create_namespaced_event(self, namespace: str, body: dict[str, Any]) -> Any:
        return self._call("POST", f"/api/v1/namespaces/{_q(namespace)}/events", body)

    def patch_namespaced_pod(self, name: str, namespace: str, body: dict[str, Any]) -> Any:
        return self._call("PATCH", f"/api/v1/namespaces/{_q(namespace)}/pods/{_q(name)}", body,
                          "application/merge-patch+json")

    def list_namespaced_pod(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode({"labelSelector": label_selector})
        return self._call("GET", f"/api/v1/namespaces/{_q(namespace)}/pods?{query}").get("items", [])


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="")
