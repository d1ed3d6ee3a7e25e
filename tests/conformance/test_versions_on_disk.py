"""Versions on disk (TFSERVING.md §3, §7): polling, the availability-preserving swap, ignored names,
a bad warmup file, and the partial-copy hazard the sidecar exists to remove.

Each test publishes its own model (a copy of ``fuel/1``) and adds it with a config reload, so the tests
do not depend on one another. Against a real TF Serving, ``PLANTSERVE_TFS_STORE`` must be the host
directory mounted at the server's model root.
"""
from __future__ import annotations

import os
import shutil
import threading

import grpc
import pytest

from tests.conformance.client import fuel_predict, rpc_error
from tests.support import wait_until

BAD_WARMUP = b"\x0c\x00\x00\x00\x00\x00\x00\x00this is not a TFRecord file"


def _copy(target, model: str, version: int, name: str | None = None, mutate=None) -> None:
    staging = target.store / model / f".staging-{version}"
    shutil.copytree(target.store / "fuel" / "1", staging)
    if mutate:
        mutate(staging)
    staging.rename(target.store / model / (name or str(version)))


@pytest.fixture
def model(target, restore_config, request):
    name = request.node.name.split("[")[0].removeprefix("test_")[:40]
    (target.store / name).mkdir()
    _copy(target, name, 1)
    entry = f'config {{ name: "{name}" base_path: "{target.model_root}/{name}" model_platform: "tensorflow" }}'
    target.reload(target.base_config().replace("} }\n", "} " + entry + " }\n"), timeout=120)
    assert target.states(name) == {1: "AVAILABLE"}
    return name


def test_swap_loads_new_before_unloading_old(target, model):
    stub = target.predict_stub()
    seen_versions: list[int] = []
    failures: list[str] = []
    snapshots: list[dict[int, str]] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            try:
                seen_versions.append(stub.Predict(fuel_predict(model=model), timeout=30).model_spec.version.value)
            except grpc.RpcError as exc:
                failures.append(f"{exc.code()}: {exc.details()}")
            snapshots.append(target.states(model))

    thread = threading.Thread(target=traffic)
    thread.start()
    try:
        wait_until(lambda: len(seen_versions) > 3, what="traffic on version 1")
        _copy(target, model, 2)
        target.wait_state(model, 1, "END")
        wait_until(lambda: seen_versions[-1] == 2, what="traffic on version 2")
    finally:
        stop.set()
        thread.join(60)
    assert failures == []
    assert seen_versions == sorted(seen_versions) and seen_versions[0] == 1 and seen_versions[-1] == 2
    assert all("AVAILABLE" in s.values() for s in snapshots if s)
    assert any(s.get(1) == "AVAILABLE" and s.get(2) == "AVAILABLE" for s in snapshots) or \
        any(s.get(2) == "LOADING" for s in snapshots)


def test_non_integer_names_are_ignored(target, model):
    _copy(target, model, 9, name="9.tmp")
    _copy(target, model, 8, name="tmp_8")
    _copy(target, model, 7, name=".staging-7")
    _copy(target, model, 3, name="003")  # "003" is version 3
    target.wait_state(model, 3, "AVAILABLE")
    target.wait_state(model, 1, "END")
    assert set(target.states(model)) == {1, 3}


def test_bad_warmup_file_fails_the_version_and_the_old_one_keeps_serving(target, model):
    _copy(target, model, 2, mutate=lambda d: (d / "assets.extra" / "tf_serving_warmup_requests").write_bytes(BAD_WARMUP))
    target.wait_state(model, 2, "END")
    status = {s.version: s for s in target.status(model).model_version_status}
    assert status[2].status.error_code != 0 and status[2].status.error_message
    assert status[1].state == 30
    response = target.predict_stub().Predict(fuel_predict(model=model), timeout=30)
    assert response.model_spec.version.value == 1


def test_partial_version_dir_is_loaded_and_fails_at_inference(target, model):
    """A copy caught before ``variables/variables.index`` and ``assets.extra/`` arrived loads as AVAILABLE
    (tensorflow/serving#1086, #631) and every request then fails: the hazard the sidecar's
    verify-then-rename removes. (With the warmup file already there, the warmup replay fails the load.)"""

    def partial(d) -> None:
        os.remove(d / "variables" / "variables.index")
        shutil.rmtree(d / "assets.extra")

    _copy(target, model, 2, mutate=partial)
    target.wait_state(model, 2, "AVAILABLE")
    target.wait_state(model, 1, "END")
    error = rpc_error(target.predict_stub().Predict, fuel_predict(model=model))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_version_dir_that_disappears_is_unloaded(target, model):
    policy_all = target.base_config().replace("} }\n", "} " + (
        f'config {{ name: "{model}" base_path: "{target.model_root}/{model}" model_platform: "tensorflow" '
        "model_version_policy { all {} } }") + " }\n")
    _copy(target, model, 2)
    target.reload(policy_all)
    target.wait_state(model, 2, "AVAILABLE")
    shutil.rmtree(target.store / model / "2")
    target.wait_state(model, 2, "END")
    assert target.states(model)[1] == "AVAILABLE"
