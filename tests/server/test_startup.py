"""Flags and config files checked before TensorFlow loads, with TF Serving's words."""
import io
import subprocess
import sys

import pytest

from serving.server.flags import ServerSettings, parse
from serving.server.startup import StartupError, read_startup_files, session_threads
from tests.support import REPO


def _settings(*argv: str) -> ServerSettings:
    return parse(list(argv), env={}).settings


def test_a_config_that_does_not_parse(tmp_path):
    bad = tmp_path / "models.config"
    bad.write_text("improperly formatted file")
    stderr = io.StringIO()
    with pytest.raises(StartupError) as info:
        read_startup_files(_settings(f"--model_config_file={bad}"), stderr=stderr)
    assert str(info.value) == f"INVALID_ARGUMENT: Invalid protobuf file: '{bad}'"
    assert stderr.getvalue().startswith("Error parsing text-format tensorflow.serving.ModelServerConfig: 1:1: ")
    assert 'has no field named "improperly"' in stderr.getvalue()


@pytest.mark.parametrize("flag, file_text, message", [
    ("--monitoring_config_file", "prometheus_config { bogus: 1 }", "Invalid protobuf file"),
    ("--ssl_config_file", "server_key: 3 4", "Invalid protobuf file"),
    ("--batching_parameters_file", "max_batch_size { value: 8 }",
     "server_options.batching_parameters_file is set without setting server_options.enable_batching to true."),
])
def test_every_file_is_read_before_anything_loads(tmp_path, flag, file_text, message):
    path = tmp_path / "file.config"
    path.write_text(file_text)
    with pytest.raises(StartupError, match=message):
        read_startup_files(_settings("--model_name=m", "--model_base_path=/m", f"{flag}={path}"), stderr=None)


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(StartupError, match=r"^NOT_FOUND: .*nothing.config; No such file or directory$"):
        read_startup_files(_settings(f"--model_config_file={tmp_path / 'nothing.config'}"), stderr=None)


@pytest.mark.parametrize("argv, message", [
    (["--port=0", "--model_base_path=/m"], "At least one of server_options.grpc_port or "
                                           "server_options.grpc_socket_path must be set."),
    (["--port=1"], "Both server_options.model_base_path and server_options.model_config_file are empty!"),
    (["--model_base_path=/m", "--rest_api_max_body_bytes=0"], "--rest_api_max_body_bytes must be positive"),
    (["--model_base_path=/m", "--max_request_elements=-1"], "--max_request_elements must be positive"),
    (["--model_base_path=/m", "--tensorflow_session_parallelism=2", "--tensorflow_intra_op_parallelism=1",
      "--tensorflow_inter_op_parallelism=1"], "You cannot configure all."),
])
def test_flag_combinations(argv, message):
    with pytest.raises(StartupError) as info:
        read_startup_files(_settings(*argv), stderr=None)
    assert str(info.value).startswith("INVALID_ARGUMENT: ") and message in str(info.value)


def test_socket_path_alone_is_enough():
    files = read_startup_files(_settings("--port=0", "--grpc_socket_path=/tmp/x.sock", "--model_base_path=/m"),
                               stderr=None)
    assert files.model_config.model_config_list.config[0].base_path == "/m"


def test_session_threads():
    assert session_threads(_settings()) == (0, -1)  # the stand-in's default: each step in the caller's thread
    assert session_threads(_settings("--tensorflow_session_parallelism=3")) == (3, 3)
    assert session_threads(_settings("--tensorflow_intra_op_parallelism=2")) == (2, 0)


def test_monitoring_path_default(tmp_path):
    path = tmp_path / "monitoring.config"
    path.write_text("prometheus_config { enable: true }")
    files = read_startup_files(_settings("--model_base_path=/m", f"--monitoring_config_file={path}"), stderr=None)
    assert files.metrics_path == "/monitoring/prometheus/metrics"


def test_a_bad_config_is_refused_without_loading_tensorflow(tmp_path):
    """The process answers before TensorFlow's library is mapped in: no Python package, no C library."""
    bad = tmp_path / "models.config"
    bad.write_text("improperly formatted file")
    script = ("import sys\nfrom serving.server.app import serve\n"
              f"rc = serve(['--port=8500', '--model_config_file={bad}'])\n"
              "maps = open('/proc/self/maps').read()\n"
              "print('rc', rc, 'tf', 'tensorflow' in sys.modules, 'lib', 'libtensorflow' in maps)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert f"Failed to start server. Error: INVALID_ARGUMENT: Invalid protobuf file: '{bad}'" in result.stdout
    assert "rc 255 tf False lib False" in result.stdout
    assert "Error parsing text-format tensorflow.serving.ModelServerConfig: 1:1:" in result.stderr


def test_a_bad_flag_is_refused_without_loading_tensorflow():
    """``plantserve serve`` with a value TF Serving cannot parse: TF's text, exit 255, TensorFlow never loaded."""
    script = ("import sys\nfrom serving.cli import main\n"
              "rc = main(['serve', '--model_base_path=/m', '--port=eighty'])\n"
              "maps = open('/proc/self/maps').read()\n"
              "print('rc', rc, 'tf', 'tensorflow' in sys.modules, 'lib', 'libtensorflow' in maps)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert "rc 255 tf False lib False" in result.stdout
    assert "Couldn't interpret value eighty for flag port." in result.stderr
    assert "\t--port=8500\tint\tPort to listen on for gRPC API" in result.stdout  # the usage follows


def test_the_flags_module_stays_light():
    """Flags are parsed before anything heavy loads: the declaration needs the standard library only."""
    script = ("import sys\nimport serving.server.flags\n"
              "print(sorted(m for m in ('google.protobuf', 'grpc', 'numpy', 'tensorflow') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
