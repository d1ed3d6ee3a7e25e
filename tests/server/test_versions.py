from pathlib import Path

import pytest

from serving.server.config import single_model_config
from serving.server.versions import (BasePathMissing, VersionPolicy, aspired_versions, list_versions,
                                     parse_version, policy_from_proto)


def test_only_integer_names_are_versions(tmp_path: Path):
    for name in ("1", "007", "10", "1.tmp", "tmp_1", ".staging-3", "rollout.json", ".claims", "-2"):
        (tmp_path / name).mkdir()
    assert sorted(list_versions(str(tmp_path))) == [1, 7, 10]
    assert list_versions(str(tmp_path))[7].endswith("007")


def test_missing_base_path_raises(tmp_path: Path):
    with pytest.raises(BasePathMissing, match="Could not find base path"):
        list_versions(str(tmp_path / "nope"))


def test_unsupported_scheme_is_a_poll_error():
    with pytest.raises(BasePathMissing, match="File system scheme 's3' not implemented"):
        list_versions("s3://bucket/fuel")


def test_parse_version_bounds():
    assert parse_version("9223372036854775807") == 2**63 - 1
    assert parse_version("9223372036854775808") is None


def test_policies():
    disk = {1: "/1", 2: "/2", 3: "/3"}
    assert aspired_versions(disk, VersionPolicy("latest", 2)) == {3: "/3", 2: "/2"}
    assert aspired_versions(disk, VersionPolicy("all")) == disk
    assert aspired_versions(disk, VersionPolicy("specific", versions=frozenset({1, 5}))) == {1: "/1"}


def test_policy_from_proto():
    cfg = single_model_config("fuel", "/x").model_config_list.config[0]
    assert policy_from_proto(None) == VersionPolicy("latest", 1)
    cfg.model_version_policy.latest.num_versions = 0
    assert policy_from_proto(cfg.model_version_policy) == VersionPolicy("latest", 1)
    cfg.model_version_policy.specific.versions.extend([3, 4])
    assert policy_from_proto(cfg.model_version_policy) == VersionPolicy("specific", versions=frozenset({3, 4}))
    cfg.model_version_policy.all.SetInParent()
    assert policy_from_proto(cfg.model_version_policy).kind == "all"
