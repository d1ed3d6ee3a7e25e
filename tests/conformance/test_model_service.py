"""ModelService: HandleReloadConfigRequest (validation, blocking, deadline, removal) and version labels
with the availability rule and the two-step move (TFSERVING.md §2)."""
from __future__ import annotations

import shutil
import time

import grpc
import pytest
import tensorflow as tf

from tests.conformance.client import FUEL_ROW, fuel_predict, rpc_error


def _publish(target, model: str, version: int, source: str = "fuel/1") -> None:
    """Copy a version under a non-numeric name, then rename it: the safe way to publish."""
    (target.store / model).mkdir(exist_ok=True)
    staging = target.store / model / f".staging-{version}"
    shutil.copytree(target.store / source, staging)
    staging.rename(target.store / model / str(version))


def _reload_error(target, text: str, timeout: float = 60) -> grpc.RpcError:
    try:
        target.reload(text, timeout=timeout)
    except grpc.RpcError as exc:
        return exc
    raise AssertionError("reload succeeded; an error was expected")


@pytest.mark.parametrize("config, message", [
    ('model_config_list { config { name: "a" base_path: "/m/a" model_platform: "tensorflow" } '
     'config { name: "a" base_path: "/m/b" model_platform: "tensorflow" } }',
     "Illegal to list model a multiple times in config list"),
    ('model_config_list { config { name: "a" base_path: "relative/a" model_platform: "tensorflow" } }',
     "Expected model a to have an absolute path or URI; got base_path()=relative/a"),
    ('model_config_list { config { name: "a" base_path: "/m/a" model_platform: "pytorch" } }', None),
    ('model_config_list { config { name: "a" base_path: "/m/a" } }', None),
])
def test_invalid_configs_are_refused(target, config, message):
    error = _reload_error(target, config)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    if message:
        assert error.details() == message
    assert target.states("fuel") == {1: "AVAILABLE"}


def test_only_model_config_list_is_accepted(target):
    from google.protobuf import empty_pb2  # noqa: F401 - registers google.protobuf.Empty for the text parser

    error = _reload_error(target, 'custom_model_config { [type.googleapis.com/google.protobuf.Empty] {} }')
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_reload_blocks_until_new_models_are_available(target, restore_config):
    config = target.base_config().replace(
        "} }\n", f'}} config {{ name: "fuel2" base_path: "{target.model_root}/fuel" model_platform: "tensorflow" }} }}\n')
    response = target.reload(config, timeout=120)
    assert response.status.error_code == 0
    assert target.states("fuel2") == {1: "AVAILABLE"}  # no polling needed: the call waited
    assert target.predict_stub().Predict(fuel_predict(model="fuel2"), timeout=30).model_spec.name == "fuel2"


def test_new_model_with_missing_base_path_blocks_until_the_deadline(target, restore_config):
    config = target.base_config().replace(
        "} }\n", f'}} config {{ name: "ghost" base_path: "{target.model_root}/ghost" model_platform: "tensorflow" }} }}\n')
    started = time.monotonic()
    error = _reload_error(target, config, timeout=3)
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED and time.monotonic() - started >= 2.5
    assert target.states("ghost") == {}
    assert target.states("fuel") == {1: "AVAILABLE"}  # the old versions keep serving


def test_models_left_out_are_unloaded_and_listed_as_end(target, restore_config):
    target.reload(target.base_config(models=("fuel", "swap")))
    target.wait_state("defect", 1, "END", timeout=30)
    error = rpc_error(target.predict_stub().Predict, fuel_predict(model="defect"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_labels_availability_rule_and_two_step_move(target, restore_config):
    _publish(target, "labelled", 1)
    base = target.base_config()

    def with_labelled(policy: str, labels: dict[str, int]) -> str:
        extra = "".join(f' version_labels {{ key: "{k}" value: {v} }}' for k, v in labels.items())
        entry = (f'config {{ name: "labelled" base_path: "{target.model_root}/labelled" model_platform: "tensorflow" '
                 f"model_version_policy {{ {policy} }}{extra} }}")
        return base.replace("} }\n", "} " + entry + " }\n")

    # A label on a version that is not loaded yet is refused, and the whole reload with it.
    error = _reload_error(target, with_labelled("specific { versions: 1 }", {"stable": 1}))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error.details() == ("Request to assign label to version 1 of model labelled, which is not currently "
                               "available for inference")
    assert target.states("labelled") == {}
    # Step 0: serve version 1, then label it.
    target.reload(with_labelled("specific { versions: 1 }", {}))
    target.reload(with_labelled("specific { versions: 1 }", {"stable": 1}))
    stable = fuel_predict(model="labelled", version_label="stable")
    assert target.predict_stub().Predict(stable, timeout=30).model_spec.version.value == 1
    assert target.get("/v1/models/labelled/labels/stable").status_code == 200
    rest = target.post("/v1/models/labelled/labels/stable:predict", {"instances": [FUEL_ROW]})
    assert rest.status_code == 200, rest.text
    # Loading version 2 and moving the label in one step is refused...
    _publish(target, "labelled", 2)
    error = _reload_error(target, with_labelled("specific { versions: 1 versions: 2 }", {"stable": 2}))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    # ... so: first serve 1 and 2, wait for 2, then move the label.
    target.reload(with_labelled("specific { versions: 1 versions: 2 }", {"stable": 1, "canary": 1}))
    target.wait_state("labelled", 2, "AVAILABLE")
    target.reload(with_labelled("specific { versions: 1 versions: 2 }", {"stable": 2, "canary": 1}))
    assert target.predict_stub().Predict(stable, timeout=30).model_spec.version.value == 2
    canary = fuel_predict(model="labelled", version_label="canary")
    assert target.predict_stub().Predict(canary, timeout=30).model_spec.version.value == 1
    mpg = tf.make_ndarray(target.predict_stub().Predict(stable, timeout=30).outputs["mpg"])
    assert mpg.shape == (1,)
