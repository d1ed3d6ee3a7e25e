"""The sidecar without TensorFlow (issue 10): before vs after, side by side in one run.

1. **Peak RSS**, steady with two models: ``plantserve sidecar`` syncing ``fuel`` and ``line2``
   from a loopback S3 server (moto) next to a real ``plantserve serve``, polling every second;
   ``VmHWM`` after STEADY_SECONDS of steady state. Goal: <= 100 MiB.
2. **Import and start**: importing what ``plantserve sidecar`` runs (fresh interpreter, best of 3),
   and process start to ``/startupz`` with both stable versions already on disk (best of 3).
   Goal: import <= 0.5 s.
3. **Wheel set**: ``pip install .[sidecar]`` into a fresh venv, size of what it added on disk, with
   the largest distributions. Goal: <= 150 MiB. Before: the ``.[full]`` set the image installed,
   summed from the installed distributions' file lists in this venv (no 1.5 GB download).

"Before" is the code at ``BEFORE_REF`` (the last commit whose sidecar imported TensorFlow),
unpacked with ``git archive``; "after" is this tree. Both sidecars drive this tree's server.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

from benchmarks.wheel_sets import closure_mib, fresh_venv_install

REPO = Path(__file__).resolve().parents[1]
BEFORE_REF = "c0266f4"
MODELS = ("fuel", "line2")
FEATURES = ("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin")
STEADY_SECONDS = 20
RUNS = 3
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
#: What ``plantserve sidecar`` imports before it serves (serving/sidecar/cli.py run()), S3 included.
IMPORTS = ("serving.cli", "serving.sidecar.cli", "serving.sidecar.agent", "serving.sidecar.http",
           "serving.sidecar.metrics", "serving.sidecar.tfserving", "serving.store", "prometheus_client", "boto3")
_IMPORT_TIMER = ("import time; t = time.perf_counter()\nimport " + ", ".join(IMPORTS) +
                 "\nimport sys; print(time.perf_counter() - t, int('tensorflow' in sys.modules))")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
def _s3(tmp: Path) -> Iterator[tuple[str, str]]:
    """moto's S3 server on loopback with both models published: (store URI, endpoint)."""
    from serving.store import S3Options, open_store

    port = _free_port()
    moto = Child([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], tmp / "moto.log",
                 REPO, {})
    endpoint = f"http://127.0.0.1:{port}"
    saved_env = {k: os.environ.get(k) for k in S3_ENV}
    os.environ.update(S3_ENV)
    try:
        _wait(lambda: moto.check_alive() or _http_ok(endpoint), 60, "moto")
        import boto3

        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
        store = open_store("s3://bench", s3=S3Options(endpoint_url=endpoint))
        for i, model in enumerate(MODELS):
            _publish(store, model, _build_model(tmp / f"saved-{model}", float(i + 1)), float(i + 1))
        yield "s3://bench", endpoint
    finally:
        moto.stop()
        for k, v in saved_env.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


class Pod:
    """One tree's sidecar (``tree``) next to this tree's server, on free loopback ports."""

    def __init__(self, tree: Path, root: Path, uri: str, endpoint: str) -> None:
        self.tree, self.root, self.uri, self.endpoint = tree, root, uri, endpoint
        self.base = root / "models"
        self.grpc, self.rest, self.http = _free_port(), _free_port(), _free_port()
        self.env = {**S3_ENV, "PYTHONPATH": str(tree), "TF_CPP_MIN_LOG_LEVEL": "2",
                    "PLANTSERVE_SERVE_HOST": "127.0.0.1"}
        self.runs = 0

    def sidecar(self) -> Child:
        self.runs += 1
        args = [sys.executable, "-m", "serving.cli", "--log-level", "WARNING", "sidecar", "--store", self.uri,
                "--models", ",".join(MODELS), "--model-base-path", str(self.base), "--server-grpc",
                f"127.0.0.1:{self.grpc}", "--server-rest", f"http://127.0.0.1:{self.rest}", "--http-port",
                str(self.http), "--http-host", "127.0.0.1", "--s3-endpoint-url", self.endpoint,
                "--poll-interval-seconds", "1"]
        return Child(args, self.root / f"sidecar-{self.runs}.log", self.tree, self.env)

    def server(self) -> Child:
        monitoring = self.root / "monitoring.config"
        monitoring.write_text('prometheus_config { enable: true, path: "/monitoring/prometheus/metrics" }\n')
        args = [sys.executable, "-m", "serving.cli", "--log-level", "WARNING", "serve", f"--port={self.grpc}",
                f"--rest_api_port={self.rest}", f"--model_config_file={self.base / 'models.config'}",
                "--file_system_poll_wait_seconds=1", f"--monitoring_config_file={monitoring}"]
        return Child(args, self.root / "server.log", REPO, {**self.env, "PYTHONPATH": str(REPO)})

    def wait(self, probe: str, child: Child, timeout: float) -> None:
        _wait(lambda: child.check_alive() or _http_ok(f"http://127.0.0.1:{self.http}/{probe}"), timeout,
              f"{self.tree.name} /{probe}", interval=0.005)


def _steady_peak_rss(pod: Pod) -> float:
    sidecar = pod.sidecar()
    server = None
    try:
        pod.wait("startupz", sidecar, 300)
        server = pod.server()
        pod.wait("readyz", sidecar, 300)
        time.sleep(STEADY_SECONDS)  # steady state is a duration: polls of the store, the server, its metrics
        sidecar.check_alive()
        return sidecar.peak_rss_mib()
    finally:
        sidecar.stop()
        if server is not None:
            server.stop()


def _start_to_startupz(pod: Pod) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.monotonic()
        sidecar = pod.sidecar()
        try:
            pod.wait("startupz", sidecar, 120)
            best = min(best, time.monotonic() - started)
        finally:
            sidecar.stop()
    return best


def _import_seconds(tree: Path) -> tuple[float, bool]:
    best, with_tf = float("inf"), False
    for _ in range(RUNS):
        out = subprocess.run([sys.executable, "-c", _IMPORT_TIMER], cwd=tree, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(tree), "TF_CPP_MIN_LOG_LEVEL": "2"}, check=True)
        seconds, tf_loaded = out.stdout.split()
        best, with_tf = min(best, float(seconds)), tf_loaded == "1"
    return best, with_tf


def _before_tree(tmp: Path) -> Path | None:
    dest = tmp / f"before-{BEFORE_REF}"
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", BEFORE_REF, "serving", "training", "pyproject.toml"],
                             capture_output=True)
    if archive.returncode != 0:
        print(f"  before: git archive {BEFORE_REF} failed ({archive.stderr.decode().strip()}); after only")
        return None
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def _row(name: str, before: str, after: str, ratio: str, goal: str) -> None:
    print(f"  {name:46} {before:>16} {after:>12} {ratio:>8} {goal:>10}", flush=True)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-lean-sidecar-"))
    try:
        trees = {"after": REPO}
        before = _before_tree(tmp)
        if before is not None:
            trees = {"before": before, "after": REPO}
        print(f"building two models and a loopback S3 store; then per tree: {STEADY_SECONDS} s steady, "
              f"{RUNS} imports, {RUNS} starts", flush=True)
        results: dict[str, dict[str, float]] = {}
        with _s3(tmp) as (uri, endpoint):
            for label, tree in trees.items():
                pod = Pod(tree, tmp / label, uri, endpoint)
                rss = _steady_peak_rss(pod)
                start = _start_to_startupz(pod)
                imported, with_tf = _import_seconds(tree)
                results[label] = {"rss": rss, "start": start, "import": imported}
                print(f"  {label}: peak RSS {rss:.0f} MiB, import {imported:.2f} s (tensorflow loaded: {with_tf}), "
                      f"start to /startupz {start:.2f} s", flush=True)
        print("wheel sets (this may take minutes: a fresh venv and pip install .[sidecar])", flush=True)
        after_set, top = fresh_venv_install(REPO, "sidecar", tmp / "venv")
        before_set, before_top = closure_mib((before or REPO) / "pyproject.toml", "full")
        old = results.get("before", {})
        new = results["after"]
        print(f"\n  {'':46} {'before ' + BEFORE_REF:>16} {'after':>12} {'ratio':>8} {'goal':>10}")
        for key, name, unit, goal in (("rss", "sidecar peak RSS, steady, 2 models", "MiB", "<= 100"),
                                      ("import", "import of what the sidecar runs", "s", "<= 0.5"),
                                      ("start", "start to /startupz, models on disk", "s", "")):
            had = old.get(key)
            _row(f"{name} ({unit})", f"{had:.2f}" if had is not None else "-", f"{new[key]:.2f}",
                 f"{had / new[key]:.1f}x" if had else "", goal)
        _row("wheel set (MiB): .[full] before, .[sidecar] after", f"{before_set:.0f}", f"{after_set:.0f}",
             f"{before_set / after_set:.1f}x", "<= 150")
        print("  largest distributions, before (.[full] as installed here, MiB): "
              + ", ".join(f"{name} {size:.0f}" for name, size in before_top[:6]))
        print("  largest distributions, after (the fresh .[sidecar] venv, MiB): "
              + ", ".join(f"{name} {size:.1f}" for name, size in top[:10]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
