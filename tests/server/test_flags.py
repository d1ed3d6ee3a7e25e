from serving.server import flags

import pytest


def test_equals_form_and_later_duplicate_wins():
    parsed = flags.parse(["--port=9000", "--port=9001", "--rest_api_port=8501", "--model_name=fuel"])
    assert parsed.settings.grpc_port == 9001
    assert parsed.settings.rest_api_port == 8501
    assert parsed.settings.model_name == "fuel"
    assert parsed.unknown == []


def test_defaults_match_tensorflow_model_server():
    s = flags.parse([]).settings
    assert (s.grpc_port, s.rest_api_port, s.rest_api_timeout_in_ms) == (8500, 0, 30000)
    assert (s.file_system_poll_wait_seconds, s.model_config_file_poll_wait_seconds) == (1, 0)
    assert s.enable_model_warmup is True and s.allow_version_labels_for_unavailable_models is False
    assert s.enable_grpc_healthcheck_service is False and s.model_name == "default"


def test_unknown_and_space_separated_flags_are_reported_not_fatal():
    parsed = flags.parse(["--bogus=1", "--port", "9000", "positional"])
    assert parsed.unknown == ["--bogus=1", "--port", "9000", "positional"]
    assert parsed.settings.grpc_port == 8500


@pytest.mark.parametrize("arg", ["--port=abc", "--port=99999999999", "--enable_batching=maybe",
                                 "--load_retry_interval_micros=1.5"])
def test_bad_values_raise(arg):
    with pytest.raises(flags.FlagError, match="Couldn't interpret value"):
        flags.parse([arg])


def test_bool_forms():
    assert flags.parse(["--enable_batching"]).settings.enable_batching is True
    assert flags.parse(["--enable_model_warmup=false"]).settings.enable_model_warmup is False
    assert flags.parse(["--enable_model_warmup=0"]).settings.enable_model_warmup is False


def test_accepted_but_unused_flags_are_listed():
    parsed = flags.parse(["--num_load_threads=4", "--flush_filesystem_caches=false"])
    assert parsed.settings.ignored == ("flush_filesystem_caches", "num_load_threads")


def test_usage_names_every_flag():
    text = flags.usage()
    for flag in flags.FLAGS:
        assert f"--{flag.name}=" in text


def test_bind_host_comes_from_the_environment_not_a_flag():
    assert flags.parse([], env={}).settings.host == "0.0.0.0"  # TF Serving's behaviour
    assert flags.parse([], env={flags.HOST_ENV: "127.0.0.1"}).settings.host == "127.0.0.1"
    assert flags.parse([], env={flags.HOST_ENV: "  "}).settings.host == "0.0.0.0"
    assert flags.parse(["--host=127.0.0.1"], env={}).unknown == ["--host=127.0.0.1"]


def test_plantserve_limits_are_flags_with_their_defaults():
    s = flags.parse([]).settings
    assert (s.rest_api_max_body_bytes, s.max_request_elements) == (4 << 20, 1 << 25)
    s = flags.parse(["--rest_api_max_body_bytes=1024", "--max_request_elements=10", "--grpc_socket_path=/x.sock",
                     "--enable_profiler=false"]).settings
    assert (s.rest_api_max_body_bytes, s.max_request_elements, s.grpc_socket_path, s.enable_profiler) == (
        1024, 10, "/x.sock", False)
    assert flags.parse(["--grpc_socket_path=/x.sock"]).settings.ignored == ()
    text = flags.usage()
    assert "TensorFlow Serving has no such limit" in text
