"""serving.demo.settings: one frozen object from flags, errors naming the flag."""
from __future__ import annotations

import argparse

import pytest

from serving.demo.settings import DemoSettings, DemoSettingsError, add_arguments


def parse(*argv: str, env: dict[str, str] | None = None) -> DemoSettings:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return DemoSettings.from_args(parser.parse_args(list(argv)), env=env or {})


def test_defaults_and_env() -> None:
    s = parse(env={"PLANTSERVE_STORE": "s3://plant/models"})
    assert s.store == "s3://plant/models" and s.is_s3 and s.bench_seconds == 10.0
    assert s.model_base_path == s.work_dir / "models" and s.work_dir.is_absolute()
    assert parse().store == "var/store"


@pytest.mark.parametrize("flag,value", [("--bench-seconds", "0"), ("--epochs", "0"), ("--cars", "-1")])
def test_bad_values_name_the_flag(flag: str, value: str) -> None:
    with pytest.raises(DemoSettingsError, match=flag):
        parse(flag, value)


def test_demo_knobs_have_their_own_env_names() -> None:
    s = parse(env={"PLANTSERVE_DEMO_BENCH_SECONDS": "3", "PLANTSERVE_BENCH_SECONDS": "99",
                   "PLANTSERVE_S3_ENDPOINT_URL": "http://127.0.0.1:9000"})
    assert s.bench_seconds == 3.0  # not make bench's PLANTSERVE_BENCH_SECONDS
    assert s.s3_endpoint_url == "http://127.0.0.1:9000"
    assert parse("--bench-seconds", "4", env={"PLANTSERVE_DEMO_BENCH_SECONDS": "3"}).bench_seconds == 4.0


def test_bad_env_value_names_the_env_variable() -> None:
    with pytest.raises(DemoSettingsError, match="PLANTSERVE_DEMO_CARS"):
        parse(env={"PLANTSERVE_DEMO_CARS": "0"})


def test_boolean_flags_alone_mean_true() -> None:
    s = parse("--skip-train", "--keep-running", "--cars", "2")
    assert s.skip_train and s.keep_running and not s.skip_rollout and s.cars == 2
