"""Faults that once cost a plant its model (issue 11), run against real processes under steady load."""
from __future__ import annotations

import signal
import time

from tests.sidecar.harness import Load, Pod, fast_args, pod_env, s3_store
from tests.sidecar.integration import publish as pub
from tests.support import port_open, wait_until


def test_a_server_restart_after_a_promotion_keeps_stable_and_the_version(moto, saved_models, tmp_path, pods):
    """SIGTERM of the server 1 s after a promotion, under 20 requests/s on label `stable`.

    Before: the restarted server came up without labels (36 INVALID_ARGUMENT "Unrecognized servable
    version label" in 2.4 s), and the rollback judge read the new server's counters whole, saw an error
    ratio of 1.0, rolled the healthy version back and marked it bad for good. Now the start-up config
    carries the labels (the server runs with --allow_version_labels_for_unavailable_models), and a reset
    re-baselines the window: no failed request once the restarted server listens, and version 2 stays."""
    uri = moto.make_bucket("restart-window")
    store = s3_store(moto, uri)
    pub.good(store, 1, saved_models, "v_scale1")
    pod = Pod("pod-w", tmp_path / "pod", uri, "fuel",
              fast_args("--s3-endpoint-url", moto.endpoint, "--rollback-window-seconds", "300",
                        "--server-allows-unavailable-labels"),
              pod_env(moto), server_args=["--allow_version_labels_for_unavailable_models"])
    pods.append(pod)
    pod.start()
    with Load(pod.grpc_port, threads=1, pause_seconds=0.05) as load:  # about 20 requests/s
        pub.good(store, 2, saved_models, "v_scale2")
        pod.wait_stable(2)
        promoted_at = load.ok
        wait_until(lambda: load.ok >= promoted_at + 20, what="1 s of traffic on the promoted version")
        down_at = time.monotonic()
        pod.server.stop(signal.SIGTERM)
        pod.start_server()
        wait_until(lambda: port_open(pod.grpc_port), timeout=120, interval=0.01, what="the restarted server listens")
        up_at = time.monotonic()
        after = load.ok
        wait_until(lambda: load.ok >= after + 60, timeout=60, what="3 s of traffic after the restart")
        wait_until(lambda: pod.model()["available"], what="the sidecar sees the restarted server")
    # While the server process is down, connections are refused (UNAVAILABLE); nothing else may fail, and
    # nothing at all once it listens again (the load's channel reconnects within 100 ms).
    not_unavailable = [what for _at, what in load.failure_log if not what.startswith("UNAVAILABLE")]
    assert not_unavailable == [], not_unavailable
    late = [what for at, what in load.failure_log if at > up_at + 0.2]
    assert late == [], late
    assert all(down_at <= at for at, _what in load.failure_log)
    status = pod.model()
    assert status["stable"] == 2 and "2" not in status["bad"], status
    assert status["labels"] == {"stable": 2, "previous": 1}
    assert load.versions[-1] == 2
    log = pod.sidecar.output()
    assert "restarted" in log and "judging again from now" in log
