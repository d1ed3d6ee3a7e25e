"""The sidecar's own HTTP port: /metrics, /readyz, /healthz, /startupz, /status.

Example::

    >>> handler_for(lambda: {}, lambda: True, lambda: True, lambda: True, None).__name__
    'Handler'
"""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

__all__ = ["serve_http", "handler_for"]

log = logging.getLogger(__name__)


def handler_for(status: Callable[[], dict[str, Any]], started: Callable[[], bool], ready: Callable[[], bool],
                healthy: Callable[[], bool], registry: CollectorRegistry | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _probe(self, ok: bool) -> None:
            self._send(200 if ok else 503, json.dumps({"ok": ok}).encode())

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            if path == "/metrics" and registry is not None:
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._probe(healthy())
            elif path == "/startupz":
                self._probe(started())
            elif path == "/readyz":
                self._probe(ready())
            elif path == "/status":
                self._send(200, json.dumps(status(), indent=2, sort_keys=True).encode())
            else:
                self._send(404, json.dumps({"error": f"no route {path}"}).encode())

        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug("http: " + fmt, *args)

    return Handler


def serve_http(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """Bind and serve in a daemon thread; the caller calls ``shutdown()``."""
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    return server
