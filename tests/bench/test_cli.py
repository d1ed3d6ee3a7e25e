"""``plantserve bench`` end to end against scripted stand-in servers: files written, numbers
reproducible from the samples, and open-loop latency that does not hide a slow server."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from serving.bench.samples import read_csv
from tests.client.fakes import Behaviour, FakeGrpcServer, FakeRestServer
from tests.support import free_port, run_cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check_outputs(out: Path, name: str) -> dict:
    result = json.loads((out / f"{name}.json").read_text())
    assert (out / f"{name}.png").read_bytes()[:8] == PNG_MAGIC
    rows = [r for r in read_csv(out / f"{name}-samples.csv") if r["phase"] == "measured"]
    ok = np.array([float(r["latency_ms"]) for r in rows if r["status"] == "OK"])
    assert result["ok"] == ok.size > 0 and result["requests"] == len(rows)
    for key, q in (("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)):
        assert result["latency_ms"][key] == pytest.approx(np.percentile(ok, q), abs=1e-3)
    assert result["latency_ms"]["max"] == pytest.approx(ok.max(), abs=1e-3)
    assert result["throughput_per_second"] == pytest.approx(ok.size / result["duration_seconds"])
    return result


@pytest.mark.parametrize("mode", ["closed", "open"])
def test_grpc_bench_writes_json_png_and_reproducible_percentiles(tmp_path: Path, mode: str):
    port = free_port()
    with FakeGrpcServer(port, Behaviour()):
        res = run_cli("bench", "m", "--target", f"127.0.0.1:{port}", "--mode", mode, "--rate", "200",
                      "--concurrency", "4", "--warmup-seconds", "0.5", "--duration-seconds", "1.5",
                      "--out", str(tmp_path), "--name", f"g{mode}")
    assert res.returncode == 0, res.stderr
    assert "p99.9" in res.stdout
    result = _check_outputs(tmp_path, f"g{mode}")
    assert result["protocol"] == "grpc" and result["mode"] == mode and result["errors"] == {}
    if mode == "open":
        assert result["sent_per_second"] == pytest.approx(200, rel=0.02)


def test_rest_bench_counts_errors_by_status(tmp_path: Path):
    port = free_port()
    behaviour = Behaviour(script=["503"] * 5 + ["400"] * 3)
    with FakeRestServer(port, behaviour):
        res = run_cli("bench", "m", "--target", f"http://127.0.0.1:{port}", "--mode", "open", "--rate", "100",
                      "--warmup-seconds", "0", "--duration-seconds", "1", "--out", str(tmp_path), "--name", "r")
    assert res.returncode == 0, res.stderr
    result = _check_outputs(tmp_path, "r")
    assert result["errors"] == {"HTTP_400": 3, "HTTP_503": 5}
    assert result["requests"] == 100


def test_open_loop_latency_includes_waiting_behind_a_slow_server(tmp_path: Path):
    # One connection, a 100 ms server and 20 requests/s: the server can do 10/s, so requests
    # queue up. A coordinated-omission client would report ~100 ms; the truth grows to ~1 s.
    port = free_port()
    with FakeRestServer(port, Behaviour(delay_seconds=0.1)):
        res = run_cli("bench", "m", "--target", f"http://127.0.0.1:{port}", "--mode", "open", "--rate", "20",
                      "--connections", "1", "--warmup-seconds", "0", "--duration-seconds", "2",
                      "--timeout-seconds", "10", "--out", str(tmp_path), "--name", "slow")
    assert res.returncode == 0, res.stderr
    result = _check_outputs(tmp_path, "slow")
    assert result["service_time_ms"]["max"] < 400
    assert result["latency_ms"]["max"] > 3 * result["service_time_ms"]["p50"]
    assert result["latency_ms"]["max"] > 700


def test_bad_settings_exit_2(tmp_path: Path):
    res = run_cli("bench", "m", "--target", "127.0.0.1:1", "--mode", "open", "--out", str(tmp_path))
    assert res.returncode == 2 and "--rate" in res.stderr
