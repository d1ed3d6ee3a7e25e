"""TF Serving's config messages: ModelServerConfig and its parts against tensorflow-serving-api; the
three the wheel does not ship (SSLConfig, MonitoringConfig, BatchingParameters) against their wire
bytes, worked out by hand from the field numbers in TF Serving's .proto files."""
from __future__ import annotations

import pytest

from serving.protocol import config, messages
from tests.protocol.official import (assert_same_bytes_both_ways, compare_descriptor, enum_names, message_names,
                                     official_class, official_enum, our_enum)

NOT_IN_THE_WHEEL = {"tensorflow.serving.SSLConfig", "tensorflow.serving.MonitoringConfig",
                    "tensorflow.serving.PrometheusConfig", "tensorflow.serving.BatchingParameters"}


@pytest.mark.parametrize("full_name", [n for n in message_names(config.CONFIG) if n not in NOT_IN_THE_WHEEL])
def test_message_matches_tensorflow_serving(full_name: str) -> None:
    ours = messages.by_name(full_name)
    compare_descriptor(ours.DESCRIPTOR, official_class(full_name).DESCRIPTOR)
    if full_name != "tensorflow.serving.FileSystemStoragePathSourceConfig":  # a namespace here
        assert_same_bytes_both_ways(ours)


@pytest.mark.parametrize("full_name", enum_names(config.CONFIG))
def test_enum_matches_tensorflow_serving(full_name: str) -> None:
    assert our_enum(full_name) == official_enum(full_name)


@pytest.mark.parametrize("message, wire", [
    (messages.SSLConfig(server_key="k", server_cert="c", custom_ca="a", client_verify=True),
     b"\x0a\x01k\x12\x01c\x1a\x01a\x20\x01"),
    (messages.MonitoringConfig(prometheus_config=messages.PrometheusConfig(enable=True, path="/m")),
     b"\x0a\x06\x08\x01\x12\x02/m"),
    (messages.BatchingParameters(max_batch_size={"value": 32}, batch_timeout_micros={"value": 1000},
                                 max_enqueued_batches={"value": 4}, num_batch_threads={"value": 2},
                                 thread_pool_name={"value": "p"}, allowed_batch_sizes=[8, 32],
                                 pad_variable_length_inputs=True, max_execution_batch_size={"value": 16},
                                 enable_large_batch_splitting={"value": True}, batch_padding_policy={"value": "x"}),
     b"\x0a\x02\x08\x20\x12\x03\x08\xe8\x07\x1a\x02\x08\x04\x22\x02\x08\x02\x2a\x03\x0a\x01p\x32\x02\x08\x20"
     b"\x38\x01\x42\x02\x08\x10\x4a\x02\x08\x01\x52\x03\x0a\x01x"),
])
def test_configs_the_wheel_does_not_ship_encode_by_tf_servings_field_numbers(message, wire: bytes) -> None:
    assert message.SerializeToString(deterministic=True) == wire
    assert type(message).FromString(wire) == message


def test_a_tf_serving_model_config_file_parses_the_same_with_both() -> None:
    from google.protobuf import text_format

    text = """model_config_list {
      config { name: "fuel" base_path: "/models/fuel" model_platform: "tensorflow"
        model_version_policy { specific { versions: 3 versions: 4 } }
        version_labels { key: "stable" value: 3 } version_labels { key: "canary" value: 4 } }
      config { name: "defect" base_path: "s3://bucket/defect" model_platform: "tensorflow"
        model_version_policy { latest { num_versions: 2 } }
        logging_config { log_collector_config { type: "file" filename_prefix: "/logs/defect" }
                         sampling_config { sampling_rate: 0.01 } } }
      config { name: "all" base_path: "/models/all" model_type: TENSORFLOW model_version_policy { all {} } }
    }"""
    ours = text_format.Parse(text, messages.ModelServerConfig())
    theirs = text_format.Parse(text, official_class("tensorflow.serving.ModelServerConfig")())
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)
    assert text_format.MessageToString(ours) == text_format.MessageToString(theirs)
