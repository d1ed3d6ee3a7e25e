"""``plantserve serve`` over gRPC and REST with the fuel model, beside an in-process call (the floor).

For batch 1 and 32 and concurrency 1, 8 and 32 (closed loop, one client thread per concurrent caller) it
prints throughput and p50/p99/p99.9 latency, and the overhead over the in-process floor. The floor is
the model call the server makes: the version loaded into a TensorFlow session through the C API
(``serving.server.servable``) and called with numpy arrays; beside it, as before, the same version
through ``tf.saved_model.load`` (what the server ran until it loaded models as TF Serving does). A
second server with ``--enable_batching`` runs gRPC at concurrency 32. The peer figure: one TF Serving
CPU pod serves about 1,000 QPS at p99 10 ms (tensorflow/serving#1618).

The defect model (a model call of about 0.5 ms, where fuel's is under 0.1 ms) is measured at
concurrency 32 with batching off and on too, when the store has it: batching can only save model time.

Last, the same client drives a gRPC server whose Predict does nothing (``--echo``, a separate process
like the real server): the most any Python gRPC server reaches here. Batching only removes model time,
so ``echo / batching off`` bounds what batching can gain on this machine. The batch-1 gRPC latency is
split into that round trip, the in-process model call, and what is left: plantserve's own work
(decoding, checks, encoding, metrics; issue 12's goal is 0.10 ms at p50).

Set ``PLANTSERVE_BENCH_STORE`` to a store holding ``fuel/<v>`` to skip training;
``PLANTSERVE_BENCH_SECONDS`` sets the time per cell (default 3); ``PLANTSERVE_BENCH_BEFORE`` to an older
checkout of this repository (``git worktree add /tmp/before <commit>``) measures its server's gRPC
batch 1 and batching at concurrency 32 in the same run, for before/after ratios.
"""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FEATURES = ("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin")
ROW = dict(zip(FEATURES, (4.0, 97.0, 88.0, 2130.0, 14.5, 70.0, 3.0)))
PEER_QPS, PEER_P99_MS = 1000.0, 10.0


def _seconds() -> float:
    return float(os.environ.get("PLANTSERVE_BENCH_SECONDS", "3"))


def fuel_store(tmp: Path) -> Path:
    """PLANTSERVE_BENCH_STORE, or a store under ``tmp`` with a freshly trained fuel model."""
    store = os.environ.get("PLANTSERVE_BENCH_STORE")
    if store:
        return Path(store)
    store_path = tmp / "store"
    subprocess.run([sys.executable, "-m", "serving.cli", "train", "fuel", "--store", str(store_path), "--quiet"],
                   cwd=REPO, check=True, capture_output=True, text=True)
    return store_path


def _echo_main(port: int) -> None:
    """A Predict that answers an empty PredictResponse at once: Python gRPC's own per-call cost."""
    from concurrent import futures

    import grpc

    same = lambda b: b  # noqa: E731 - bytes in, bytes out: not even protobuf parsing
    handler = grpc.method_handlers_generic_handler("tensorflow.serving.PredictionService", {
        "Predict": grpc.unary_unary_rpc_method_handler(lambda request, context: b"", same, same)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max(8, 4 * (os.cpu_count() or 1))))
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("ready", flush=True)
    server.wait_for_termination()


class EchoServer:
    def __init__(self) -> None:
        self.grpc_port = _free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_server", "--echo", str(self.grpc_port)],
                                     cwd=REPO, stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"echo server exited {self.proc.wait(30)}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self.proc.stdout.close()


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``plantserve serve`` on free loopback ports; ``code`` is the checkout whose server runs (this one
    by default; ``PLANTSERVE_BENCH_BEFORE`` names an older one to measure beside it)."""

    def __init__(self, store: Path, tmp: Path, batching: bool, code: Path = REPO, model: str = "fuel") -> None:
        self.grpc_port, self.rest_port = _free_port(), _free_port()
        args = [sys.executable, "-m", "serving.cli", "--log-level", "WARNING", "serve", f"--port={self.grpc_port}",
                f"--rest_api_port={self.rest_port}", f"--model_name={model}", f"--model_base_path={store / model}"]
        if batching:
            conf = tmp / "batching.config"
            conf.write_text("max_batch_size { value: 64 } batch_timeout_micros { value: 1000 } "
                            "num_batch_threads { value: 2 } max_enqueued_batches { value: 1000 }")
            args += ["--enable_batching", f"--batching_parameters_file={conf}"]
        self.log = open(tmp / f"server-{self.grpc_port}.log", "wb")
        env = {**os.environ, "PLANTSERVE_SERVE_HOST": "127.0.0.1", "PYTHONPATH": str(code)}
        self.proc = subprocess.Popen(args, cwd=code, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}; see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.rest_port, timeout=1)
                conn.request("GET", f"/v1/models/{model}")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def _closed_loop(make_caller, concurrency: int, seconds: float) -> tuple[float, list[float]]:
    """Run ``concurrency`` callers for ``seconds`` after a short warm-up; returns (calls/s, latencies in s)."""
    stop, start_measure = threading.Event(), threading.Event()
    latencies: list[list[float]] = [[] for _ in range(concurrency)]

    def worker(i: int) -> None:
        call = make_caller()
        mine = latencies[i]
        while not stop.is_set():
            t0 = time.perf_counter()
            call()
            if start_measure.is_set():
                mine.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    time.sleep(min(1.0, seconds / 3))  # warm-up, not synchronisation
    start_measure.set()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - began
    for t in threads:
        t.join(30)
    merged = [x for part in latencies for x in part]
    return len(merged) / elapsed, merged


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def _version(store: Path) -> Path:
    return max((p for p in (store / "fuel").iterdir() if p.name.isdigit()), key=lambda p: int(p.name))


def _inproc_caller(store: Path, batch: int):
    """The server's own model call: the session runner, numpy in and out."""
    from serving.server import tfc
    from serving.server.servable import load_servable
    from serving.server.startup import session_threads
    from serving.server.flags import ServerSettings

    path = _version(store)
    servable = load_servable("fuel", int(path.name), str(path), ("serve",),
                             tfc.session_config(*session_threads(ServerSettings())))
    signature = servable.signature("serving_default")

    def make():
        def call():
            return signature.call([np.full(batch, ROW[n], np.float32) for n in signature.input_names])[0]
        return call
    return make


def _eager_caller(store: Path, batch: int):
    """Before: the same version through ``tf.saved_model.load`` and its signature function."""
    import tensorflow as tf

    fn = tf.saved_model.load(str(_version(store))).signatures["serving_default"]

    def make():
        def call():
            kwargs = {n: tf.constant(np.full(batch, ROW[n], np.float32)) for n in FEATURES}
            return fn(**kwargs)["mpg"].numpy()
        return call
    return make


def _grpc_caller(port: int, batch: int):
    import grpc

    from serving.protocol import messages, services
    from serving.protocol.tensors import to_ndarray, to_tensor_proto

    def make():
        stub = services.PredictionServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))

        def call():
            request = messages.PredictRequest()
            request.model_spec.name = "fuel"
            for n in FEATURES:
                to_tensor_proto(np.full(batch, ROW[n], np.float32), content=False, proto=request.inputs[n])
            response = stub.Predict(request, timeout=30)
            return to_ndarray(response.outputs["mpg"]) if response.outputs else None
        return call
    return make


def _defect_caller(port: int):
    """One 28x28 image per call: a model whose run costs more than the server's own work."""
    import grpc

    from serving.protocol import messages, services
    from serving.protocol.tensors import to_tensor_proto

    def make():
        stub = services.PredictionServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        request = messages.PredictRequest()
        request.model_spec.name = "defect"
        to_tensor_proto(np.full((1, 28, 28, 1), 0.5, np.float32), proto=request.inputs["image"])

        def call():
            return stub.Predict(request, timeout=30)
        return call
    return make


def _rest_caller(port: int, batch: int):
    def make():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def call():
            body = json.dumps({"instances": [ROW] * batch})
            conn.request("POST", "/v1/models/fuel:predict", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                raise RuntimeError(data[:200])
            return json.loads(data)["predictions"]
        return call
    return make


def main() -> None:
    seconds = _seconds()
    rows: list[dict] = []

    def measure(maker, transport: str, batching: str, batch: int, conc: int) -> None:
        rate, lat = _closed_loop(maker, conc, seconds)
        rows.append(dict(transport=transport, batching=batching, batch=batch, conc=conc, rate=rate,
                         p50=_pct(lat, 50), p99=_pct(lat, 99), p999=_pct(lat, 99.9)))
        _print_row(rows[-1], rows)

    before = os.environ.get("PLANTSERVE_BENCH_BEFORE")
    with tempfile.TemporaryDirectory(prefix="bench_server_") as tmp_dir:
        tmp = Path(tmp_dir)
        store = fuel_store(tmp)
        measure(_eager_caller(store, 1), "TF2 eager", "-", 1, 1)  # the floor before, for the ratio
        if before:
            for batching in (False, True):
                old = Server(store, tmp, batching=batching, code=Path(before))
                try:
                    for conc in (1, 32) if not batching else (32,):
                        measure(_grpc_caller(old.grpc_port, 1), "gRPC before", "on" if batching else "off", 1, conc)
                finally:
                    old.stop()
        server = Server(store, tmp, batching=False)
        try:
            for batch in (1, 32):
                for conc in (1, 8, 32):
                    for transport, maker in (("in-process", _inproc_caller(store, batch)),
                                             ("gRPC", _grpc_caller(server.grpc_port, batch)),
                                             ("REST", _rest_caller(server.rest_port, batch))):
                        measure(maker, transport, "off", batch, conc)
        finally:
            server.stop()
        batched = Server(store, tmp, batching=True)
        try:
            for conc in (8, 32):
                measure(_grpc_caller(batched.grpc_port, 1), "gRPC", "on", 1, conc)
        finally:
            batched.stop()
        if (store / "defect").is_dir():
            for batching in (False, True):
                defect = Server(store, tmp, batching=batching, model="defect")
                try:
                    measure(_defect_caller(defect.grpc_port), "defect", "on" if batching else "off", 1, 32)
                finally:
                    defect.stop()
        else:
            print("(no defect model in the store: batching is measured on fuel only)")
        echo = EchoServer()
        try:
            for conc in (1, 32):
                measure(_grpc_caller(echo.grpc_port, 1), "gRPC echo", "-", 1, conc)
        finally:
            echo.stop()
    _summary(rows)


def _find(rows, **kw) -> dict | None:
    return next((r for r in rows if all(r[k] == v for k, v in kw.items())), None)


def _print_row(row: dict, rows: list[dict]) -> None:
    if len(rows) == 1:
        print(f"{'transport':<11}{'batching':<9}{'batch':>6}{'conc':>6}{'req/s':>10}{'pred/s':>10}"
              f"{'p50 ms':>9}{'p99 ms':>9}{'p99.9 ms':>10}{'p50 over floor':>16}", flush=True)
    floor = _find(rows, transport="in-process", batch=row["batch"], conc=row["conc"])
    over = "" if row["transport"] not in ("gRPC", "REST") or floor is None else f"{row['p50'] - floor['p50']:+.3f} ms"
    print(f"{row['transport']:<11}{row['batching']:<9}{row['batch']:>6}{row['conc']:>6}{row['rate']:>10.0f}"
          f"{row['rate'] * row['batch']:>10.0f}{row['p50']:>9.3f}{row['p99']:>9.3f}{row['p999']:>10.3f}{over:>16}",
          flush=True)


def _summary(rows: list[dict]) -> None:
    floor = _find(rows, transport="in-process", batch=1, conc=1)
    eager = _find(rows, transport="TF2 eager", batch=1, conc=1)
    grpc1 = _find(rows, transport="gRPC", batch=1, conc=1, batching="off")
    grpc8 = _find(rows, transport="gRPC", batch=1, conc=8, batching="off")
    off32 = _find(rows, transport="gRPC", batch=1, conc=32, batching="off")
    on32 = _find(rows, transport="gRPC", batch=1, conc=32, batching="on")
    echo1 = _find(rows, transport="gRPC echo", conc=1)
    print("\ntargets (issues 3 and 12):")
    if floor and grpc1 and echo1:
        ours = grpc1["p50"] - echo1["p50"] - floor["p50"]
        print(f"  gRPC batch-1 p50 {grpc1['p50']:.3f} ms = do-nothing gRPC round trip {echo1['p50']:.3f} ms "
              f"+ in-process model call {floor['p50']:.3f} ms + ours {ours:.3f} ms "
              f"(goal <= 0.10 ms) {'OK' if ours <= 0.10 else 'MISSED'}")
    if floor and eager:
        print(f"  in-process model call: session {floor['p50']:.3f} ms vs tf.saved_model.load before "
              f"{eager['p50']:.3f} ms p50 (ratio {floor['p50'] / eager['p50']:.2f}x)")
    if grpc8:
        print(f"  8 concurrent gRPC clients, batch 1: {grpc8['rate']:.0f} predictions/s at p99 {grpc8['p99']:.2f} ms "
              f"(peer TF Serving pod: {PEER_QPS:.0f} QPS at p99 {PEER_P99_MS:.0f} ms; ratio "
              f"{grpc8['rate'] / PEER_QPS:.2f}x) {'OK' if grpc8['rate'] >= 1000 and grpc8['p99'] <= 10 else 'MISSED'}")
    if off32 and on32:
        ratio = on32["rate"] / off32["rate"]
        print(f"  batching at concurrency 32, fuel: {on32['rate']:.0f} vs {off32['rate']:.0f} req/s without "
              f"({ratio:.2f}x; target >= 2x) {'OK' if ratio >= 2 else 'MISSED'}")
    defect_off, defect_on = (_find(rows, transport="defect", batching=b) for b in ("off", "on"))
    if defect_off and defect_on:
        ratio = defect_on["rate"] / defect_off["rate"]
        print(f"  batching at concurrency 32, defect (a model call of about 0.5 ms): {defect_on['rate']:.0f} vs "
              f"{defect_off['rate']:.0f} req/s without ({ratio:.2f}x; target >= 2x) {'OK' if ratio >= 2 else 'MISSED'}")
    before1 = _find(rows, transport="gRPC before", batch=1, conc=1)
    before_off, before_on = (_find(rows, transport="gRPC before", conc=32, batching=b) for b in ("off", "on"))
    if before1 and grpc1:
        print(f"  before/after, gRPC batch-1 p50: {before1['p50']:.3f} -> {grpc1['p50']:.3f} ms "
              f"({grpc1['p50'] / before1['p50']:.2f}x)")
    if before_off and before_on and off32 and on32:
        print(f"  before/after, concurrency 32: batching off {before_off['rate']:.0f} -> {off32['rate']:.0f} req/s "
              f"({off32['rate'] / before_off['rate']:.2f}x), on {before_on['rate']:.0f} -> {on32['rate']:.0f} req/s "
              f"({on32['rate'] / before_on['rate']:.2f}x); batching gained {before_on['rate'] / before_off['rate']:.2f}x "
              f"before, {on32['rate'] / off32['rate']:.2f}x now")
    echo = _find(rows, transport="gRPC echo", conc=32)
    if off32 and echo:
        print(f"  ceiling: a do-nothing Python gRPC server reaches {echo['rate']:.0f} req/s with the same client, "
              f"{echo['rate'] / off32['rate']:.2f}x batching-off; batching can gain no more than that here")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--echo"]:
        _echo_main(int(sys.argv[2]))
    else:
        main()
