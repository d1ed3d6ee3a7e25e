"""The sidecar with the real trained models (fuel and defect from `plantserve train`): both pass
their golden replay at start-up, and a new fuel version goes through every gate while defect is
untouched."""
from __future__ import annotations

import dataclasses
import shutil

from serving.store import open_store
from serving.store.manifest import Manifest
from serving.store.repository import ModelRepository
from tests.sidecar.harness import Load, Pod, fast_args


def test_trained_models_start_verified_and_roll_out(model_store_copy, tmp_path, pods):
    pod = Pod("pod-real", tmp_path / "pod", str(model_store_copy), "fuel,defect", fast_args(), {})
    pods.append(pod)
    pod.start()
    status = pod.status()
    assert status["ready"] and {m: s["stable"] for m, s in status["models"].items()} == {"fuel": 1, "defect": 1}
    assert all(s["last_error"] is None or "server not reachable" in s["last_error"]
               for s in status["models"].values())

    store = open_store(str(model_store_copy))
    src = model_store_copy / "fuel" / "1"
    manifest = Manifest.from_json((src / "manifest.json").read_text())
    staged = tmp_path / "fuel-2"
    shutil.copytree(src, staged, ignore=shutil.ignore_patterns("manifest.json"))
    with Load(pod.grpc_port, threads=1) as load:
        ModelRepository(store, "fuel").publish(staged, dataclasses.replace(manifest, version=2))
        m = pod.wait_stable(2)
    assert load.failures == [] and load.switched(1, 2)
    assert m["last_rollout"]["result"] == "promoted" and m["previous"] == 1
    assert pod.model("defect")["stable"] == 1 and pod.model("defect")["available"]
    assert pod.metric("plantserve_rollout_total", model="defect", result="promoted") == 0
