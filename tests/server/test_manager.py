"""The manager with a fake loader: availability-preserving swaps, retries, labels, lookups."""
import threading

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from serving.server.manager import LoadSettings, ModelManager
from serving.server.monitor import State
from serving.protocol.messages import SignatureDefMap
from serving.server.servable import Servable
from serving.server.status import Code, ServingError
from tests.support import wait_until


class FakeLoader:
    def __init__(self) -> None:
        self.fail: dict[int, int] = {}  # version -> failures left (-1 forever)
        self.gate = threading.Event()
        self.gate.set()
        self.calls: list[int] = []

    def __call__(self, name: str, version: int, path: str) -> Servable:
        self.calls.append(version)
        self.gate.wait(10)
        left = self.fail.get(version, 0)
        if left:
            self.fail[version] = left - 1 if left > 0 else -1
            raise ServingError(Code.NOT_FOUND, f"cannot load {path}")
        return Servable(name, version, path, {}, SignatureDefMap())


def _config(text: str):
    return text_format.Parse(text, model_server_config_pb2.ModelServerConfig()).model_config_list


FUEL = 'model_config_list { config { name: "fuel" base_path: "/s/fuel" model_platform: "tensorflow" %s } }'


def _manager(loader, **kw) -> ModelManager:
    settings = LoadSettings(max_num_load_retries=kw.pop("retries", 2), load_retry_interval_seconds=0.01, **kw)
    return ModelManager(loader, settings)


def _state(m: ModelManager, version: int) -> State | None:
    status = m.monitor.get("fuel", version)
    return status.state if status else None


def test_new_version_loads_before_old_unloads():
    loader = FakeLoader()
    m = _manager(loader)
    m.apply_config(_config(FUEL % ""), wait=False)
    m.set_aspired("fuel", {1: "/s/fuel/1"})
    wait_until(lambda: _state(m, 1) == State.AVAILABLE)
    loader.gate.clear()
    m.set_aspired("fuel", {2: "/s/fuel/2"})
    wait_until(lambda: _state(m, 2) == State.LOADING)
    assert _state(m, 1) == State.AVAILABLE and m.servable("fuel").version == 1
    loader.gate.set()
    wait_until(lambda: _state(m, 1) == State.END)
    assert m.servable("fuel").version == 2
    assert [v for v, _ in m.monitor.versions("fuel")] == [2, 1]


def test_failed_new_version_keeps_old_serving_and_is_not_retried():
    loader = FakeLoader()
    loader.fail[2] = -1
    m = _manager(loader)
    m.apply_config(_config(FUEL % ""), wait=False)
    m.set_aspired("fuel", {1: "/s/fuel/1"})
    wait_until(lambda: _state(m, 1) == State.AVAILABLE)
    m.set_aspired("fuel", {2: "/s/fuel/2"})
    wait_until(lambda: _state(m, 2) == State.END)
    status = m.monitor.get("fuel", 2)
    assert status.code == Code.NOT_FOUND and "cannot load" in status.message
    assert loader.calls.count(2) == 3  # first try + 2 retries
    m.set_aspired("fuel", {2: "/s/fuel/2"})
    assert loader.calls.count(2) == 3 and m.servable("fuel").version == 1


def test_retry_then_success():
    loader = FakeLoader()
    loader.fail[1] = 1
    m = _manager(loader)
    m.apply_config(_config(FUEL % ""), wait=False)
    m.set_aspired("fuel", {1: "/s/fuel/1"})
    wait_until(lambda: _state(m, 1) == State.AVAILABLE)
    assert loader.calls == [1, 1]


def test_lookup_errors():
    m = _manager(FakeLoader())
    with pytest.raises(ServingError, match=r"Servable not found for request: Latest\(fuel\)"):
        m.servable("fuel")
    with pytest.raises(ServingError, match=r"Specific\(fuel, 7\)"):
        m.servable("fuel", version=7)
    with pytest.raises(ServingError) as info:
        m.servable("")
    assert info.value.code == Code.INVALID_ARGUMENT


def test_labels_must_point_at_available_versions():
    m = _manager(FakeLoader())
    with pytest.raises(ServingError) as info:
        m.apply_config(_config(FUEL % 'version_labels { key: "stable" value: 1 }'), wait=False)
    assert info.value.code == Code.FAILED_PRECONDITION
    assert info.value.message == ("Request to assign label to version 1 of model fuel, which is not currently "
                                  "available for inference")
    m.apply_config(_config(FUEL % ""), wait=False)
    m.set_aspired("fuel", {1: "/s/fuel/1", 2: "/s/fuel/2"})
    wait_until(lambda: _state(m, 2) == State.AVAILABLE and _state(m, 1) == State.AVAILABLE)
    m.apply_config(_config(FUEL % 'version_labels { key: "stable" value: 1 }'))
    assert m.servable("fuel", label="stable").version == 1
    with pytest.raises(ServingError, match="Unrecognized servable version label: canary"):
        m.servable("fuel", label="canary")


def test_flag_allows_only_new_labels_on_unavailable_versions():
    m = _manager(FakeLoader(), allow_version_labels_for_unavailable_models=True)
    m.apply_config(_config(FUEL % 'version_labels { key: "stable" value: 1 }'), wait=False)
    m.set_aspired("fuel", {1: "/s/fuel/1"})
    wait_until(lambda: _state(m, 1) == State.AVAILABLE)
    with pytest.raises(ServingError, match="version 5 of model fuel"):
        m.apply_config(_config(FUEL % 'version_labels { key: "stable" value: 5 }'))
    m.apply_config(_config(FUEL % 'version_labels { key: "stable" value: 1 } version_labels { key: "c" value: 5 }'))


def test_removed_model_unloads_and_stays_listed_as_end():
    m = _manager(FakeLoader())
    m.apply_config(_config(FUEL % ""), wait=False)
    m.set_aspired("fuel", {1: "/s/fuel/1"})
    wait_until(lambda: _state(m, 1) == State.AVAILABLE)
    m.apply_config(_config(""))
    assert _state(m, 1) == State.END
    with pytest.raises(ServingError):
        m.servable("fuel")


def test_new_model_that_fails_makes_reload_fail():
    loader = FakeLoader()
    loader.fail[1] = -1
    m = _manager(loader, retries=0)
    done = []
    thread = threading.Thread(target=lambda: done.append(_catch(lambda: m.apply_config(_config(FUEL % "")))))
    thread.start()
    wait_until(lambda: m.configured_models())
    m.set_aspired("fuel", {1: "/s/fuel/1"})
    thread.join(10)
    assert done and done[0].code == Code.UNKNOWN and "1 model(s) did not become available" in done[0].message


def _catch(fn):
    try:
        fn()
    except ServingError as exc:
        return exc
    return None
