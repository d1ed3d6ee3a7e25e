"""serving.client works with tensorflow unimportable (a meta path finder blocks it)."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.client.fakes import Behaviour, FakeGrpcServer, FakeRestServer
from tests.support import REPO, free_port


def run_blocked(target: str, model: str, inputs: dict, *extra: str) -> dict:
    args = [sys.executable, "-m", "tests.client.no_tensorflow", target, model, json.dumps(inputs), *extra]
    res = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_blocker_really_blocks():
    res = subprocess.run([sys.executable, "-c", "import tests.client.no_tensorflow as m, sys; "
                          "m.Blocker(m.BLOCKED).install(); import tensorflow"],
                         capture_output=True, text=True, timeout=60, cwd=REPO)
    assert res.returncode != 0 and "blocked in this test" in res.stderr


def test_predict_over_grpc_and_rest_without_tensorflow():
    grpc_port, rest_port = free_port(), free_port()
    with FakeGrpcServer(grpc_port, Behaviour()), FakeRestServer(rest_port, Behaviour()):
        for target in (f"127.0.0.1:{grpc_port}", f"http://127.0.0.1:{rest_port}"):
            out = run_blocked(target, "fuel", {"x": [1.0, 2.0]})
            assert out["outputs"] == {"x": [2.0, 4.0]} and out["loaded"] == []


def test_plantserve_predict_and_bench_cli_without_tensorflow(tmp_path):
    port = free_port()
    (tmp_path / "in.json").write_text('{"x": [1.0]}')
    script = ("import sys, tests.client.no_tensorflow as m; m.Blocker(m.BLOCKED).install(); "
              "from serving.cli import main; sys.exit(main(sys.argv[1:]))")
    with FakeGrpcServer(port, Behaviour()):
        for args in (["predict", "fuel", "--target", f"127.0.0.1:{port}", "--json", str(tmp_path / "in.json")],
                     ["bench", "fuel", "--target", f"127.0.0.1:{port}", "--duration-seconds", "0.5",
                      "--warmup-seconds", "0", "--workers", "1", "--no-plot", "--out", str(tmp_path)]):
            res = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120,
                                 cwd=REPO)
            assert res.returncode == 0, res.stderr
    assert (tmp_path / "bench.json").is_file()
