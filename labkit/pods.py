"""Real processes for the sidecar's integration tests: ``plantserve serve`` + ``plantserve sidecar``
pairs ("pods") on loopback, a gRPC load generator, and /status, /metrics readers."""
from __future__ import annotations

import dataclasses
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from serving.protocol.tensors import to_ndarray
from serving.store import S3Options, open_store
from labkit.moto import S3Server
from labkit.procs import PLANTSERVE, Proc, free_port, wait_until

__all__ = ['http_get', 'Pod', 'Load', 's3_store', 'pod_env', 'fast_args', 'assert_no_secret', 'SECRET', 'MONITORING']

#: Never appears anywhere the sidecar writes (logs, /status, /metrics): checked by the tests.
SECRET = "plantserve-test-secret-Zq81x"
MONITORING = 'prometheus_config { enable: true, path: "/monitoring/prometheus/metrics" }\n'


def http_get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclasses.dataclass
class Pod:
    name: str
    root: Path
    store: str
    models: str
    sidecar_args: list[str]
    env: dict[str, str]
    grpc_port: int = dataclasses.field(default_factory=free_port)
    rest_port: int = dataclasses.field(default_factory=free_port)
    http_port: int = dataclasses.field(default_factory=free_port)
    sidecar: Proc | None = None
    server: Proc | None = None
    restarts: int = 0
    #: how the sidecar is started: ``plantserve`` (or a wrapper taking the same arguments)
    sidecar_launcher: list[str] = dataclasses.field(default_factory=lambda: list(PLANTSERVE))
    #: extra flags of ``plantserve serve`` (TF Serving's)
    server_args: list[str] = dataclasses.field(default_factory=list)

    @property
    def base(self) -> Path:
        return self.root / "models"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    # -- processes -------------------------------------------------------------------
    def start_sidecar(self) -> None:
        self.restarts += 1
        args = [*self.sidecar_launcher, "sidecar", "--store", self.store, "--models", self.models,
                "--model-base-path", str(self.base), "--server-grpc", f"127.0.0.1:{self.grpc_port}",
                "--server-rest", f"http://127.0.0.1:{self.rest_port}", "--http-port", str(self.http_port),
                "--http-host", "127.0.0.1", *self.sidecar_args]
        self.sidecar = Proc(args, self.root / f"sidecar-{self.restarts}.log", env=self.env)

    def start_server(self) -> None:
        monitoring = self.root / "monitoring.config"
        monitoring.write_text(MONITORING)
        args = [*PLANTSERVE, "serve", f"--port={self.grpc_port}", f"--rest_api_port={self.rest_port}",
                f"--model_config_file={self.base / 'models.config'}", "--file_system_poll_wait_seconds=1",
                f"--monitoring_config_file={monitoring}", "--max_num_load_retries=0", *self.server_args]
        self.server = Proc(args, self.root / f"server-{self.restarts}-{time.monotonic():.0f}.log")

    def start(self, timeout: float = 120) -> "Pod":
        self.root.mkdir(parents=True, exist_ok=True)
        self.start_sidecar()
        self.wait_probe("startupz", timeout)
        self.start_server()
        self.wait_probe("readyz", timeout)
        return self

    def stop(self) -> None:
        for proc in (self.sidecar, self.server):
            if proc is not None:
                proc.stop()

    def wait_probe(self, probe: str, timeout: float = 120) -> None:
        def ok() -> bool:
            for proc in (self.sidecar, self.server):
                if proc is not None and not proc.alive():
                    raise AssertionError(f"{proc.args[3]} exited:\n{proc.output()[-3000:]}")
            return http_get(f"{self.url}/{probe}")[0] == 200
        wait_until(ok, timeout=timeout, interval=0.2, what=f"{self.name} /{probe}")

    # -- reading -----------------------------------------------------------------------
    def status(self) -> dict:
        return json.loads(http_get(f"{self.url}/status")[1])

    def model(self, model: str = "fuel") -> dict:
        return self.status()["models"][model]

    def metrics(self) -> dict[tuple[str, tuple], float]:
        text = http_get(f"{self.url}/metrics")[1].decode()
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for fam in text_string_to_metric_families(text) for s in fam.samples}

    def metric(self, name: str, **labels) -> float | None:
        """The sample's value, summed over the labels not given (None when no sample matches)."""
        found = [v for (n, lbls), v in self.metrics().items()
                 if n == name and set(labels.items()) <= set(lbls)]
        return sum(found) if found else None

    def wait_stable(self, version: int, model: str = "fuel", timeout: float = 90) -> dict:
        def check():
            m = self.model(model)
            return m if m["stable"] == version and m["available"] and m["labels"].get("stable") == version else None
        return wait_until(check, timeout=timeout, interval=0.2, what=f"{self.name} {model} stable={version}")

    def wait_bad(self, version: int, model: str = "fuel", timeout: float = 90) -> dict:
        return wait_until(lambda: self.model(model)["bad"].get(str(version)), timeout=timeout, interval=0.2,
                          what=f"{self.name} {model} version {version} marked bad")


class Load:
    """Steady gRPC Predict load on a label; records failures and which version answered."""

    def __init__(self, grpc_port: int, model: str = "fuel", label: str = "stable",
                 inputs: dict[str, list[float]] | None = None, threads: int = 2, pause_seconds: float = 0.005) -> None:
        from serving.protocol import messages, services
        from serving.protocol.tensors import to_tensor_proto
        from tests.sidecar.models import GOLDEN_INPUTS

        # Reconnect within 100 ms of a server coming back (gRPC's default backoff grows to 120 s), so that
        # failures after a restart are the server's, not the channel's back-off.
        self.channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}", options=[
            ("grpc.initial_reconnect_backoff_ms", 50), ("grpc.min_reconnect_backoff_ms", 50),
            ("grpc.max_reconnect_backoff_ms", 100)])
        self.stub = services.PredictionServiceStub(self.channel)
        self.request = messages.PredictRequest()
        self.request.model_spec.name = model
        self.request.model_spec.version_label = label
        for name, values in (inputs or GOLDEN_INPUTS).items():
            to_tensor_proto(np.asarray(values, np.float32), proto=self.request.inputs[name])
        self.ok = 0
        self.failures: list[str] = []
        #: (monotonic time, what) of every failed request
        self.failure_log: list[tuple[float, str]] = []
        self.versions: list[int] = []
        self.latencies_ms: list[float] = []
        #: (monotonic time at completion, latency ms) of every OK request
        self.timeline: list[tuple[float, float]] = []
        self.pause_seconds = pause_seconds
        self.mpg: dict[int, list[float]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                response = self.stub.Predict(self.request, timeout=10)
            except grpc.RpcError as exc:
                with self._lock:
                    self.failures.append(f"{exc.code().name}: {exc.details()}")
                    self.failure_log.append((time.monotonic(), self.failures[-1]))
                time.sleep(max(self.pause_seconds, 0.01))
                continue
            elapsed = (time.perf_counter() - started) * 1000
            version = response.model_spec.version.value
            with self._lock:
                self.ok += 1
                self.latencies_ms.append(elapsed)
                self.timeline.append((time.monotonic(), elapsed))
                if not self.versions or self.versions[-1] != version:
                    self.versions.append(version)
                    self.mpg[version] = to_ndarray(response.outputs["mpg"]).tolist()
            time.sleep(self.pause_seconds)

    def switched(self, *path: int) -> bool:
        """Answers moved through ``path`` (e.g. 1 then 2), ignoring in-flight stragglers at a switch:
        first and last answers match, and nothing outside ``path`` ever answered."""
        with self._lock:
            seen = list(self.versions)
        return bool(seen) and seen[0] == path[0] and seen[-1] == path[-1] and set(seen) == set(path)

    def __enter__(self) -> "Load":
        for t in self._threads:
            t.start()
        wait_until(lambda: self.ok > 0 or self.failures, timeout=30, what="first load response")
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(15)
        self.channel.close()


def s3_store(server: S3Server, uri: str):
    return open_store(uri, s3=S3Options(endpoint_url=server.endpoint, max_attempts=2))


def pod_env(server: S3Server) -> dict[str, str]:
    return {**server.env, "AWS_SECRET_ACCESS_KEY": SECRET, "TF_CPP_MIN_LOG_LEVEL": "2"}


def fast_args(*extra: str) -> list[str]:
    """Short intervals for tests; a latency bound loose enough for a busy shared machine (the slow test
    model is ~20x slower than the others, far outside it)."""
    return ["--poll-interval-seconds", "0.5", "--latency-probe-requests", "30", "--load-timeout-seconds", "60",
            "--rollback-min-requests", "10", "--latency-p99-ratio", "3", "--latency-slack-ms", "10", *extra]


def assert_no_secret(pod: Pod) -> None:
    for text in [pod.sidecar.output(), pod.status().__repr__(), repr(pod.metrics())]:
        assert SECRET not in text
