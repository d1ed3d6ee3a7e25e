import argparse

from serving.sidecar import cli
from tests.support import free_port, run_cli


def parse(*argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_missing_required_setting_exits_2(caplog, monkeypatch):
    monkeypatch.delenv("PLANTSERVE_STORE", raising=False)
    assert cli.run(parse("--models", "fuel", "--model-base-path", "/tmp/x")) == 2
    assert "--store (or PLANTSERVE_STORE) is required" in caplog.text


def test_busy_http_port_exits_2(tmp_path, caplog):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = cli.run(parse("--store", str(tmp_path), "--models", "fuel", "--model-base-path", str(tmp_path / "m"),
                             "--http-host", "127.0.0.1", "--http-port", str(port),
                             "--server-grpc", f"127.0.0.1:{free_port()}"))
    assert code == 2 and "--http-port" in caplog.text


def test_help_names_every_env_variable():
    out = run_cli("sidecar", "--help", check=True).stdout
    for env in ("PLANTSERVE_STORE", "PLANTSERVE_MODELS", "PLANTSERVE_MODEL_BASE_PATH", "PLANTSERVE_SERVER_GRPC",
                "PLANTSERVE_ROLLBACK_WINDOW_SECONDS", "PLANTSERVE_KUBERNETES", "PLANTSERVE_LOG_LEVEL"):
        assert env in out
