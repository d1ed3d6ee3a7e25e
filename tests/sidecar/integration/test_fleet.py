"""Acceptance 6: `plantserve rollout pin|block|rollback` move every running sidecar (two pods
sharing one store) to the decided version; `rollout status` shows the fleet."""
from __future__ import annotations

import json

import pytest

from tests.sidecar.harness import Load, Pod, fast_args, pod_env, s3_store
from tests.sidecar.integration import publish as pub
from tests.support import run_cli, wait_until


@pytest.fixture(scope="module")
def fleet(moto, saved_models, tmp_path_factory):
    uri = moto.make_bucket("fleet")
    store = s3_store(moto, uri)
    pub.good(store, 1, saved_models, "v_scale1")
    pods = [Pod(f"pod-{i}", tmp_path_factory.mktemp(f"fleet-{i}"), uri, "fuel",
                fast_args("--s3-endpoint-url", moto.endpoint), pod_env(moto)) for i in (1, 2)]
    try:
        for pod in pods:
            pod.root.mkdir(parents=True, exist_ok=True)
            pod.start_sidecar()
        for pod in pods:
            pod.wait_probe("startupz")
            pod.start_server()
        for pod in pods:
            pod.wait_probe("readyz")
        pub.good(store, 2, saved_models, "v_scale2")
        for pod in pods:
            pod.wait_stable(2)
        yield {"uri": uri, "pods": pods, "env": {"PLANTSERVE_S3_ENDPOINT_URL": moto.endpoint, **moto.env}}
    finally:
        for pod in pods:
            pod.stop()


def rollout(fleet, *args):
    result = run_cli("rollout", *args, "--store", fleet["uri"], env=fleet["env"], timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def all_stable(fleet, version):
    return [pod.wait_stable(version) for pod in fleet["pods"]]


def test_pin_moves_every_pod_without_failed_requests(fleet):
    with Load(fleet["pods"][0].grpc_port) as a, Load(fleet["pods"][1].grpc_port) as b:
        pointer = json.loads(rollout(fleet, "pin", "fuel", "1"))
        assert pointer["pinned"] == 1
        states = all_stable(fleet, 1)
        wait_until(lambda: a.versions[-1] == 1 and b.versions[-1] == 1, what="both pods answer with version 1")
    assert a.failures == [] and b.failures == []
    assert all(s["pointer"]["pinned"] == 1 for s in states)
    assert all(pod.metric("plantserve_pointer_pinned_version", model="fuel") == 1 for pod in fleet["pods"])
    rollout(fleet, "unpin", "fuel")
    all_stable(fleet, 2)


def test_block_moves_every_pod_off_the_blocked_version(fleet):
    rollout(fleet, "block", "fuel", "2")
    states = all_stable(fleet, 1)
    assert all(s["pointer"]["blocked"] == [2] for s in states)
    rollout(fleet, "unblock", "fuel", "2")
    all_stable(fleet, 2)


def test_rollback_moves_every_pod_to_the_previous_version(fleet):
    urls = ",".join(pod.url for pod in fleet["pods"])
    with Load(fleet["pods"][0].grpc_port) as a:
        pointer = json.loads(rollout(fleet, "rollback", "fuel", "--sidecars", urls))  # what the pods serve: 2
        assert pointer["rollback"] == {"from": 2} and pointer["blocked"] == [2]
        all_stable(fleet, 1)
    assert a.failures == []
    for pod in fleet["pods"]:
        assert pod.metric("plantserve_rollout_total", model="fuel", result="rolled_back") >= 1


def test_status_shows_every_pod(fleet):
    urls = ",".join(pod.url for pod in fleet["pods"])
    out = json.loads(rollout(fleet, "status", "--sidecars", urls, "--json"))
    assert [p["pod"] for p in out["pods"]] == [pod.url for pod in fleet["pods"]]
    assert all(p["models"]["fuel"]["stable"] == 1 and p["ready"] for p in out["pods"])
    assert out["pointers"]["fuel"]["blocked"] == [2]
    table = rollout(fleet, "status", "--sidecars", urls)
    assert table.count("fuel") >= 2 and "pointer fuel: pinned=None blocked=[2]" in table


def test_bad_cli_input_exits_2(fleet):
    assert run_cli("rollout", "pin", "fuel", "99", "--store", fleet["uri"], env=fleet["env"]).returncode == 2
    assert run_cli("rollout", "pin", "fuel", "--store", fleet["uri"], env=fleet["env"]).returncode == 2
