"""``plantserve serve`` start-up: from the process starting to the first gRPC prediction of the fuel model.

Issue 12's goal is 3 s (the stand-in took 6.5 s when it imported TensorFlow's Python package and loaded
models with ``tf.saved_model.load``). Side by side in one run:

- ours: spawn ``plantserve serve`` and poll Predict every 10 ms until it answers (best and median of 3);
- before: what that start-up paid first, ``import tensorflow`` plus ``tf.saved_model.load`` of the same
  version, in a fresh interpreter (best of 3), which the C-API loader no longer pays;
- the rejection of a config file that does not parse (flags and files are read before TensorFlow).

Set ``PLANTSERVE_BENCH_STORE`` to a store holding ``fuel/<v>`` to skip training.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_server import FEATURES, fuel_store
from labkit.procs import free_port

REPO = Path(__file__).resolve().parents[1]
GOAL_SECONDS, BEFORE_SECONDS = 3.0, 6.5
RUNS = 3


def _request():
    from serving.protocol import messages
    from serving.protocol.tensors import to_tensor_proto

    request = messages.PredictRequest()
    request.model_spec.name = "fuel"
    for name in FEATURES:
        to_tensor_proto(np.ones(1, np.float32), proto=request.inputs[name])
    return request


def time_to_first_prediction(store: Path, log: Path) -> float:
    """Seconds from spawning ``plantserve serve`` to its first answered Predict."""
    import grpc

    from serving.protocol import services

    port = free_port()
    env = {**os.environ, "PLANTSERVE_SERVE_HOST": "127.0.0.1"}
    args = [sys.executable, "-m", "serving.cli", "--log-level", "WARNING", "serve", f"--port={port}",
            "--model_name=fuel", f"--model_base_path={store / 'fuel'}"]
    request = _request()
    with open(log, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = services.PredictionServiceStub(channel)
        try:
            deadline = started + 180
            while time.perf_counter() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(f"plantserve serve exited {proc.returncode}; see {log}")
                try:
                    stub.Predict(request, timeout=1)
                    return time.perf_counter() - started
                except grpc.RpcError:
                    time.sleep(0.01)
            raise RuntimeError("no prediction within 180 s")
        finally:
            channel.close()
            proc.terminate()
            proc.wait(30)


def time_import_and_load(store: Path) -> float:
    """Seconds for a fresh interpreter to import TensorFlow and ``tf.saved_model.load`` the version."""
    version = max((p for p in (store / "fuel").iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    code = f"import tensorflow as tf; tf.saved_model.load({str(version)!r})"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return time.perf_counter() - started


def time_bad_config(tmp: Path) -> float:
    bad = tmp / "bad.config"
    bad.write_text("improperly formatted file")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "serving.cli", "serve", "--port=8500",
                             f"--model_config_file={bad}"], cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 255:
        raise RuntimeError(f"a bad config exited {result.returncode}")
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench_startup_") as tmp_dir:
        tmp = Path(tmp_dir)
        store = fuel_store(tmp)
        ours = [time_to_first_prediction(store, tmp / f"serve-{i}.log") for i in range(RUNS)]
        before = [time_import_and_load(store) for _ in range(RUNS)]
        rejection = min(time_bad_config(tmp) for _ in range(RUNS))
    best, median = min(ours), statistics.median(ours)
    print(f"start-up to the first fuel prediction: best {best:.2f} s, median {median:.2f} s over {RUNS} runs "
          f"(goal <= {GOAL_SECONDS:.1f} s; {BEFORE_SECONDS:.1f} s before) {'OK' if best <= GOAL_SECONDS else 'MISSED'}")
    print(f"  what the old start-up paid first, import tensorflow + tf.saved_model.load: best {min(before):.2f} s; "
          f"ratio ours/that {best / min(before):.2f}x")
    print(f"  a config file that does not parse is refused in {rejection:.2f} s (before TensorFlow loads)")


if __name__ == "__main__":
    main()
