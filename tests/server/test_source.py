"""The file-system poller: aspired versions per policy, and a missing base path aborting the whole poll."""
import shutil

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from serving.server.manager import LoadSettings, ModelManager
from serving.server.monitor import State
from serving.protocol.messages import SignatureDefMap
from serving.server.servable import Servable
from serving.server.source import FileSystemSource


def _loader(name, version, path):
    return Servable(name, version, path, {}, SignatureDefMap())


def _config(tmp_path, *names):
    text = "model_config_list { " + " ".join(
        f'config {{ name: "{n}" base_path: "{tmp_path / n}" model_platform: "tensorflow" }}' for n in names) + " }"
    return text_format.Parse(text, model_server_config_pb2.ModelServerConfig()).model_config_list


def test_missing_base_path_aborts_the_poll_for_every_model(tmp_path):
    (tmp_path / "a" / "1").mkdir(parents=True)
    manager = ModelManager(_loader, LoadSettings())
    source = FileSystemSource(manager, poll_wait_seconds=0)
    manager.apply_config(_config(tmp_path, "a"), wait=False)
    assert source.poll_once() is True
    manager.monitor.wait(lambda: manager.monitor.get("a", 1) and manager.monitor.get("a", 1).state == State.AVAILABLE, 10)
    manager.apply_config(_config(tmp_path, "a", "b"), wait=False)  # b has no base path
    (tmp_path / "a" / "2").mkdir()
    assert source.poll_once() is False
    assert manager.monitor.get("a", 2) is None  # a's new version is not seen either
    (tmp_path / "b" / "1").mkdir(parents=True)
    assert source.poll_once() is True
    assert manager.monitor.get("a", 2) is not None and manager.monitor.get("b", 1) is not None


def test_empty_base_path_unloads(tmp_path):
    (tmp_path / "a" / "1").mkdir(parents=True)
    manager = ModelManager(_loader, LoadSettings())
    source = FileSystemSource(manager, poll_wait_seconds=0)
    manager.apply_config(_config(tmp_path, "a"), wait=False)
    source.poll_once()
    assert manager.monitor.wait(lambda: manager.monitor.get("a", 1).state == State.AVAILABLE, 10)
    shutil.rmtree(tmp_path / "a" / "1")
    source.poll_once()
    assert manager.monitor.get("a", 1).state == State.END
