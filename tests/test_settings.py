"""serving.settings: one declaration per field gives the flag, the env name, the default, the help and the check."""
from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path
from typing import ClassVar

import pytest

from serving import settings as spec
from serving.settings import SettingsError, positive, setting

REPO = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Example:
    ENV_PREFIX: ClassVar[str] = "PLANTSERVE_EXAMPLE_"

    name: str  # not a setting: a positional argument
    store: str = setting(env="PLANTSERVE_STORE", help="shared with every command", required=True)
    wait_seconds: float = setting(2.0, help="how long", check=positive)
    label: str | None = setting("stable", flag="", empty=None, help="empty: no label")
    paths: tuple[Path, ...] = setting((), help="several")
    loud: bool = setting(False, env="", help="no env")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    spec.add_arguments(p, Example)
    return p


def build(argv: list[str], env: dict[str, str], **overrides):
    return spec.build(Example, parser().parse_args(argv), env, **{"name": "x", **overrides})


def test_flag_over_env_over_default_and_the_prefix() -> None:
    env = {"PLANTSERVE_STORE": "/s", "PLANTSERVE_EXAMPLE_WAIT_SECONDS": "3"}
    assert build([], env).wait_seconds == 3.0
    assert build(["--wait-seconds", "4"], env).wait_seconds == 4.0
    assert build([], {"PLANTSERVE_STORE": "/s"}).wait_seconds == 2.0
    assert build([], {"PLANTSERVE_STORE": "/s", "PLANTSERVE_WAIT_SECONDS": "9"}).wait_seconds == 2.0


def test_blank_env_is_unset_unless_the_field_says_what_empty_means() -> None:
    env = {"PLANTSERVE_STORE": "/s", "PLANTSERVE_EXAMPLE_WAIT_SECONDS": " "}
    assert build([], env).wait_seconds == 2.0
    assert build([], {**env, "PLANTSERVE_EXAMPLE_LABEL": ""}).label is None
    assert build([], {**env, "PLANTSERVE_EXAMPLE_LABEL": "prod"}).label == "prod"
    assert build([], env).label == "stable"


def test_an_override_wins_even_when_it_is_none() -> None:
    env = {"PLANTSERVE_STORE": "/s", "PLANTSERVE_EXAMPLE_LABEL": "prod"}
    assert build([], env, label=None).label is None


def test_lists_take_commas_and_repeats_and_bools_a_bare_flag() -> None:
    made = build(["--paths", "a,b", "--paths", "c", "--loud"], {"PLANTSERVE_STORE": "/s"})
    assert made.paths == (Path("a"), Path("b"), Path("c")) and made.loud is True
    assert build(["--loud=false"], {"PLANTSERVE_STORE": "/s"}).loud is False


def test_errors_name_the_flag_the_env_and_where_the_value_came_from() -> None:
    with pytest.raises(SettingsError, match=r"--store \(or PLANTSERVE_STORE\) is required"):
        build([], {})
    with pytest.raises(SettingsError, match="must be > 0 .got -1.0 from PLANTSERVE_EXAMPLE_WAIT_SECONDS"):
        build([], {"PLANTSERVE_STORE": "/s", "PLANTSERVE_EXAMPLE_WAIT_SECONDS": "-1"})
    with pytest.raises(SettingsError, match="--wait-seconds"):
        build(["--wait-seconds", "soon"], {"PLANTSERVE_STORE": "/s"})


def test_help_shows_the_default_and_env_and_suppress_leaves_absent_flags_out() -> None:
    text = " ".join(parser().format_help().split())
    assert "(default 2.0) [PLANTSERVE_EXAMPLE_WAIT_SECONDS]" in text and "--label" not in text
    p = argparse.ArgumentParser()
    spec.add_arguments(p, Example, suppress=True)
    assert "wait_seconds" not in vars(p.parse_args([]))


def test_no_process_reads_a_plantserve_env_variable_by_hand() -> None:
    """Every PLANTSERVE_* value comes from a declared setting (the builder reads the env)."""
    by_hand = re.compile(r"(environ(\.get)?\s*[\[(]|getenv\s*\()\s*[\"']PLANTSERVE_")
    found = [f"{path.relative_to(REPO)}:{n}" for top in ("serving", "training")
             for path in sorted((REPO / top).rglob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if by_hand.search(line)]
    assert found == []
