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
