"""The serving stack of the demo: ``plantserve sidecar`` and ``plantserve serve`` on loopback.

The order is the pod's: the sidecar first (it downloads each model's stable version and writes
the server's model config, then ``/startupz`` turns 200), then the server reading that config,
then ``/readyz`` once every model's stable version is loaded and its golden samples replayed.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, TextIO

from .children import PLANTSERVE, Child, Children
from .settings import MODELS, DemoSettings
from .signing import DemoKey

__all__ = ["Stack", "StackError", "free_port", "http_json"]

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
MONITORING_PATH = "/monitoring/prometheus/metrics"
#: Marks the model volume as the demo's own, so that a re-run may wipe it.
VOLUME_MARKER = ".plantserve-demo"
PROGRESS_EVERY_SECONDS = 5.0


class StackError(RuntimeError):
    """The stack did not come up; the message says which process and where its log is."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def http_json(url: str, timeout: float = 5.0) -> tuple[int, Any]:
    """GET ``url``: (status, parsed JSON or None). Connection errors raise OSError."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"null")
        except ValueError:
            return exc.code, None


@dataclasses.dataclass(frozen=True)
class Ports:
    grpc: int
    rest: int
    sidecar: int

    @classmethod
    def pick(cls) -> "Ports":
        ports: set[int] = set()
        while len(ports) < 3:
            ports.add(free_port())
        grpc, rest, sidecar = sorted(ports)
        return cls(grpc, rest, sidecar)


class Stack:
    def __init__(self, settings: DemoSettings, children: Children, out: TextIO) -> None:
        self.settings = settings
        self.children = children
        self.out = out
        self.ports = Ports.pick()
        self.sidecar: Child | None = None
        self.server: Child | None = None

    # -- addresses --------------------------------------------------------------------------
    @property
    def grpc_target(self) -> str:
        return f"{LOOPBACK}:{self.ports.grpc}"

    @property
    def rest_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.rest}"

    @property
    def sidecar_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.sidecar}"

    @property
    def server_metrics_url(self) -> str:
        return self.rest_url + MONITORING_PATH

    def status(self) -> dict[str, Any]:
        code, body = http_json(self.sidecar_url + "/status")
        if code != 200 or not isinstance(body, dict):
            raise StackError(f"sidecar /status answered {code}")
        return body

    # -- start-up ---------------------------------------------------------------------------
    def _prepare_volume(self) -> Path:
        """A fresh model volume for this run: the sidecar syncs it from the store it is given."""
        base = self.settings.model_base_path
        if base.exists():
            if not (base / VOLUME_MARKER).exists():
                raise StackError(f"{base} exists and was not made by the demo: remove it or pass another --work-dir")
            shutil.rmtree(base)
        base.mkdir(parents=True)
        (base / VOLUME_MARKER).write_text("the demo's model volume, wiped at every run\n")
        return base

    def start(self) -> None:
        s, p = self.settings, self.ports
        base = self._prepare_volume()
        monitoring = s.work_dir / "monitoring.config"
        monitoring.write_text(f'prometheus_config {{ enable: true, path: "{MONITORING_PATH}" }}\n')
        sidecar_argv = [
            *PLANTSERVE, "sidecar", "--store", s.store, "--models", ",".join(MODELS), "--model-base-path", str(base),
            "--server-grpc", self.grpc_target, "--server-rest", self.rest_url, "--http-host", LOOPBACK,
            "--http-port", str(p.sidecar), "--poll-interval-seconds", f"{s.poll_interval_seconds:g}",
            "--latency-p99-ratio", f"{s.latency_p99_ratio:g}", "--latency-slack-ms", f"{s.latency_slack_ms:g}",
            *(["--s3-endpoint-url", s.s3_endpoint_url] if s.s3_endpoint_url else []),
            # Signed models: every version must verify with the demo's key before it is loaded.
            "--trusted-keys", str(DemoKey.ensure(s.work_dir).public)]
        self.sidecar = self.children.start("sidecar", sidecar_argv)
        print(f"  sidecar   pid {self.sidecar.pid:<7}  {self.sidecar_url}  (log {self.sidecar.log_path})",
              file=self.out, flush=True)
        self._wait("startupz", "sidecar: every model's stable version on disk, server config written")
        server_argv = [
            *PLANTSERVE, "serve", f"--port={p.grpc}", f"--rest_api_port={p.rest}",
            f"--model_config_file={base / 'models.config'}", f"--monitoring_config_file={monitoring}",
            "--file_system_poll_wait_seconds=1", "--max_num_load_retries=1", "--load_retry_interval_micros=2000000"]
        self.server = self.children.start("serve", server_argv)
        print(f"  serve     pid {self.server.pid:<7}  gRPC {self.grpc_target}, REST {self.rest_url}  "
              f"(log {self.server.log_path})", file=self.out, flush=True)
        self._wait("readyz", "server: models loaded; sidecar: golden samples replayed")

    def _wait(self, probe: str, what: str) -> None:
        started = time.monotonic()
        deadline = started + self.settings.ready_timeout_seconds
        next_note = started + PROGRESS_EVERY_SECONDS
        while True:
            for child in (self.sidecar, self.server):
                if child is not None and not child.alive():
                    raise StackError(f"{child.name} exited with code {child.returncode} before /{probe}; "
                                     f"its log {child.log_path} ends with:\n{child.tail()}")
            try:
                if http_json(f"{self.sidecar_url}/{probe}", timeout=2.0)[0] == 200:
                    break
            except OSError:
                pass  # not listening yet
            now = time.monotonic()
            if now >= deadline:
                raise StackError(f"no /{probe} within --ready-timeout-seconds={self.settings.ready_timeout_seconds:g}; "
                                 f"sidecar status: {self._brief_status()}; see {self.settings.logs_dir}")
            if now >= next_note:
                print(f"    ... waiting for /{probe} ({now - started:.0f}s): {self._brief_status()}",
                      file=self.out, flush=True)
                next_note = now + PROGRESS_EVERY_SECONDS
            time.sleep(0.2)
        print(f"  /{probe} ok after {time.monotonic() - started:.1f}s ({what})", file=self.out, flush=True)

    def _brief_status(self) -> str:
        try:
            models = self.status()["models"]
        except (OSError, StackError, KeyError, ValueError):
            return "sidecar not answering yet"
        parts = []
        for name, m in models.items():
            states = ",".join(f"v{v} {st}" for v, st in (m.get("server_states") or {}).items()) or "not loaded"
            parts.append(f"{name} stable={m.get('stable')} {states}"
                         + (f" ({m['last_error'][:80]})" if m.get("last_error") else ""))
        return "; ".join(parts)
