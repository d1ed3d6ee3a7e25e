"""``plantserve predict`` in a subprocess against a scripted in-process server."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.client.fakes import Behaviour, FakeGrpcServer, FakeRestServer
from tests.support import free_port, run_cli


@pytest.fixture
def grpc_target():
    port = free_port()
    with FakeGrpcServer(port, Behaviour()) as server:
        yield f"127.0.0.1:{port}", server


def test_predict_csv_prints_a_table_with_context(tmp_path: Path, grpc_target):
    target, server = grpc_target
    (tmp_path / "in.csv").write_text("car,x\nrabbit,1.5\ntorino,2\n")
    res = run_cli("predict", "fuel", "--target", target, "--csv", str(tmp_path / "in.csv"))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["#", "car", "x"]
    assert lines[1].split() == ["0", "rabbit", "3"] and lines[2].split() == ["1", "torino", "4"]


def test_predict_json_output_and_version(tmp_path: Path, grpc_target):
    target, server = grpc_target
    (tmp_path / "in.json").write_text(json.dumps({"x": [1.0, 2.5]}))
    res = run_cli("predict", "fuel", "--target", target, "--json", str(tmp_path / "in.json"), "--version", "2",
                  "--output", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {"x": [2.0, 5.0]}


def test_predict_over_rest(tmp_path: Path):
    port = free_port()
    (tmp_path / "in.json").write_text(json.dumps([{"x": 1.0}]))
    with FakeRestServer(port, Behaviour()) as server:
        res = run_cli("predict", "fuel", "--target", f"http://127.0.0.1:{port}", "--json", str(tmp_path / "in.json"),
                      "--latest")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[1].split() == ["0", "2"]
    assert server.behaviour.requests[-1].startswith(b"/v1/models/fuel:predict ")


def test_bad_input_exits_2_with_the_reason(tmp_path: Path, grpc_target):
    target, _ = grpc_target
    (tmp_path / "in.json").write_text(json.dumps({"nope": [1.0]}))
    res = run_cli("predict", "fuel", "--target", target, "--json", str(tmp_path / "in.json"))
    assert res.returncode == 2 and "no input 'nope'" in res.stderr


def test_unreachable_server_exits_1(tmp_path: Path):
    (tmp_path / "in.json").write_text("{}")
    res = run_cli("predict", "fuel", "--target", f"127.0.0.1:{free_port()}", "--json", str(tmp_path / "in.json"),
                  "--timeout-seconds", "3")
    assert res.returncode == 1 and "UNAVAILABLE" in res.stderr


def test_default_label_comes_from_flags_then_environment():
    import argparse

    from serving.client.cli import add_arguments, settings_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["fuel", "--target", "h:1", "--status"]
    assert settings_from_args(parser.parse_args(base), environ={}).default_label == "stable"
    prod = {"PLANTSERVE_CLIENT_DEFAULT_LABEL": "prod"}
    assert settings_from_args(parser.parse_args(base), prod).default_label == "prod"
    assert settings_from_args(parser.parse_args(base), {"PLANTSERVE_CLIENT_DEFAULT_LABEL": ""}).default_label is None
    assert settings_from_args(parser.parse_args([*base, "--latest"]), environ={}).default_label is None


def test_latest_wins_over_the_environment_and_connection_settings_have_env_names():
    import argparse

    from serving.client.cli import add_arguments, settings_from_args
    from serving.settings import SettingsError

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["fuel", "--status"]
    env = {"PLANTSERVE_CLIENT_TARGET": "h:1", "PLANTSERVE_CLIENT_DEFAULT_LABEL": "prod",
           "PLANTSERVE_CLIENT_TIMEOUT_SECONDS": "2.5"}
    s = settings_from_args(parser.parse_args([*base, "--latest"]), env)
    assert (s.target, s.default_label, s.timeout_seconds) == ("h:1", None, 2.5)
    assert settings_from_args(parser.parse_args([*base, "--target", "h:2"]), env).target == "h:2"
    try:
        settings_from_args(parser.parse_args(base), {})
    except SettingsError as exc:
        assert "--target (or PLANTSERVE_CLIENT_TARGET) is required" in str(exc)
    else:
        raise AssertionError("a missing target must be refused")
