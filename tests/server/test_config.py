import pytest
from google.protobuf import text_format

from serving.server.config import ModelServerConfig, single_model_config, validate_config_list
from serving.server.status import Code, ServingError


def _list(text: str):
    return text_format.Parse(text, ModelServerConfig()).model_config_list


def test_single_model_config_is_tensorflow():
    cfg = single_model_config("fuel", "/store/fuel").model_config_list.config[0]
    assert (cfg.name, cfg.base_path, cfg.model_platform) == ("fuel", "/store/fuel", "tensorflow")


@pytest.mark.parametrize("text, message", [
    ('model_config_list { config { name: "a" base_path: "/a" model_platform: "tensorflow" } '
     'config { name: "a" base_path: "/b" model_platform: "tensorflow" } }',
     "Illegal to list model a multiple times in config list"),
    ('model_config_list { config { name: "a" base_path: "rel/a" model_platform: "tensorflow" } }',
     "Expected model a to have an absolute path or URI; got base_path()=rel/a"),
    ('model_config_list { config { name: "a" base_path: "/a" } }',
     "Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform."),
    ('model_config_list { config { name: "a" base_path: "/a" model_platform: "onnx" } }',
     "Model a requests unsupported platform onnx"),
])
def test_validation_errors(text, message):
    with pytest.raises(ServingError) as info:
        validate_config_list(_list(text))
    assert info.value.code == Code.INVALID_ARGUMENT
    assert info.value.message == message


def test_uri_base_paths_are_absolute():
    validate_config_list(_list('model_config_list { config { name: "a" base_path: "gs://b/a" '
                               'model_platform: "tensorflow" } }'))
