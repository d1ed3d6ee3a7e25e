from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from serving.sidecar.server_config import ModelEntry, shadow_name, to_proto, to_text, write_config_file


def test_specific_policy_and_labels():
    proto = to_proto([ModelEntry("fuel", "/m/fuel", (4, 3, 3), {"stable": 3, "previous": 2}),
                      ModelEntry(shadow_name("fuel"), "/m/fuel", (5,), {})])
    names = [c.name for c in proto.model_config_list.config]
    assert names == ["fuel", "fuel__candidate"]
    fuel = proto.model_config_list.config[0]
    assert list(fuel.model_version_policy.specific.versions) == [3, 4]
    assert dict(fuel.version_labels) == {"stable": 3, "previous": 2}
    assert fuel.model_platform == "tensorflow" and fuel.base_path == "/m/fuel"


def test_entries_without_versions_are_left_out():
    assert len(to_proto([ModelEntry("fuel", "/m/fuel", (), {})]).model_config_list.config) == 0


def test_file_is_parseable_text_and_written_atomically(tmp_path):
    path = tmp_path / "models.config"
    write_config_file(path, [ModelEntry("fuel", "/m/fuel", (1,), {})])
    parsed = text_format.Parse(path.read_text(), model_server_config_pb2.ModelServerConfig())
    assert parsed.model_config_list.config[0].name == "fuel"
    assert [p.name for p in tmp_path.iterdir()] == ["models.config"]
    assert to_text([ModelEntry("fuel", "/m/fuel", (1,), {})]) == path.read_text()
