"""The sidecar runs without TensorFlow: ``plantserve sidecar`` with tensorflow and tensorflow_serving
unimportable (a meta path finder refuses them) takes a real ``plantserve serve`` through a complete
rollout and an automatic rollback, and neither importing its CLI nor running it loads or even tries
to import TensorFlow."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.sidecar.harness import Load, Pod, fast_args, pod_env, s3_store
from tests.sidecar.integration import publish as pub
from tests.support import REPO, wait_until

BLOCKED_SIDECAR = [sys.executable, "-m", "tests.sidecar.no_tensorflow"]


def test_importing_the_sidecar_cli_loads_no_tensorflow() -> None:
    script = ("import sys, serving.cli, serving.sidecar.cli; "
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tensorflow_serving')))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def pod(moto, saved_models, tmp_path_factory):
    uri = moto.make_bucket("no-tensorflow")
    store = s3_store(moto, uri)
    pub.good(store, 1, saved_models, "v_scale1")
    pod = Pod("no-tf", tmp_path_factory.mktemp("no-tf"), uri, "fuel",
              fast_args("--s3-endpoint-url", moto.endpoint, "--rollback-window-seconds", "300"), pod_env(moto),
              sidecar_launcher=BLOCKED_SIDECAR)
    try:
        pod.start()
        yield {"pod": pod, "store": store, "saved": saved_models}
    finally:
        pod.stop()


def test_rollout_and_rollback_with_tensorflow_unimportable(pod) -> None:
    p, store, saved = pod["pod"], pod["store"], pod["saved"]
    with Load(p.grpc_port, threads=2) as steady:
        wait_until(lambda: steady.ok > 20, what="steady load")
        pub.good(store, 2, saved, "v_scale2")
        promoted = p.wait_stable(2)
        assert promoted["last_rollout"]["result"] == "promoted"
        assert set(promoted["last_rollout"]["steps_seconds"]) >= {"download", "verify", "load", "golden",
                                                                  "latency_probe", "promote"}
        pub.good(store, 3, saved, "fail_above")
        p.wait_stable(3)
        bad_inputs = {k: [200.0] for k in ("cylinders", "displacement", "horsepower", "weight", "acceleration",
                                          "model_year", "origin")}
        with Load(p.grpc_port, inputs=bad_inputs, threads=1):
            bad = p.wait_bad(3, timeout=60)
            p.wait_stable(2)
        wait_until(lambda: steady.versions[-1] == 2, what="steady load back on version 2")
    assert bad["reason"] == "rolled_back" and "error ratio" in bad["detail"]
    assert steady.failures == [] and steady.switched(1, 2, 3, 2)
    assert steady.mpg[2] == [2 * x for x in steady.mpg[1]]

    assert p.sidecar.stop() == 0
    report = json.loads(p.sidecar.log_path.read_text().strip().splitlines()[-1])
    assert report == {"loaded": [], "attempts": []}
