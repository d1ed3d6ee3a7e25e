"""serving.sidecar.kubeapi against a stand-in for the API server on loopback (HTTPS, a throwaway CA):
the requests a real API server would get, with the pod's token, the right verbs and content types."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from serving.sidecar.k8s import ANNOTATION, KubeReporter
from serving.sidecar.kubeapi import ApiError, ConfigError, InClusterAPI
from tests.storefront import _Server
from tests.tls import issue, make_ca


class ApiServer:
    """Records each request; answers like the API server (a list for GET pods, the object otherwise)."""

    def __init__(self, tmp: Path, allowed: set[tuple[str, str]]):
        self.requests: list[tuple[str, str, dict, object]] = []
        ca_pem, ca = make_ca("kubernetes")
        leaf = issue(ca, "kubernetes.default.svc", server=True)
        (tmp / "ca.crt").write_bytes(ca_pem.cert)
        (tmp / "token").write_text("token-1\n")
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _do(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                server.requests.append((self.command, self.path, dict(self.headers), body))
                resource = "events" if "/events" in self.path else "pods"
                if self.headers.get("Authorization") != f"Bearer {(tmp / 'token').read_text().strip()}":
                    return self._reply(401, {"kind": "Status", "reason": "Unauthorized"})
                if (self.command, resource) not in allowed:
                    return self._reply(403, {"kind": "Status", "reason": "Forbidden"})
                items = {"items": [{"metadata": {"name": "pod-a", "annotations": {ANNOTATION: "{}"}}}]}
                self._reply(200, items if self.command == "GET" else body)

            def _reply(self, code, obj):
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = _do  # noqa: N815

            def log_message(self, *args):
                pass

        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        (tmp / "leaf.pem").write_bytes(leaf.cert)
        (tmp / "leaf.key").write_bytes(leaf.key)
        context.load_cert_chain(tmp / "leaf.pem", tmp / "leaf.key")
        self.httpd = _Server(("127.0.0.1", 0), Handler, context)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(self.port)}

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def api_server(tmp_path):
    server = ApiServer(tmp_path, allowed={("POST", "events"), ("PATCH", "pods"), ("GET", "pods")})
    yield server
    server.close()


def test_events_and_the_annotation_reach_the_api_server(api_server, tmp_path):
    api = InClusterAPI.load(environ=api_server.env, account_dir=tmp_path)
    reporter = KubeReporter("pod-a", "plants", api=api)
    reporter.event("fuel", "Promoted", "version 3 is stable")
    reporter.annotate({"fuel": {"stable": 3}})
    (method, path, headers, body), (pmethod, ppath, pheaders, pbody) = api_server.requests
    assert (method, path) == ("POST", "/api/v1/namespaces/plants/events")
    assert body["involvedObject"]["name"] == "pod-a" and body["reason"] == "Promoted"
    assert (pmethod, ppath) == ("PATCH", "/api/v1/namespaces/plants/pods/pod-a")
    assert pheaders["Content-Type"] == "application/merge-patch+json"
    assert json.loads(pbody["metadata"]["annotations"][ANNOTATION]) == {"fuel": {"stable": 3}}
    assert headers["Authorization"] == "Bearer token-1"


def test_a_rotated_token_is_read_again_and_pods_are_listed(api_server, tmp_path):
    api = InClusterAPI.load(environ=api_server.env, account_dir=tmp_path)
    (tmp_path / "token").write_text("token-2")
    pods = api.list_namespaced_pod("plants", "app.kubernetes.io/instance=ps")
    assert pods[0]["metadata"]["name"] == "pod-a"
    assert api_server.requests[-1][1] == "/api/v1/namespaces/plants/pods?labelSelector=app.kubernetes.io%2Finstance%3Dps"
    assert api_server.requests[-1][2]["Authorization"] == "Bearer token-2"


def test_errors_are_typed_and_reporting_never_raises(tmp_path):
    server = ApiServer(tmp_path, allowed=set())  # RBAC grants nothing
    try:
        api = InClusterAPI.load(environ=server.env, account_dir=tmp_path)
        with pytest.raises(ApiError) as err:
            api.create_namespaced_event("plants", {"reason": "x"})
        assert err.value.status == 403
        KubeReporter("pod-a", "plants", api=api).event("fuel", "Promoted", "v3")  # logged, not raised
    finally:
        server.close()
    with pytest.raises(ConfigError, match="token"):
        InClusterAPI.load(environ={"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, account_dir=tmp_path / "none")
