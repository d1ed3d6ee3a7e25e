"""tensorflow_model_server's flags, parsed the way TF Serving parses them, into one frozen settings object.

TF Serving's parser (``tensorflow/core/util/command_line_flags.cc``) only knows ``--name=value``
(booleans also take a bare ``--name``); a later duplicate overrides an earlier one. An argument that
matches no flag is reported as ``unknown argument`` with the usage text and the server keeps running;
a value that does not parse makes the server print the usage and exit 255.

>>> s = parse(["--port=9000", "--model_name=fuel", "--model_base_path=/m/fuel", "--bogus"])
>>> s.settings.grpc_port, s.unknown
(9000, ['--bogus'])
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Mapping, Sequence

__all__ = ["FlagError", "ParsedFlags", "ServerSettings", "FLAGS", "HOST_ENV", "parse", "usage"]

#: The environment variable for the bind address (see ``ServerSettings.host``).
HOST_ENV = "PLANTSERVE_SERVE_HOST"

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


class FlagError(ValueError):
    """A flag value that does not parse; TF Serving exits 255 on it."""


def _int(bounds: tuple[int, int]) -> Callable[[str], int]:
    def convert(text: str) -> int:
        stripped = text.strip()
        if not stripped or not stripped.lstrip("+-").isdigit():
            raise ValueError(text)
        value = int(stripped)
        if not bounds[0] <= value <= bounds[1]:
            raise ValueError(text)
        return value
    return convert


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(text)


def _float(text: str) -> float:
    return float(text)


@dataclasses.dataclass(frozen=True)
class Flag:
    name: str
    convert: Callable[[str], Any]
    default: Any
    help: str
    used: bool = True  # False: accepted for compatibility, no effect in the stand-in

    @property
    def is_bool(self) -> bool:
        return self.convert is _bool


_i32, _i64 = _int(INT32), _int(INT64)

FLAGS: tuple[Flag, ...] = (
    Flag("port", _i32, 8500, "Port to listen on for gRPC API"),
    Flag("grpc_socket_path", str, "", "If non-empty, listen to a UNIX socket for gRPC API on the given path"),
    Flag("rest_api_port", _i32, 0, "Port to listen on for HTTP/REST API. If set to zero HTTP/REST API will not be exported."),
    Flag("rest_api_num_threads", _i32, 4 * (os.cpu_count() or 1), "Number of threads for HTTP/REST API processing."),
    Flag("rest_api_timeout_in_ms", _i32, 30000, "Timeout for HTTP/REST API calls."),
    Flag("rest_api_enable_cors_support", _bool, False, "Enable CORS headers in response"),
    Flag("rest_api_max_body_bytes", _i64, 4 << 20,
         "plantserve serve only (TensorFlow Serving has no such limit): the largest HTTP/REST request body, in "
         "bytes, before and after gzip decompression; a larger one is answered 413 without being read."),
    Flag("max_request_elements", _i64, 1 << 25,
         "plantserve serve only (TensorFlow Serving has no such limit): the most elements the input tensors of "
         "one Predict request may declare together (REST or gRPC); a larger request is refused (INVALID_ARGUMENT) "
         "before anything is allocated."),
    Flag("enable_batching", _bool, False, "enable batching"),
    Flag("allow_version_labels_for_unavailable_models", _bool, False,
         "If true, allows assigning unused version labels to models that are not available yet."),
    Flag("batching_parameters_file", str, "", "If non-empty, read an ascii BatchingParameters protobuf from the file."),
    Flag("enable_per_model_batching_parameters", _bool, False, "Enables model specific batching params", False),
    Flag("model_config_file", str, "", "If non-empty, read an ascii ModelServerConfig protobuf from the file."),
    Flag("model_config_file_poll_wait_seconds", _i32, 0, "Interval in seconds between each poll of the model config file."),
    Flag("model_name", str, "default", "name of model (ignored if --model_config_file flag is set)"),
    Flag("model_base_path", str, "", "path to export (ignored if --model_config_file flag is set, otherwise required)"),
    Flag("num_load_threads", _i32, 0, "The number of threads in the thread-pool used to load servables.", False),
    Flag("num_unload_threads", _i32, 0, "The number of threads in the thread-pool used to unload servables.", False),
    Flag("max_num_load_retries", _i32, 5, "maximum number of times it retries loading a model after the first failure"),
    Flag("load_retry_interval_micros", _i64, 60 * 1000 * 1000, "The interval, in microseconds, between each servable load retry."),
    Flag("file_system_poll_wait_seconds", _i32, 1, "Interval in seconds between each poll of the filesystem for new model version."),
    Flag("flush_filesystem_caches", _bool, True, "If true, flushes filesystem caches after initial load.", False),
    Flag("tensorflow_session_parallelism", _i64, 0, "Number of threads to use for running a Tensorflow session."),
    Flag("tensorflow_session_config_file", str, "", "If non-empty, read an ascii TensorFlow Session ConfigProto.", False),
    Flag("tensorflow_intra_op_parallelism", _i64, 0, "Number of threads to use to parallelize the execution of an individual op."),
    Flag("tensorflow_inter_op_parallelism", _i64, 0, "Controls the number of operators that can be executed simultaneously."),
    Flag("use_alts_credentials", _bool, False, "Use Google ALTS credentials", False),
    Flag("ssl_config_file", str, "", "If non-empty, read an ascii SSLConfig protobuf from the file (gRPC only)."),
    Flag("platform_config_file", str, "", "If non-empty, read an ascii PlatformConfigMap protobuf.", False),
    Flag("per_process_gpu_memory_fraction", _float, 0.0, "Fraction of GPU memory to allocate.", False),
    Flag("saved_model_tags", str, "serve", "Comma-separated set of tags for the MetaGraphDef to load."),
    Flag("grpc_channel_arguments", str, "", "A comma separated list of arguments to be passed to the grpc server."),
    Flag("grpc_max_threads", _i32, 0, "Max grpc server threads to handle grpc messages."),
    Flag("enable_model_warmup", _bool, True, "Enables model warmup, which triggers lazy initializations."),
    Flag("num_request_iterations_for_warmup", _i32, 1, "Number of times a request is iterated during warmup replay."),
    Flag("version", _bool, False, "Display version"),
    Flag("monitoring_config_file", str, "", "If non-empty, read an ascii MonitoringConfig protobuf from the file."),
    Flag("remove_unused_fields_from_bundle_metagraph", _bool, True, "Removes unused fields from MetaGraphDef proto.", False),
    Flag("prefer_tflite_model", _bool, False, "Prefer TensorFlow Lite model from model.tflite file.", False),
    Flag("num_tflite_pools", _i32, 1, "Number of TFLite interpreters pools.", False),
    Flag("num_tflite_interpreters_per_pool", _i32, 1, "Number of TFLite interpreters per pool.", False),
    Flag("enable_signature_method_name_check", _bool, False, "Enable method_name check for SignatureDef."),
    Flag("xla_cpu_compilation_enabled", _bool, False, "Enable XLA:CPU JIT", False),
    Flag("enable_profiler", _bool, True, "Enable profiler service."),
    Flag("thread_pool_factory_config_file", str, "", "ThreadPoolFactoryConfig file.", False),
    Flag("mixed_precision", str, "", "specify mixed_precision mode", False),
    Flag("skip_initialize_tpu", _bool, False, "Whether to skip auto initializing TPU.", False),
    Flag("enable_grpc_healthcheck_service", _bool, False, "Enable the standard gRPC healthcheck service."),
    Flag("use_tflite_model", _bool, False, "EXPERIMENTAL; use TFLite model", False),
    Flag("enable_serialization_as_tensor_content", _bool, False, "Serialize Predict outputs as tensor_content."),
)
_BY_NAME = {flag.name: flag for flag in FLAGS}


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """Everything the server reads from its command line, validated once."""

    grpc_port: int = 8500
    rest_api_port: int = 0
    rest_api_num_threads: int = 8
    rest_api_timeout_in_ms: int = 30000
    rest_api_enable_cors_support: bool = False
    rest_api_max_body_bytes: int = 4 << 20
    max_request_elements: int = 1 << 25
    grpc_socket_path: str = ""
    enable_profiler: bool = True
    model_name: str = "default"
    model_base_path: str = ""
    model_config_file: str = ""
    model_config_file_poll_wait_seconds: int = 0
    file_system_poll_wait_seconds: int = 1
    max_num_load_retries: int = 5
    load_retry_interval_micros: int = 60_000_000
    monitoring_config_file: str = ""
    enable_batching: bool = False
    batching_parameters_file: str = ""
    allow_version_labels_for_unavailable_models: bool = False
    enable_model_warmup: bool = True
    num_request_iterations_for_warmup: int = 1
    ssl_config_file: str = ""
    grpc_channel_arguments: str = ""
    grpc_max_threads: int = 0
    enable_grpc_healthcheck_service: bool = False
    saved_model_tags: str = "serve"
    tensorflow_session_parallelism: int = 0
    tensorflow_intra_op_parallelism: int = 0
    tensorflow_inter_op_parallelism: int = 0
    enable_signature_method_name_check: bool = False
    enable_serialization_as_tensor_content: bool = False
    version: bool = False
    ignored: tuple[str, ...] = ()
    #: Address both ports bind. Not a TF Serving flag (TF Serving always binds 0.0.0.0), so it comes
    #: from the environment: ``PLANTSERVE_SERVE_HOST=127.0.0.1`` keeps a laptop's or a test's server
    #: off the network.
    host: str = "0.0.0.0"

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(t for t in self.saved_model_tags.split(",") if t)


@dataclasses.dataclass(frozen=True)
class ParsedFlags:
    settings: ServerSettings
    unknown: list[str]
    help_requested: bool = False


def _match(arg: str) -> tuple[Flag, str | None] | None:
    if not arg.startswith("--"):
        return None
    body = arg[2:]
    name, eq, value = body.partition("=")
    flag = _BY_NAME.get(name)
    if flag is None:
        return None
    if not eq:
        return (flag, None) if flag.is_bool else None
    return flag, value


def parse(argv: Sequence[str], env: Mapping[str, str] | None = None) -> ParsedFlags:
    """Parse ``argv`` (without the program name) and ``env`` (default: the process environment).
    Raises ``FlagError`` for a value that does not parse."""
    values: dict[str, Any] = {}
    unknown: list[str] = []
    help_requested = False
    for arg in argv:
        if arg in ("--help", "-h", "--helpfull"):
            help_requested = True
            continue
        matched = _match(arg)
        if matched is None:
            unknown.append(arg)
            continue
        flag, raw = matched
        if raw is None:
            values[flag.name] = True
            continue
        try:
            values[flag.name] = flag.convert(raw)
        except ValueError as exc:
            raise FlagError(f"Couldn't interpret value {raw} for flag {flag.name}.") from exc
    fields = {f.name for f in dataclasses.fields(ServerSettings)}
    kwargs = {("grpc_port" if k == "port" else k): v for k, v in values.items()
              if ("grpc_port" if k == "port" else k) in fields}
    ignored = tuple(sorted(k for k in values if not _BY_NAME[k].used))
    host = (os.environ if env is None else env).get(HOST_ENV, "").strip() or ServerSettings.host
    return ParsedFlags(ServerSettings(**kwargs, ignored=ignored, host=host), unknown, help_requested)


def usage(prog: str = "plantserve serve") -> str:
    lines = ["usage: " + prog, "Flags:"]
    for flag in FLAGS:
        kind = {True: "bool"}.get(flag.is_bool, type(flag.default).__name__.replace("str", "string"))
        default = str(flag.default).lower() if flag.is_bool else (f'"{flag.default}"' if isinstance(flag.default, str) else flag.default)
        lines.append(f"\t--{flag.name}={default}\t{kind}\t{flag.help}")
    return "\n".join(lines) + "\n"
