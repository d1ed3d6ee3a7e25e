import pytest

from serving.server.protos import (ConfigFileError, batching_parameters_class, monitoring_config_class,
                                   parse_text_file, ssl_config_class)


def test_tf_serving_text_files_parse(tmp_path):
    (tmp_path / "ssl").write_text('server_key: "K" server_cert: "C" custom_ca: "CA" client_verify: true')
    ssl = parse_text_file(str(tmp_path / "ssl"), ssl_config_class())
    assert (ssl.server_key, ssl.client_verify) == ("K", True)
    (tmp_path / "b").write_text("max_batch_size { value: 32 } batch_timeout_micros { value: 2000 } "
                                "num_batch_threads { value: 2 } allowed_batch_sizes: 8 allowed_batch_sizes: 32")
    b = parse_text_file(str(tmp_path / "b"), batching_parameters_class())
    assert b.max_batch_size.value == 32 and list(b.allowed_batch_sizes) == [8, 32]
    (tmp_path / "m").write_text('prometheus_config { enable: true, path: "/metrics" }')
    assert parse_text_file(str(tmp_path / "m"), monitoring_config_class()).prometheus_config.path == "/metrics"


def test_errors_name_the_file(tmp_path):
    (tmp_path / "bad").write_text("nonsense {")
    with pytest.raises(ConfigFileError, match="Invalid protobuf file"):
        parse_text_file(str(tmp_path / "bad"), ssl_config_class())
    with pytest.raises(ConfigFileError, match="missing"):
        parse_text_file(str(tmp_path / "missing"), ssl_config_class())
