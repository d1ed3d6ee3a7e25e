import argparse
from pathlib import Path

import pytest

from serving.sidecar.settings import Settings, SettingsError, add_arguments


def parse(argv, env=None):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return Settings.from_args(parser.parse_args(argv), env=env or {})


BASE = ["--store", "/s", "--models", "fuel,defect", "--model-base-path", "/m"]


def test_defaults_match_the_contract():
    s = parse(BASE)
    assert s.models == ("fuel", "defect")
    assert s.server_grpc == "localhost:8500" and s.server_rest == "http://localhost:8501"
    assert (s.http_port, s.poll_interval_seconds, s.rollback_window_seconds, s.keep_versions) == (8502, 10.0, 600.0, 2)
    assert (s.latency_p99_ratio, s.latency_slack_ms, s.rollback_error_ratio, s.rollback_p99_ms) == (1.5, 2.0, 0.05, 0.0)
    assert s.model_config_file == Path("/m/models.config") and s.kubernetes is False


def test_env_fills_in_and_flags_win():
    env = {"PLANTSERVE_STORE": "s3://b", "PLANTSERVE_MODELS": "fuel", "PLANTSERVE_MODEL_BASE_PATH": "/v",
           "PLANTSERVE_POLL_INTERVAL_SECONDS": "2.5", "PLANTSERVE_KUBERNETES": "true", "PLANTSERVE_HTTP_PORT": "9000"}
    s = parse(["--http-port", "9100"], env)
    assert (s.store, s.models, s.poll_interval_seconds, s.kubernetes, s.http_port) == ("s3://b", ("fuel",), 2.5, True, 9100)


@pytest.mark.parametrize("argv, needle", [
    (["--models", "fuel", "--model-base-path", "/m"], "--store"),
    (BASE + ["--poll-interval-seconds", "0"], "--poll-interval-seconds"),
    (BASE + ["--rollback-error-ratio", "-1"], "--rollback-error-ratio"),
    (["--store", "/s", "--models", "fuel,fuel", "--model-base-path", "/m"], "twice"),
    (["--store", "/s", "--models", "a__b", "--model-base-path", "/m"], "invalid model name"),
])
def test_bad_values_name_the_flag(argv, needle):
    with pytest.raises(SettingsError, match=needle):
        parse(argv)


def test_bad_env_value_names_the_env_key():
    with pytest.raises(SettingsError, match="PLANTSERVE_KEEP_VERSIONS"):
        parse(BASE, {"PLANTSERVE_KEEP_VERSIONS": "many"})


def test_settings_are_frozen():
    s = parse(BASE)
    with pytest.raises(Exception):
        s.keep_versions = 5


def test_boolean_flag_alone_or_with_a_value():
    assert parse(BASE + ["--kubernetes"]).kubernetes is True
    assert parse(BASE + ["--kubernetes=false"], {"PLANTSERVE_KUBERNETES": "1"}).kubernetes is False


def test_trust_anchors_from_flags_and_env(tmp_path):
    from tests.tls import write_key_pair

    _, pub = write_key_pair(tmp_path, "line-3")
    _, operator = write_key_pair(tmp_path, "operator")
    assert not parse(BASE).trust.configured and not parse(BASE).pointer_trust.configured
    s = parse([*BASE, "--trusted-keys", str(tmp_path / "line-3.pub")],
              env={"PLANTSERVE_POINTER_TRUSTED_KEYS": str(operator)})
    assert s.trusted_keys == (pub,) and [k.path for k in s.trust.keys] == [pub]
    assert [k.path for k in s.pointer_trust.keys] == [operator]
    with pytest.raises(SettingsError, match="--pointer-trusted-keys.*cannot read the trusted key /absent.pub"):
        parse([*BASE, "--pointer-trusted-keys", "/absent.pub"])
    with pytest.raises(SettingsError, match="--trusted-identity needs --trusted-ca"):
        parse([*BASE, "--trusted-keys", str(pub), "--trusted-identity", "trainer@plant"])
