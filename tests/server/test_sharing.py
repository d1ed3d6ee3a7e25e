"""One loaded copy per SavedModel version, shared by every model name that points at it."""
import gc
import os

import pytest

from serving.protocol.messages import SignatureDefMap
from serving.server.servable import Servable
from serving.server.sharing import LoadedVersions
from tests.server.helpers import fuel_request
from tests.server.tinymodels import publish_fuel


def _servable(name: str, version: int, path: str) -> Servable:
    return Servable(name, version, path, {"serving_default": object()}, SignatureDefMap())


class Loads:
    def __init__(self, path):
        self.path, self.count = str(path), 0

    def __call__(self, name):
        def load():
            self.count += 1
            return _servable(name, 1, self.path)
        return load


def test_a_second_name_gets_a_view_of_the_loaded_copy(tmp_path):
    publish_fuel(tmp_path / "1")
    shared, loads = LoadedVersions(), Loads(tmp_path / "1")
    first, was_shared = shared.get_or_load(loads.path, ("serve",), "fuel", 1, loads("fuel"))
    assert not was_shared
    view, was_shared = shared.get_or_load(loads.path, ("serve",), "fuel__candidate", 1, loads("fuel__candidate"))
    assert was_shared and loads.count == 1
    assert view.name == "fuel__candidate" and view.signatures is first.signatures
    _, was_shared = shared.get_or_load(loads.path, ("other",), "fuel", 1, loads("fuel"))
    assert not was_shared and loads.count == 2  # other tags: another MetaGraph


def test_the_copy_lives_while_any_name_holds_it(tmp_path):
    publish_fuel(tmp_path / "1")
    shared, loads = LoadedVersions(), Loads(tmp_path / "1")
    first, _ = shared.get_or_load(loads.path, ("serve",), "fuel__candidate", 1, loads("fuel__candidate"))
    view, _ = shared.get_or_load(loads.path, ("serve",), "fuel", 1, loads("fuel"))
    del first  # the shadow name is unloaded first; the real name still serves
    gc.collect()
    again, was_shared = shared.get_or_load(loads.path, ("serve",), "other", 1, loads("other"))
    assert was_shared and again.signatures is view.signatures and loads.count == 1
    del view, again
    gc.collect()
    _, was_shared = shared.get_or_load(loads.path, ("serve",), "fuel", 1, loads("fuel"))
    assert not was_shared and loads.count == 2


def test_a_failed_load_registers_nothing(tmp_path):
    publish_fuel(tmp_path / "1")
    shared, loads = LoadedVersions(), Loads(tmp_path / "1")

    def broken():
        raise RuntimeError("bad warmup")
    with pytest.raises(RuntimeError):
        shared.get_or_load(loads.path, ("serve",), "fuel", 1, broken)
    _, was_shared = shared.get_or_load(loads.path, ("serve",), "fuel", 1, loads("fuel"))
    assert not was_shared and loads.count == 1


def test_a_directory_replaced_in_place_is_not_shared(tmp_path):
    publish_fuel(tmp_path / "1")
    shared, loads = LoadedVersions(), Loads(tmp_path / "1")
    keep, _ = shared.get_or_load(loads.path, ("serve",), "fuel", 1, loads("fuel"))
    pb = tmp_path / "1" / "saved_model.pb"
    st = pb.stat()
    os.utime(pb, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    _, was_shared = shared.get_or_load(loads.path, ("serve",), "fuel", 1, loads("fuel"))
    assert not was_shared and loads.count == 2 and keep is not None
    assert LoadedVersions.key(str(tmp_path / "missing"), ("serve",)) is None


def test_server_loads_a_version_once_for_two_names(inproc_server, tiny_store, tmp_path):
    config = tmp_path / "models.config"
    config.write_text("model_config_list { "
                      f'config {{ name: "fuel" base_path: "{tiny_store / "fuel"}" model_platform: "tensorflow" }} '
                      f'config {{ name: "fuel__candidate" base_path: "{tiny_store / "fuel"}" '
                      'model_platform: "tensorflow" } }')
    server = inproc_server(f"--model_config_file={config}", rest=False)
    real = server.manager.servable("fuel")
    shadow = server.manager.servable("fuel__candidate")
    assert real.signatures is shadow.signatures and {real.name, shadow.name} == {"fuel", "fuel__candidate"}
    for name in ("fuel", "fuel__candidate"):
        response = server.inference.run_predict(fuel_request(name=name))
        assert response.model_spec.name == name and response.model_spec.version.value == real.version
    attempts = [line for line in server.metrics.render().splitlines()
                if line.startswith(":tensorflow:cc:saved_model:load_attempt_count{")]
    assert len(attempts) == 1 and attempts[0].endswith(" 2")  # two successful loads, one copy
