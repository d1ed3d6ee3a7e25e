"""Acceptance 1, 2, 3, 7, 8 on one pod (server + sidecar) and a loopback S3 store.

The tests run in order against one pod: each publishes the next version number.
"""
from __future__ import annotations

import threading

import pytest

from tests.sidecar.harness import Load, Pod, assert_no_secret, fast_args, http_get, pod_env, s3_store
from tests.sidecar.integration import publish as pub
from tests.support import wait_until


@pytest.fixture(scope="module")
def world(moto, saved_models, tmp_path_factory):
    uri = moto.make_bucket("rollout")
    store = s3_store(moto, uri)
    pub.good(store, 1, saved_models, "v_scale1")
    pod = Pod("pod-a", tmp_path_factory.mktemp("pod-a"), uri, "fuel",
              fast_args("--s3-endpoint-url", moto.endpoint, "--rollback-window-seconds", "300"), pod_env(moto))
    try:
        pod.root.mkdir(parents=True, exist_ok=True)
        pod.start_sidecar()
        pod.wait_probe("startupz")
        # /startupz: the stable version is verified on disk and the config written, before any server.
        assert (pod.base / "fuel" / "1" / "saved_model.pb").is_file()
        assert 'name: "fuel"' in (pod.base / "models.config").read_text()
        assert http_get(f"{pod.url}/readyz")[0] == 503
        pod.start_server()
        pod.wait_probe("readyz")
        yield {"store": store, "pod": pod, "saved": saved_models}
    finally:
        pod.stop()


class DirWatch:
    """Samples the model dir: every name ever seen, to prove a bad version never became an integer dir."""

    def __init__(self, path):
        self.path, self.seen, self._stop = path, set(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.seen |= {p.name for p in self.path.iterdir()}
            except OSError:
                pass
            self._stop.wait(0.01)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def test_1_published_version_is_promoted_without_failed_requests(world):
    pod = world["pod"]
    assert pod.model()["labels"] == {"stable": 1}
    with Load(pod.grpc_port, threads=3) as load:
        wait_until(lambda: load.ok > 20, what="steady load")
        pub.good(world["store"], 2, world["saved"], "v_scale2")
        m = pod.wait_stable(2)
        wait_until(lambda: load.versions[-1] == 2, what="load answered by version 2")
    assert load.failures == [] and load.switched(1, 2)
    assert load.mpg[2] == [2 * x for x in load.mpg[1]]
    assert m["previous"] == 1 and m["labels"] == {"stable": 2, "previous": 1}
    assert m["last_rollout"]["result"] == "promoted"
    assert set(m["last_rollout"]["steps_seconds"]) >= {"download", "verify", "load", "golden", "latency_probe", "promote"}
    assert m["server_states"]["2"] == "AVAILABLE" and m["server_states"]["1"] == "AVAILABLE"


def test_2_corrupt_truncated_or_unmanifested_versions_never_appear(world):
    pod, store, saved = world["pod"], world["store"], world["saved"]
    with DirWatch(pod.base / "fuel") as watch, Load(pod.grpc_port) as load:
        pub.truncated(store, 5, saved)
        pub.no_manifest(store, 4, saved)
        pub.wrong_sha(store, 3, saved)
        bad = pod.wait_bad(3)
        assert bad["reason"] == "integrity" and "sha256 mismatch" in bad["detail"]
        wait_until(lambda: pod.model()["versions_in_store"] == [1, 2, 3], what="store listing without 4 and 5")
    assert not {"3", "4", "5"} & watch.seen
    assert load.failures == [] and set(load.versions) == {2}
    assert not {"3", "4", "5"} & set(pod.model()["server_states"])
    assert pod.metric("plantserve_sync_downloads_total", model="fuel", result="integrity_error") == 1


@pytest.mark.parametrize("version, kind, step", [
    (6, "unloadable", "load"), (7, "golden", "golden"), (8, "slow", "latency_probe"),
    (9, "incompatible", "compatibility")])
def test_3_bad_behaviour_is_rejected_and_stable_keeps_serving(world, version, kind, step, tmp_path):
    pod, store, saved = world["pod"], world["store"], world["saved"]
    with Load(pod.grpc_port) as load:
        if kind == "unloadable":
            pub.unloadable(store, version, saved, tmp_path)
        elif kind == "golden":
            pub.golden_mismatch(store, version, saved)
        elif kind == "slow":
            pub.good(store, version, saved, "slow")
        else:
            pub.incompatible(store, version, saved)
        bad = pod.wait_bad(version, timeout=120)
    assert bad["reason"] == step, bad
    m = pod.model()
    assert m["stable"] == 2 and m["labels"]["stable"] == 2 and m["last_rollout"]["result"] == "rejected"
    assert load.failures == [] and set(load.versions) == {2}
    assert version not in m["versions_on_disk"] and str(version) not in m["server_states"]


def test_7_error_spike_after_promotion_rolls_back(world):
    pod, store, saved = world["pod"], world["store"], world["saved"]
    with Load(pod.grpc_port) as steady:
        pub.good(store, 10, saved, "fail_above")
        pod.wait_stable(10)
        bad_inputs = {k: [200.0] for k in ("cylinders", "displacement", "horsepower", "weight",
                                             "acceleration", "model_year", "origin")}
        with Load(pod.grpc_port, inputs=bad_inputs, threads=1) as failing:
            bad = pod.wait_bad(10, timeout=60)
            m = pod.wait_stable(2)
        wait_until(lambda: steady.versions[-1] == 2, what="steady load back on version 2")
    assert bad["reason"] == "rolled_back" and "error ratio" in bad["detail"]
    assert failing.failures and all(f.startswith("INVALID_ARGUMENT") for f in failing.failures)
    assert steady.failures == [] and steady.switched(2, 10, 2)
    assert m["previous"] is None and m["labels"] == {"stable": 2}
    assert pod.metric("plantserve_rollout_total", model="fuel", result="rolled_back") == 1


def test_8_metrics_and_status_after_the_scenarios(world):
    pod = world["pod"]
    wait_until(lambda: pod.metric("plantserve_model_version_state", model="fuel", version="10", state="END") in (1, None),
               what="version 10 unloaded")
    got = pod.metric
    assert got("plantserve_model_label_version", model="fuel", label="stable") == 2
    assert got("plantserve_model_version_state", model="fuel", version="2", state="AVAILABLE") == 1
    assert got("plantserve_model_available", model="fuel") == 1
    assert got("plantserve_rollout_total", model="fuel", result="promoted") == 2
    assert got("plantserve_rollout_total", model="fuel", result="rejected") == 5
    assert got("plantserve_sync_downloads_total", model="fuel", result="ok") == 7  # 1, 2, 6-10 (3 failed its sha256)
    assert got("plantserve_sync_download_bytes_total", model="fuel") > 0
    assert got("plantserve_sync_download_seconds_count", model="fuel") == 7
    assert got("plantserve_sync_last_success_timestamp_seconds", model="fuel") > 1.7e9
    for step in ("download", "verify", "load", "golden", "latency_probe", "promote"):
        assert got("plantserve_rollout_step_seconds_count", model="fuel", step=step) >= 1, step
    assert got("plantserve_store_reachable") == 1
    assert got("plantserve_pointer_pinned_version", model="fuel") == 0
    assert got("plantserve_store_errors_total", model="fuel", kind="unreachable") is None
    status = pod.status()
    assert status["ready"] is True and status["models"]["fuel"]["bad"].keys() >= {"3", "6", "7", "8", "9", "10"}
    assert_no_secret(pod)
