"""Acceptance 4 and 5, and the server restarting: serving continues, and sync completes after."""
from __future__ import annotations

import signal

from tests.conftest import start_moto
from tests.sidecar.harness import Load, Pod, assert_no_secret, fast_args, http_get, pod_env, s3_store
from tests.sidecar.integration import publish as pub
from tests.support import wait_until

#: Slow enough that a 12 MB version takes ~3 s to download, so the test can act mid-download.
RATE = ["--download-rate-limit-bytes-per-second", "4000000"]


def staging(pod: Pod) -> list[str]:
    return [p.name for p in (pod.base / "fuel").iterdir() if p.name.startswith(".staging-")]


def test_4_store_outage_mid_download_then_recovery(moto, saved_models, tmp_path, pods):
    uri = moto.make_bucket("outage")
    store = s3_store(moto, uri)
    pub.good(store, 1, saved_models, "v_scale1")
    pod = Pod("pod-o", tmp_path / "pod", uri, "fuel",
              fast_args("--s3-endpoint-url", moto.endpoint, *RATE), pod_env(moto))
    pods.append(pod)
    pod.start()
    with Load(pod.grpc_port) as load:
        pub.good(store, 2, saved_models, "big")
        wait_until(lambda: staging(pod), what="download of version 2 under way")
        moto.proc.stop()
        wait_until(lambda: pod.metric("plantserve_store_reachable") == 0, timeout=60, what="store unreachable")
        assert pod.model()["stable"] == 1 and not staging(pod)
        assert pod.metric("plantserve_store_errors_total", model="fuel", kind="unreachable") >= 1
        ok_during_outage = load.ok
        wait_until(lambda: load.ok > ok_during_outage + 20, what="serving continues during the outage")
        # moto keeps objects in memory: the restarted store is republished as it was.
        restarted = start_moto(tmp_path, moto.port)
        moto.proc = restarted.proc
        restarted_store = s3_store(moto, moto.make_bucket("outage"))
        pub.good(restarted_store, 1, saved_models, "v_scale1")
        pub.good(restarted_store, 2, saved_models, "big")
        pod.wait_stable(2, timeout=120)
    assert load.failures == [] and load.switched(1, 2)
    assert pod.metric("plantserve_store_reachable") == 1
    assert pod.metric("plantserve_sync_downloads_total", model="fuel", result="store_error") >= 1
    assert_no_secret(pod)


def test_5_sidecar_killed_mid_download_resumes_cleanly(moto, saved_models, tmp_path, pods):
    uri = moto.make_bucket("killed")
    store = s3_store(moto, uri)
    pub.good(store, 1, saved_models, "v_scale1")
    pod = Pod("pod-k", tmp_path / "pod", uri, "fuel",
              fast_args("--s3-endpoint-url", moto.endpoint, *RATE), pod_env(moto))
    pods.append(pod)
    pod.start()
    with Load(pod.grpc_port) as load:
        pub.good(store, 2, saved_models, "big2")
        wait_until(lambda: staging(pod), what="download of version 2 under way")
        pod.sidecar.stop(signal.SIGKILL)
        assert staging(pod), "the kill left a staging dir behind (what the restart must clean)"
        pod.start_sidecar()
        wait_until(lambda: not staging(pod) or pod.model()["stable"] == 2, timeout=60, what="staging cleaned")
        pod.wait_stable(2, timeout=120)
    assert not staging(pod) and load.failures == [] and load.switched(1, 2)
    assert "removed staging leftover" in pod.sidecar.output()


def test_server_restart_gets_its_labels_back_and_readyz_tracks_it(moto, saved_models, tmp_path, pods):
    uri = moto.make_bucket("restart")
    store = s3_store(moto, uri)
    pub.good(store, 1, saved_models, "v_scale1")
    pod = Pod("pod-r", tmp_path / "pod", uri, "fuel", fast_args("--s3-endpoint-url", moto.endpoint), pod_env(moto))
    pods.append(pod)
    pod.start()
    pod.server.stop()
    wait_until(lambda: http_get(f"{pod.url}/readyz")[0] == 503, what="/readyz false without a server")
    wait_until(lambda: pod.metric("plantserve_model_available", model="fuel") == 0, timeout=10,
               what="availability follows at once (the lost connection wakes the worker)")
    assert http_get(f"{pod.url}/healthz")[0] == 200
    pod.start_server()
    pod.wait_probe("readyz")
    with Load(pod.grpc_port) as load:  # label `stable` works again: the sidecar re-applied it
        wait_until(lambda: load.ok > 10, what="requests on label stable")
    assert load.failures == [] and load.switched(1)
