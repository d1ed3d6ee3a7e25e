"""tensorflow_model_server's flags: one declaration (``ServerSettings``), TF Serving's parser on top."""
import dataclasses
import os
import subprocess
import sys

import pytest

from serving import settings as builder
from serving.server import flags
from tests.support import REPO


def _specs():
    return {spec.name: spec for spec in builder.specs(flags.ServerSettings)}


def test_equals_form_and_later_duplicate_wins():
    parsed = flags.parse(["--port=9000", "--port=9001", "--rest_api_port=8501", "--model_name=fuel"], env={})
    assert parsed.settings.grpc_port == 9001
    assert parsed.settings.rest_api_port == 8501
    assert parsed.settings.model_name == "fuel"
    assert parsed.unknown == []


def test_defaults_match_tensorflow_model_server():
    s = flags.parse([], env={}).settings
    assert (s.grpc_port, s.rest_api_port, s.rest_api_timeout_in_ms) == (8500, 0, 30000)
    assert (s.file_system_poll_wait_seconds, s.model_config_file_poll_wait_seconds) == (1, 0)
    assert s.enable_model_warmup is True and s.allow_version_labels_for_unavailable_models is False
    assert s.enable_grpc_healthcheck_service is False and s.model_name == "default"
    assert (s.max_num_load_retries, s.load_retry_interval_micros, s.saved_model_tags) == (5, 60_000_000, "serve")
    assert s == flags.ServerSettings()  # the parser adds nothing the declaration does not say


def test_unknown_and_space_separated_flags_are_reported_not_fatal():
    parsed = flags.parse(["--bogus=1", "--port", "9000", "positional", "-port=1", "--"], env={})
    assert parsed.unknown == ["--bogus=1", "--port", "9000", "positional", "-port=1", "--"]
    assert parsed.settings.grpc_port == 8500


@pytest.mark.parametrize("arg", ["--port=abc", "--port=99999999999", "--enable_batching=maybe",
                                 "--load_retry_interval_micros=1.5", "--port=1.5", "--port=", "--port=+-1",
                                 "--port=2147483648", "--port=-2147483649",
                                 "--load_retry_interval_micros=9223372036854775808",
                                 "--per_process_gpu_memory_fraction=half"])
def test_bad_values_raise_tf_servings_text(arg):
    name, _, raw = arg[2:].partition("=")
    with pytest.raises(flags.FlagError) as info:
        flags.parse([arg], env={})
    assert str(info.value) == f"Couldn't interpret value {raw} for flag {name}."


def test_int_flags_take_tf_servings_whole_int32_and_int64_ranges():
    """No range of our own: TF's int32 --port accepts -1 (the server then fails to bind, as TF Serving)."""
    assert flags.parse(["--port=-1"], env={}).settings.grpc_port == -1
    assert flags.parse([f"--port={2**31 - 1}"], env={}).settings.grpc_port == 2**31 - 1
    assert flags.parse([f"--port={-2**31}"], env={}).settings.grpc_port == -2**31
    big = flags.parse([f"--load_retry_interval_micros={2**63 - 1}"], env={}).settings
    assert big.load_retry_interval_micros == 2**63 - 1
    assert flags.parse(["--port= +12 "], env={}).settings.grpc_port == 12


def test_bool_forms():
    assert flags.parse(["--enable_batching"], env={}).settings.enable_batching is True
    assert flags.parse(["--enable_model_warmup=false"], env={}).settings.enable_model_warmup is False
    assert flags.parse(["--enable_model_warmup=0"], env={}).settings.enable_model_warmup is False
    assert flags.parse(["--enable_batching=TRUE"], env={}).settings.enable_batching is True
    with pytest.raises(flags.FlagError):
        flags.parse(["--enable_batching=yes"], env={})  # TF's bool: true/false/1/0 only


def test_help_flags():
    for arg in ("-h", "--help", "--helpfull"):
        parsed = flags.parse([arg], env={})
        assert parsed.help_requested and parsed.unknown == []
    assert flags.parse([], env={}).help_requested is False


def test_accepted_but_unused_flags_are_listed_sorted():
    parsed = flags.parse(["--num_load_threads=4", "--flush_filesystem_caches=false", "--port=1"], env={})
    assert parsed.ignored == ("flush_filesystem_caches", "num_load_threads")
    assert parsed.settings.num_load_threads == 4 and parsed.settings.flush_filesystem_caches is False
    assert flags.parse(["--grpc_socket_path=/x.sock"], env={}).ignored == ()


ACCEPTED = (
    "port grpc_socket_path rest_api_port rest_api_num_threads rest_api_timeout_in_ms rest_api_enable_cors_support "
    "rest_api_max_body_bytes max_request_elements enable_batching allow_version_labels_for_unavailable_models "
    "batching_parameters_file enable_per_model_batching_parameters model_config_file "
    "model_config_file_poll_wait_seconds model_name model_base_path num_load_threads num_unload_threads "
    "max_num_load_retries load_retry_interval_micros file_system_poll_wait_seconds flush_filesystem_caches "
    "tensorflow_session_parallelism tensorflow_session_config_file tensorflow_intra_op_parallelism "
    "tensorflow_inter_op_parallelism use_alts_credentials ssl_config_file platform_config_file "
    "per_process_gpu_memory_fraction saved_model_tags grpc_channel_arguments grpc_max_threads enable_model_warmup "
    "num_request_iterations_for_warmup version monitoring_config_file remove_unused_fields_from_bundle_metagraph "
    "prefer_tflite_model num_tflite_pools num_tflite_interpreters_per_pool enable_signature_method_name_check "
    "xla_cpu_compilation_enabled enable_profiler thread_pool_factory_config_file mixed_precision skip_initialize_tpu "
    "enable_grpc_healthcheck_service use_tflite_model enable_serialization_as_tensor_content").split()
NO_EFFECT = {
    "enable_per_model_batching_parameters", "num_load_threads", "num_unload_threads", "flush_filesystem_caches",
    "tensorflow_session_config_file", "use_alts_credentials", "platform_config_file", "per_process_gpu_memory_fraction",
    "remove_unused_fields_from_bundle_metagraph", "prefer_tflite_model", "num_tflite_pools",
    "num_tflite_interpreters_per_pool", "xla_cpu_compilation_enabled", "thread_pool_factory_config_file",
    "mixed_precision", "skip_initialize_tpu", "use_tflite_model"}


def test_the_accepted_flags_and_those_without_effect():
    """The flags plantserve serve accepts, in usage order, and the ones it accepts only for compatibility."""
    assert [spec.flag[2:] for spec in builder.specs(flags.ServerSettings) if spec.flag] == ACCEPTED
    assert flags.COMPAT_ONLY == NO_EFFECT
    given = [f"--{name}" if _specs()[name].kind is builder.parse_bool else f"--{name}=1" for name in sorted(NO_EFFECT)]
    assert flags.parse(given, env={}).ignored == tuple(sorted(NO_EFFECT))


def test_compat_only_flags_are_declared_fields():
    specs = _specs()
    assert flags.COMPAT_ONLY <= specs.keys()
    assert all(specs[name].flag == f"--{name}" for name in flags.COMPAT_ONLY)
    assert {"num_load_threads", "flush_filesystem_caches", "platform_config_file"} <= flags.COMPAT_ONLY
    assert not flags.COMPAT_ONLY & {"port", "grpc_port", "model_name", "enable_batching", "host"}


def test_every_field_is_declared_once_as_a_tf_flag_or_an_env():
    specs = _specs()
    fields = [f.name for f in dataclasses.fields(flags.ServerSettings)]
    assert list(specs) == fields  # no field outside the declaration
    for name, spec in specs.items():
        assert bool(spec.flag) != bool(spec.env), name  # a TF flag (no env) or an env (no flag), never both
        if spec.flag:
            assert spec.flag == ("--port" if name == "grpc_port" else f"--{name}"), name
    assert {name for name, spec in specs.items() if not spec.flag} == {"host"}
    flag_names = [spec.flag for spec in specs.values() if spec.flag]
    assert len(flag_names) == len(set(flag_names)) == len(fields) - 1


def test_int_flags_carry_their_tf_range():
    specs = _specs()
    int32 = {"grpc_port", "rest_api_port", "rest_api_num_threads", "file_system_poll_wait_seconds", "num_load_threads"}
    int64 = {"load_retry_interval_micros", "rest_api_max_body_bytes", "tensorflow_session_parallelism"}
    assert all(specs[name].check is flags.int32 for name in int32)
    assert all(specs[name].check is flags.int64 for name in int64)
    assert all(spec.check in (flags.int32, flags.int64) for spec in specs.values() if spec.kind is int)
    with pytest.raises(builder.SettingsError, match="--port: must be a 32-bit integer"):
        builder.build(flags.ServerSettings, None, env={}, grpc_port=2**31)


def test_rest_api_num_threads_is_four_per_schedulable_cpu():
    """TF Serving: ``4.0 * port::NumSchedulableCPUs()`` (the CPUs this process may run on)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    s = flags.parse([], env={}).settings
    assert s.rest_api_num_threads == 4 * cpus
    if cpus == os.cpu_count():  # a machine without an affinity mask: TF's 4 x os.cpu_count()
        assert s.rest_api_num_threads == 4 * os.cpu_count()
    assert f"\t--rest_api_num_threads={4 * cpus}\tint\t" in flags.usage()
    assert flags.parse(["--rest_api_num_threads=3"], env={}).settings.rest_api_num_threads == 3


def test_rest_api_num_threads_follows_the_cpus_the_process_may_use():
    """On one allowed CPU the default is 4, whatever the machine (a constant would fail here or elsewhere)."""
    script = ("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
              "from serving.server import flags\n"
              "print(flags.ServerSettings().rest_api_num_threads, '--rest_api_num_threads=4\\t' in flags.usage())")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.stdout.split() == ["4", "True"], result.stderr


def test_usage_is_derived_from_the_declaration():
    text = flags.usage()
    lines = text.splitlines()
    assert lines[:2] == ["usage: plantserve serve", "Flags:"]
    specs = [spec for spec in builder.specs(flags.ServerSettings) if spec.flag]
    assert len(lines) == 2 + len(specs)
    for line, spec in zip(lines[2:], specs):
        assert line.startswith(f"\t{spec.flag}=") and line.endswith(f"\t{spec.help}")
    assert "\t--port=8500\tint\tPort to listen on for gRPC API" in lines
    assert '\t--model_name="default"\tstring\tname of model (ignored if --model_config_file flag is set)' in lines
    assert "\t--enable_model_warmup=true\tbool\tEnables model warmup, which triggers lazy initializations." in lines
    assert "\t--per_process_gpu_memory_fraction=0.0\tfloat\tFraction of GPU memory to allocate." in lines
    assert "--host" not in text and flags.HOST_ENV not in text


def test_bind_host_comes_from_the_environment_not_a_flag():
    assert _specs()["host"].env == flags.HOST_ENV == "PLANTSERVE_SERVE_HOST"
    assert flags.parse([], env={}).settings.host == "0.0.0.0"  # TF Serving's behaviour
    assert flags.parse([], env={flags.HOST_ENV: "127.0.0.1"}).settings.host == "127.0.0.1"
    assert flags.parse([], env={flags.HOST_ENV: " 127.0.0.1 "}).settings.host == "127.0.0.1"
    assert flags.parse([], env={flags.HOST_ENV: ""}).settings.host == "0.0.0.0"
    assert flags.parse([], env={flags.HOST_ENV: "  "}).settings.host == "0.0.0.0"
    assert flags.parse(["--host=127.0.0.1"], env={}).unknown == ["--host=127.0.0.1"]


def test_tf_flags_read_no_env():
    env = {"PLANTSERVE_GRPC_PORT": "1", "PLANTSERVE_PORT": "1", "PLANTSERVE_MODEL_NAME": "x"}
    s = flags.parse([], env=env).settings
    assert (s.grpc_port, s.model_name) == (8500, "default")


def test_plantserve_limits_are_flags_with_their_defaults():
    s = flags.parse([], env={}).settings
    assert (s.rest_api_max_body_bytes, s.max_request_elements) == (4 << 20, 1 << 25)
    s = flags.parse(["--rest_api_max_body_bytes=1024", "--max_request_elements=10", "--grpc_socket_path=/x.sock",
                     "--enable_profiler=false"], env={}).settings
    assert (s.rest_api_max_body_bytes, s.max_request_elements, s.grpc_socket_path, s.enable_profiler) == (
        1024, 10, "/x.sock", False)
    assert "TensorFlow Serving has no such limit" in flags.usage()


def test_tags():
    assert flags.parse(["--saved_model_tags=serve,gpu,"], env={}).settings.tags == ("serve", "gpu")
