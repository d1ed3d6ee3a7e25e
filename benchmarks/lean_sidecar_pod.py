"""Processes of bench_lean_sidecar: a loopback S3 store (moto) holding two small models, and a
"pod": a sidecar (from a given interpreter and tree) next to this tree's ``plantserve serve``.

Nothing here reads env or starts anything at import time.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

from labkit.procs import environ, free_port

__all__ = ["REPO", "MODELS", "Child", "Runtime", "Pod", "loopback_s3"]

REPO = Path(__file__).resolve().parents[1]
MODELS = ("fuel", "line2")
FEATURES = ("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin")
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def _wait(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Child:
    """A child process in its own process group, its output in a log file."""

    def __init__(self, args: list[str], log: Path, cwd: Path, env: dict[str, str]) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.popen = subprocess.Popen(args, cwd=cwd, env={**os.environ, **env}, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True)

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.log.name} exited {self.popen.returncode}:\n{self.log.read_text()[-2000:]}")

    def peak_rss_mib(self) -> float:
        status = Path(f"/proc/{self.popen.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)


def _build_model(dest: Path, scale: float) -> Path:
    """A small SavedModel: ``mpg = scale * sum(inputs)`` on seven float inputs."""
    import tensorflow as tf

    class Fuel(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = tf.Variable(scale)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name=f) for f in FEATURES])
        def serve(self, *inputs):
            return {"mpg": self.scale * tf.add_n(list(inputs))}

    module = Fuel()
    tf.saved_model.save(module, str(dest), signatures={"serving_default": module.serve})
    return dest


def _publish(store, model: str, saved: Path, scale: float) -> None:
    from serving.store.manifest import Golden, Manifest, PrimaryMetric, file_entries
    from serving.store.repository import ModelRepository

    inputs = {f: [1.0, 2.0] for f in FEATURES}
    signature = {"method_name": "tensorflow/serving/predict",
                 "inputs": {f: {"dtype": "DT_FLOAT", "shape": [-1]} for f in FEATURES},
                 "outputs": {"mpg": {"dtype": "DT_FLOAT", "shape": [-1]}}}
    manifest = Manifest(model=model, version=1, files=file_entries(saved), signatures={"serving_default": signature},
                        metrics={}, primary_metric=PrimaryMetric("mae", "min", 1.0), data_fingerprint="bench",
                        golden=Golden("serving_default", inputs, {"mpg": [scale * 7.0, scale * 14.0]}))
    ModelRepository(store, model).publish(saved, manifest)


@contextlib.contextmanager
def loopback_s3(tmp: Path) -> Iterator[tuple[str, str]]:
    """moto's S3 server on loopback with both models published: (store URI, endpoint)."""
    from serving.store import S3Options, open_store

    port = free_port()
    moto = Child([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], tmp / "moto.log",
                 REPO, {})
    endpoint = f"http://127.0.0.1:{port}"
    try:
        with environ(S3_ENV):
            _wait(lambda: moto.check_alive() or _http_ok(endpoint), 60, "moto")
            import boto3

            boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
            store = open_store("s3://bench", s3=S3Options(endpoint_url=endpoint))
            for i, model in enumerate(MODELS):
                _publish(store, model, _build_model(tmp / f"saved-{model}", float(i + 1)), float(i + 1))
            yield "s3://bench", endpoint
    finally:
        moto.stop()


@dataclasses.dataclass(frozen=True)
class Runtime:
    """Where a sidecar's code comes from: ``python`` with ``tree`` first on its path, or with the copy
    installed in its venv when ``tree`` is None."""

    name: str
    python: str
    tree: Path | None

    def env(self) -> dict[str, str]:
        env = {**S3_ENV, "TF_CPP_MIN_LOG_LEVEL": "2", "PLANTSERVE_SERVE_HOST": "127.0.0.1"}
        return {**env, "PYTHONPATH": str(self.tree)} if self.tree is not None else env


class Pod:
    """A sidecar of ``runtime`` next to this tree's server, on free loopback ports."""

    def __init__(self, runtime: Runtime, root: Path, uri: str, endpoint: str) -> None:
        self.runtime, self.root, self.uri, self.endpoint = runtime, root, uri, endpoint
        self.base = root / "models"
        self.base.mkdir(parents=True)
        self.grpc, self.rest, self.http = free_port(), free_port(), free_port()
        self.runs = 0

    def sidecar(self, kubernetes: bool = False) -> Child:
        """With ``kubernetes``, ``--kubernetes`` outside a cluster: the client is imported, then the
        in-cluster config is missing and reporting stays off."""
        self.runs += 1
        args = [self.runtime.python, "-m", "serving.cli", "--log-level", "WARNING", "sidecar", "--store", self.uri,
                "--models", ",".join(MODELS), "--model-base-path", str(self.base), "--server-grpc",
                f"127.0.0.1:{self.grpc}", "--server-rest", f"http://127.0.0.1:{self.rest}", "--http-port",
                str(self.http), "--http-host", "127.0.0.1", "--s3-endpoint-url", self.endpoint,
                "--poll-interval-seconds", "1"]
        env = self.runtime.env()
        if kubernetes:
            args.append("--kubernetes")
            env.update(POD_NAME="bench", POD_NAMESPACE="bench")
        return Child(args, self.root / f"sidecar-{self.runs}.log", self.runtime.tree or self.root, env)

    def server(self) -> Child:
        monitoring = self.root / "monitoring.config"
        monitoring.write_text('prometheus_config { enable: true, path: "/monitoring/prometheus/metrics" }\n')
        args = [sys.executable, "-m", "serving.cli", "--log-level", "WARNING", "serve", f"--port={self.grpc}",
                f"--rest_api_port={self.rest}", f"--model_config_file={self.base / 'models.config'}",
                "--file_system_poll_wait_seconds=1", f"--monitoring_config_file={monitoring}"]
        return Child(args, self.root / "server.log", REPO, {**self.runtime.env(), "PYTHONPATH": str(REPO)})

    def wait(self, probe: str, child: Child, timeout: float) -> None:
        _wait(lambda: child.check_alive() or _http_ok(f"http://127.0.0.1:{self.http}/{probe}"), timeout,
              f"{self.runtime.name} /{probe}", interval=0.005)
