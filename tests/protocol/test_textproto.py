"""Text-format config files: parsed into our classes, with TF Serving's error wording."""
from __future__ import annotations

import pytest
from google.protobuf import text_format

from serving.protocol import messages
from serving.protocol.textproto import ConfigFileError, parse_text, read_text_file, to_text


def test_files_parse_and_print_back(tmp_path) -> None:
    path = tmp_path / "ssl.config"
    path.write_text('server_key: "K" server_cert: "C" custom_ca: "CA" client_verify: true')
    ssl = read_text_file(path, messages.SSLConfig)
    assert (ssl.server_key, ssl.client_verify) == ("K", True)
    assert parse_text(to_text(ssl), messages.SSLConfig) == ssl
    batching = parse_text("max_batch_size { value: 32 } allowed_batch_sizes: 8 allowed_batch_sizes: 32",
                          messages.BatchingParameters)
    assert batching.max_batch_size.value == 32 and list(batching.allowed_batch_sizes) == [8, 32]


def test_errors_name_the_file_as_tf_serving_does(tmp_path) -> None:
    (tmp_path / "bad").write_text("nonsense {")
    with pytest.raises(ConfigFileError, match=r"^INVALID_ARGUMENT: Invalid protobuf file: '.*bad'$") as caught:
        read_text_file(tmp_path / "bad", messages.ModelServerConfig)
    assert caught.value.parse_error.startswith("Error parsing text-format tensorflow.serving.ModelServerConfig: 1:")
    with pytest.raises(ConfigFileError, match="NOT_FOUND: .*missing; No such file"):
        read_text_file(tmp_path / "missing", messages.ModelServerConfig)


def test_parse_errors_carry_line_and_column() -> None:
    with pytest.raises(text_format.ParseError, match="1:21 : Message type \"tensorflow.serving.ModelConfigList\" has no field named \"x\""):
        parse_text("model_config_list { x: 1 }", messages.ModelServerConfig)
