"""tensorflow_model_server's flags, declared once and parsed the way TF Serving parses them.

``ServerSettings`` is the one declaration (:mod:`serving.settings`): each field is a setting with TF
Serving's flag name (``--port`` for ``grpc_port``, ``--<field>`` for every other), TF's default, TF's
help text and no env (TF Serving reads none), except the bind address ``host``, which is env-only
(``PLANTSERVE_SERVE_HOST``). ``COMPAT_ONLY`` names the flags accepted for compatibility that have no
effect in the stand-in. ``usage()`` is printed from the declaration.

TF Serving's parser (``tensorflow/core/util/command_line_flags.cc``) only knows ``--name=value``
(booleans also take a bare ``--name``); a later duplicate overrides an earlier one. An argument that
matches no flag is reported as ``unknown argument`` with the usage text and the server keeps running;
a value that does not parse (an int out of its int32/int64 range included) makes the server print the
usage and exit 255. :func:`parse` converts with those rules, then builds the settings with
:func:`serving.settings.build`, which adds the env-only fields and the defaults.

>>> p = parse(["--port=9000", "--model_name=fuel", "--num_load_threads=2", "--bogus"], env={})
>>> p.settings.grpc_port, p.settings.host, p.unknown, p.ignored
(9000, '0.0.0.0', ['--bogus'], ('num_load_threads',))
"""
from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any, Callable, Mapping, Sequence

from serving.settings import SettingsError, Spec, build, parse_bool, setting, specs

__all__ = ["FlagError", "ParsedFlags", "ServerSettings", "COMPAT_ONLY", "HOST_ENV", "parse", "usage"]

#: The environment variable for the bind address (``ServerSettings.host``).
HOST_ENV = "PLANTSERVE_SERVE_HOST"

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


class FlagError(SettingsError):
    """A flag value that does not parse; TF Serving exits 255 on it."""


def _within(bounds: tuple[int, int], what: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value is None or bounds[0] <= value <= bounds[1] else f"must be {what}"
    return check


#: The checks of TF's ``int32`` and ``int64`` flags.
int32 = _within(INT32, "a 32-bit integer")
int64 = _within(INT64, "a 64-bit integer")


def _schedulable_cpus() -> int:
    """``port::NumSchedulableCPUs()``: the CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no sched_getaffinity (macOS)
        return os.cpu_count() or 1


_LIMIT = "plantserve serve only (TensorFlow Serving has no such limit): "


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """Everything the server reads from its command line, and its bind address from the env."""

    grpc_port: int = setting(8500, flag="--port", env="", check=int32, help="Port to listen on for gRPC API")
    grpc_socket_path: str = setting("", flag="--grpc_socket_path", env="",
                                    help="If non-empty, listen to a UNIX socket for gRPC API on the given path")
    rest_api_port: int = setting(0, flag="--rest_api_port", env="", check=int32,
                                 help="Port to listen on for HTTP/REST API. If set to zero HTTP/REST API will not "
                                      "be exported.")
    rest_api_num_threads: int = setting(4 * _schedulable_cpus(), flag="--rest_api_num_threads", env="", check=int32,
                                        help="Number of threads for HTTP/REST API processing.")
    rest_api_timeout_in_ms: int = setting(30000, flag="--rest_api_timeout_in_ms", env="", check=int32,
                                          help="Timeout for HTTP/REST API calls.")
    rest_api_enable_cors_support: bool = setting(False, flag="--rest_api_enable_cors_support", env="",
                                                 help="Enable CORS headers in response")
    rest_api_max_body_bytes: int = setting(
        4 << 20, flag="--rest_api_max_body_bytes", env="", check=int64,
        help=_LIMIT + "the largest HTTP/REST request body, in bytes, before and after gzip decompression; a larger "
                      "one is answered 413 without being read.")
    max_request_elements: int = setting(
        1 << 25, flag="--max_request_elements", env="", check=int64,
        help=_LIMIT + "the most elements the input tensors of one Predict request may declare together (REST or "
                      "gRPC); a larger request is refused (INVALID_ARGUMENT) before anything is allocated.")
    enable_batching: bool = setting(False, flag="--enable_batching", env="", help="enable batching")
    allow_version_labels_for_unavailable_models: bool = setting(
        False, flag="--allow_version_labels_for_unavailable_models", env="",
        help="If true, allows assigning unused version labels to models that are not available yet.")
    batching_parameters_file: str = setting(
        "", flag="--batching_parameters_file", env="",
        help="If non-empty, read an ascii BatchingParameters protobuf from the file.")
    enable_per_model_batching_parameters: bool = setting(False, flag="--enable_per_model_batching_parameters", env="",
                                                         help="Enables model specific batching params")
    model_config_file: str = setting("", flag="--model_config_file", env="",
                                     help="If non-empty, read an ascii ModelServerConfig protobuf from the file.")
    model_config_file_poll_wait_seconds: int = setting(
        0, flag="--model_config_file_poll_wait_seconds", env="", check=int32,
        help="Interval in seconds between each poll of the model config file.")
    model_name: str = setting("default", flag="--model_name", env="",
                              help="name of model (ignored if --model_config_file flag is set)")
    model_base_path: str = setting("", flag="--model_base_path", env="",
                                   help="path to export (ignored if --model_config_file flag is set, otherwise "
                                        "required)")
    num_load_threads: int = setting(0, flag="--num_load_threads", env="", check=int32,
                                    help="The number of threads in the thread-pool used to load servables.")
    num_unload_threads: int = setting(0, flag="--num_unload_threads", env="", check=int32,
                                      help="The number of threads in the thread-pool used to unload servables.")
    max_num_load_retries: int = setting(5, flag="--max_num_load_retries", env="", check=int32,
                                        help="maximum number of times it retries loading a model after the first "
                                             "failure")
    load_retry_interval_micros: int = setting(60 * 1000 * 1000, flag="--load_retry_interval_micros", env="",
                                              check=int64,
                                              help="The interval, in microseconds, between each servable load retry.")
    file_system_poll_wait_seconds: int = setting(
        1, flag="--file_system_poll_wait_seconds", env="", check=int32,
        help="Interval in seconds between each poll of the filesystem for new model version.")
    flush_filesystem_caches: bool = setting(True, flag="--flush_filesystem_caches", env="",
                                            help="If true, flushes filesystem caches after initial load.")
    tensorflow_session_parallelism: int = setting(0, flag="--tensorflow_session_parallelism", env="", check=int64,
                                                  help="Number of threads to use for running a Tensorflow session.")
    tensorflow_session_config_file: str = setting("", flag="--tensorflow_session_config_file", env="",
                                                  help="If non-empty, read an ascii TensorFlow Session ConfigProto.")
    tensorflow_intra_op_parallelism: int = setting(
        0, flag="--tensorflow_intra_op_parallelism", env="", check=int64,
        help="Number of threads to use to parallelize the execution of an individual op.")
    tensorflow_inter_op_parallelism: int = setting(
        0, flag="--tensorflow_inter_op_parallelism", env="", check=int64,
        help="Controls the number of operators that can be executed simultaneously.")
    use_alts_credentials: bool = setting(False, flag="--use_alts_credentials", env="",
                                         help="Use Google ALTS credentials")
    ssl_config_file: str = setting("", flag="--ssl_config_file", env="",
                                   help="If non-empty, read an ascii SSLConfig protobuf from the file (gRPC only).")
    platform_config_file: str = setting("", flag="--platform_config_file", env="",
                                        help="If non-empty, read an ascii PlatformConfigMap protobuf.")
    per_process_gpu_memory_fraction: float = setting(0.0, flag="--per_process_gpu_memory_fraction", env="",
                                                     help="Fraction of GPU memory to allocate.")
    saved_model_tags: str = setting("serve", flag="--saved_model_tags", env="",
                                    help="Comma-separated set of tags for the MetaGraphDef to load.")
    grpc_channel_arguments: str = setting("", flag="--grpc_channel_arguments", env="",
                                          help="A comma separated list of arguments to be passed to the grpc server.")
    grpc_max_threads: int = setting(0, flag="--grpc_max_threads", env="", check=int32,
                                    help="Max grpc server threads to handle grpc messages.")
    enable_model_warmup: bool = setting(True, flag="--enable_model_warmup", env="",
                                        help="Enables model warmup, which triggers lazy initializations.")
    num_request_iterations_for_warmup: int = setting(1, flag="--num_request_iterations_for_warmup", env="",
                                                     check=int32,
                                                     help="Number of times a request is iterated during warmup "
                                                          "replay.")
    version: bool = setting(False, flag="--version", env="", help="Display version")
    monitoring_config_file: str = setting("", flag="--monitoring_config_file", env="",
                                          help="If non-empty, read an ascii MonitoringConfig protobuf from the file.")
    remove_unused_fields_from_bundle_metagraph: bool = setting(
        True, flag="--remove_unused_fields_from_bundle_metagraph", env="",
        help="Removes unused fields from MetaGraphDef proto.")
    prefer_tflite_model: bool = setting(False, flag="--prefer_tflite_model", env="",
                                        help="Prefer TensorFlow Lite model from model.tflite file.")
    num_tflite_pools: int = setting(1, flag="--num_tflite_pools", env="", check=int32,
                                    help="Number of TFLite interpreters pools.")
    num_tflite_interpreters_per_pool: int = setting(1, flag="--num_tflite_interpreters_per_pool", env="",
                                                    check=int32, help="Number of TFLite interpreters per pool.")
    enable_signature_method_name_check: bool = setting(False, flag="--enable_signature_method_name_check", env="",
                                                       help="Enable method_name check for SignatureDef.")
    xla_cpu_compilation_enabled: bool = setting(False, flag="--xla_cpu_compilation_enabled", env="",
                                                help="Enable XLA:CPU JIT")
    enable_profiler: bool = setting(True, flag="--enable_profiler", env="", help="Enable profiler service.")
    thread_pool_factory_config_file: str = setting("", flag="--thread_pool_factory_config_file", env="",
                                                   help="ThreadPoolFactoryConfig file.")
    mixed_precision: str = setting("", flag="--mixed_precision", env="", help="specify mixed_precision mode")
    skip_initialize_tpu: bool = setting(False, flag="--skip_initialize_tpu", env="",
                                        help="Whether to skip auto initializing TPU.")
    enable_grpc_healthcheck_service: bool = setting(False, flag="--enable_grpc_healthcheck_service", env="",
                                                    help="Enable the standard gRPC healthcheck service.")
    use_tflite_model: bool = setting(False, flag="--use_tflite_model", env="", help="EXPERIMENTAL; use TFLite model")
    enable_serialization_as_tensor_content: bool = setting(
        False, flag="--enable_serialization_as_tensor_content", env="",
        help="Serialize Predict outputs as tensor_content.")
    #: Not a TF Serving flag (TF Serving always binds 0.0.0.0), so it comes from the environment only:
    #: ``PLANTSERVE_SERVE_HOST=127.0.0.1`` keeps a laptop's or a test's server off the network.
    host: str = setting("0.0.0.0", flag="", env=HOST_ENV, help="address both ports bind")

    def __post_init__(self) -> None:
        object.__setattr__(self, "host", self.host.strip())  # the env value without surrounding blanks

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(t for t in self.saved_model_tags.split(",") if t)


#: Flags accepted for compatibility that have no effect in the stand-in (``serve`` warns about each one
#: given). Each is a field of ``ServerSettings`` whose flag is ``--<field>``.
COMPAT_ONLY: frozenset[str] = frozenset({
    "enable_per_model_batching_parameters", "num_load_threads", "num_unload_threads", "flush_filesystem_caches",
    "tensorflow_session_config_file", "use_alts_credentials", "platform_config_file",
    "per_process_gpu_memory_fraction", "remove_unused_fields_from_bundle_metagraph", "prefer_tflite_model",
    "num_tflite_pools", "num_tflite_interpreters_per_pool", "xla_cpu_compilation_enabled",
    "thread_pool_factory_config_file", "mixed_precision", "skip_initialize_tpu", "use_tflite_model",
})


@dataclasses.dataclass(frozen=True)
class ParsedFlags:
    settings: ServerSettings
    unknown: list[str]
    help_requested: bool = False
    #: The ``COMPAT_ONLY`` flags given, sorted.
    ignored: tuple[str, ...] = ()


def _tf_int(text: str) -> int:
    """An int as TF's flag parser reads it: digits with an optional sign (the range is the field's check)."""
    stripped = text.strip()
    if not stripped or not stripped.lstrip("+-").isdigit():
        raise ValueError(text)
    return int(stripped)


def _tf_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(text)


#: The builder's item parser -> (TF's parser of a flag value, the type shown in the usage).
_TF_KINDS: dict[Any, tuple[Callable[[str], Any], str]] = {
    int: (_tf_int, "int"), float: (float, "float"), parse_bool: (_tf_bool, "bool"), str: (str, "string")}


@functools.cache
def _flags() -> dict[str, Spec]:
    """TF flag name (without ``--``) -> its setting, in declaration order."""
    return {spec.flag[2:]: spec for spec in specs(ServerSettings) if spec.flag}


def _convert(name: str, spec: Spec, raw: str) -> Any:
    try:
        value = _TF_KINDS[spec.kind][0](raw)
    except ValueError as exc:
        raise FlagError(f"Couldn't interpret value {raw} for flag {name}.") from exc
    if spec.check is not None and spec.check(value):
        raise FlagError(f"Couldn't interpret value {raw} for flag {name}.")
    return value


def parse(argv: Sequence[str], env: Mapping[str, str] | None = None) -> ParsedFlags:
    """Parse ``argv`` (without the program name); the env-only settings come from ``env`` (default: the
    process environment). Raises ``FlagError`` for a flag value that does not parse."""
    flags = _flags()
    values: dict[str, Any] = {}
    unknown: list[str] = []
    help_requested = False
    for arg in argv:
        if arg in ("--help", "-h", "--helpfull"):
            help_requested = True
            continue
        name, eq, raw = arg[2:].partition("=") if arg.startswith("--") else ("", "", "")
        spec = flags.get(name)
        if spec is None or (not eq and spec.kind is not parse_bool):
            unknown.append(arg)
            continue
        values[spec.name] = _convert(name, spec, raw) if eq else True
    settings = build(ServerSettings, None, env=env, **values)
    return ParsedFlags(settings, unknown, help_requested, tuple(sorted(COMPAT_ONLY.intersection(values))))


def usage(prog: str = "plantserve serve") -> str:
    lines = ["usage: " + prog, "Flags:"]
    for name, spec in _flags().items():
        kind = _TF_KINDS[spec.kind][1]
        default = (str(spec.default).lower() if kind == "bool"
                   else f'"{spec.default}"' if kind == "string" else spec.default)
        lines.append(f"\t--{name}={default}\t{kind}\t{spec.help}")
    return "\n".join(lines) + "\n"
