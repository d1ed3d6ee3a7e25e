"""Everything ``plantserve serve`` checks before TensorFlow is loaded: the flags' combinations and the
config files (model config, batching, SSL, monitoring), with TF Serving's words.

TF Serving reads these in ``Server::BuildAndStart`` (``server.cc``), some of them only after the
models load; here all of them are read first, so a bad file is refused in a fraction of a second.
A text proto that does not parse logs protobuf's own line to stderr
(``Error parsing text-format tensorflow.serving.ModelServerConfig: L:C: ...``) and fails with
``INVALID_ARGUMENT: Invalid protobuf file: '<path>'``, as TF Serving does.

>>> files = read_startup_files(ServerSettings(model_name="fuel", model_base_path="/m/fuel"), stderr=None)
>>> files.model_config.model_config_list.config[0].name, files.metrics_path
('fuel', None)
"""
from __future__ import annotations

import dataclasses
import sys
from typing import TextIO, TypeVar

from google.protobuf.message import Message

from serving.protocol.messages import BatchingParameters, ModelServerConfig, MonitoringConfig, SSLConfig
from serving.protocol.textproto import ConfigFileError, read_text_file
from serving.server.batching import BatchingOptions, options_from_proto
from serving.server.config import single_model_config
from serving.server.flags import ServerSettings

__all__ = ["StartupError", "StartupFiles", "read_startup_files", "session_threads", "DEFAULT_METRICS_PATH"]

DEFAULT_METRICS_PATH = "/monitoring/prometheus/metrics"
M = TypeVar("M", bound=Message)


class StartupError(RuntimeError):
    """``Failed to start server. Error: <CODE>: <message>``; the process exits 255."""


@dataclasses.dataclass(frozen=True)
class StartupFiles:
    model_config: ModelServerConfig
    batching: BatchingOptions | None
    ssl: SSLConfig | None
    metrics_path: str | None


def _read(path: str, cls: type[M], stderr: TextIO | None) -> M:
    """``ParseProtoTextFile``, with protobuf's own line on ``stderr`` before the status, as TF Serving."""
    try:
        return read_text_file(path, cls)
    except ConfigFileError as exc:
        if exc.parse_error and stderr is not None:
            print(exc.parse_error, file=stderr, flush=True)
        raise StartupError(str(exc)) from exc


def session_threads(s: ServerSettings) -> tuple[int, int]:
    """(intra-op, inter-op) threads for the session config, as ``server.cc`` picks them. Left at 0 by
    every flag, the stand-in runs each step in the calling thread (inter-op -1): a request already has
    its own thread here, and handing each step to a pool only adds a thread switch."""
    intra, inter, both = (s.tensorflow_intra_op_parallelism, s.tensorflow_inter_op_parallelism,
                          s.tensorflow_session_parallelism)
    if intra > 0 and inter > 0 and both > 0:
        raise StartupError("INVALID_ARGUMENT: Either configure server_options.tensorflow_session_parallelism or "
                           "(server_options.tensorflow_intra_op_parallelism, "
                           "server_options.tensorflow_inter_op_parallelism) separately. You cannot configure all.")
    if intra > 0 or inter > 0:
        return intra, inter
    if both > 0:
        return both, both
    return 0, -1


def _check_flags(s: ServerSettings) -> None:
    if s.grpc_port == 0 and not s.grpc_socket_path:
        raise StartupError("INVALID_ARGUMENT: At least one of server_options.grpc_port or "
                           "server_options.grpc_socket_path must be set.")
    if not s.model_base_path and not s.model_config_file:
        raise StartupError("INVALID_ARGUMENT: Both server_options.model_base_path and "
                           "server_options.model_config_file are empty!")
    if s.rest_api_max_body_bytes <= 0:
        raise StartupError(f"INVALID_ARGUMENT: --rest_api_max_body_bytes must be positive, got "
                           f"{s.rest_api_max_body_bytes}")
    if s.max_request_elements <= 0:
        raise StartupError(f"INVALID_ARGUMENT: --max_request_elements must be positive, got {s.max_request_elements}")
    session_threads(s)


def read_startup_files(s: ServerSettings, stderr: TextIO | None = sys.stderr) -> StartupFiles:
    """Check the flags and read every config file they name. Raises ``StartupError``."""
    _check_flags(s)
    config = (_read(s.model_config_file, ModelServerConfig, stderr) if s.model_config_file
              else single_model_config(s.model_name, s.model_base_path))
    batching = None
    if s.enable_batching:
        params = (_read(s.batching_parameters_file, BatchingParameters, stderr) if s.batching_parameters_file
                  else BatchingParameters(thread_pool_name={"value": "model_server_batch_threads"}))
        try:
            batching = options_from_proto(params)
        except ValueError as exc:
            raise StartupError(f"INVALID_ARGUMENT: {exc}") from exc
    elif s.batching_parameters_file:
        raise StartupError("INVALID_ARGUMENT: server_options.batching_parameters_file is set without setting "
                           "server_options.enable_batching to true.")
    ssl = _read(s.ssl_config_file, SSLConfig, stderr) if s.ssl_config_file else None
    metrics_path = None
    if s.monitoring_config_file:
        monitoring = _read(s.monitoring_config_file, MonitoringConfig, stderr)
        if monitoring.prometheus_config.enable:
            metrics_path = monitoring.prometheus_config.path or DEFAULT_METRICS_PATH
    return StartupFiles(config, batching, ssl, metrics_path)
