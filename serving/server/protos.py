"""The config protos that tensorflow-serving-api's wheel does not ship, built from descriptors.

``SSLConfig`` (``config/ssl_config.proto``), ``MonitoringConfig``/``PrometheusConfig``
(``config/monitoring_config.proto``) and ``BatchingParameters``
(``servables/tensorflow/session_bundle_config.proto``) are defined here with TF Serving's package and
field names, so their text form is the same file a real server reads.

>>> cfg = parse_text_file_content("prometheus_config { enable: true }", monitoring_config_class())
>>> cfg.prometheus_config.enable
True
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import TypeVar

from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory, text_format
from google.protobuf import wrappers_pb2  # noqa: F401 - registers google/protobuf/wrappers.proto

__all__ = ["ssl_config_class", "monitoring_config_class", "batching_parameters_class",
           "parse_text_file", "parse_text_file_content", "ConfigFileError"]

M = TypeVar("M", bound=message.Message)
_F = descriptor_pb2.FieldDescriptorProto


class ConfigFileError(ValueError):
    """A config file that is missing or not valid text proto."""


def _field(msg: descriptor_pb2.DescriptorProto, name: str, number: int, ftype: int,
           type_name: str = "", repeated: bool = False) -> None:
    f = msg.field.add(name=name, number=number, type=ftype,
                      label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL)
    if type_name:
        f.type_name = type_name


@functools.lru_cache(maxsize=None)
def _pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.Default()
    try:
        pool.FindMessageTypeByName("tensorflow.serving.SSLConfig")
        return pool
    except KeyError:
        pass
    fd = descriptor_pb2.FileDescriptorProto(name="plantserve/tf_serving_configs.proto",
                                            package="tensorflow.serving", syntax="proto3")
    fd.dependency.append("google/protobuf/wrappers.proto")
    ssl = fd.message_type.add(name="SSLConfig")
    _field(ssl, "server_key", 1, _F.TYPE_STRING)
    _field(ssl, "server_cert", 2, _F.TYPE_STRING)
    _field(ssl, "custom_ca", 3, _F.TYPE_STRING)
    _field(ssl, "client_verify", 4, _F.TYPE_BOOL)
    prom = fd.message_type.add(name="PrometheusConfig")
    _field(prom, "enable", 1, _F.TYPE_BOOL)
    _field(prom, "path", 2, _F.TYPE_STRING)
    mon = fd.message_type.add(name="MonitoringConfig")
    _field(mon, "prometheus_config", 1, _F.TYPE_MESSAGE, ".tensorflow.serving.PrometheusConfig")
    bp = fd.message_type.add(name="BatchingParameters")
    i64, s = ".google.protobuf.Int64Value", ".google.protobuf.StringValue"
    _field(bp, "max_batch_size", 1, _F.TYPE_MESSAGE, i64)
    _field(bp, "batch_timeout_micros", 2, _F.TYPE_MESSAGE, i64)
    _field(bp, "max_enqueued_batches", 3, _F.TYPE_MESSAGE, i64)
    _field(bp, "num_batch_threads", 4, _F.TYPE_MESSAGE, i64)
    _field(bp, "thread_pool_name", 5, _F.TYPE_MESSAGE, s)
    _field(bp, "allowed_batch_sizes", 6, _F.TYPE_INT64, repeated=True)
    _field(bp, "pad_variable_length_inputs", 7, _F.TYPE_BOOL)
    _field(bp, "max_execution_batch_size", 8, _F.TYPE_MESSAGE, i64)
    _field(bp, "enable_large_batch_splitting", 9, _F.TYPE_MESSAGE, ".google.protobuf.BoolValue")
    _field(bp, "batch_padding_policy", 10, _F.TYPE_MESSAGE, s)
    pool.Add(fd)
    return pool


def _cls(full_name: str) -> type[message.Message]:
    return message_factory.GetMessageClass(_pool().FindMessageTypeByName(full_name))


def ssl_config_class() -> type[message.Message]:
    return _cls("tensorflow.serving.SSLConfig")


def monitoring_config_class() -> type[message.Message]:
    return _cls("tensorflow.serving.MonitoringConfig")


def batching_parameters_class() -> type[message.Message]:
    return _cls("tensorflow.serving.BatchingParameters")


def parse_text_file_content(text: str, cls: type[M]) -> M:
    msg = cls()
    text_format.Parse(text, msg)
    return msg


def parse_text_file(path: str, cls: type[M]) -> M:
    """Read a text proto the way TF Serving's ``ParseProtoTextFile`` does, with its error wording."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigFileError(f"NOT_FOUND: {path}; {exc.strerror or exc}") from exc
    try:
        return parse_text_file_content(text, cls)
    except text_format.ParseError as exc:
        raise ConfigFileError(f"INVALID_ARGUMENT: Invalid protobuf file: '{path}' ({exc})") from exc
