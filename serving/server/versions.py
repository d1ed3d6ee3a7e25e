"""Version directories on disk and the three version policies (``file_system_storage_path_source.cc``).

A child of ``base_path`` whose name parses as a non-negative int64 is a version ("007" is 7); any other
name (``1.tmp``, ``.staging-3``, ``rollout.json``) is ignored. A missing base path is an error that
aborts the whole poll.

>>> aspired_versions({1: "/m/1", 2: "/m/2", 3: "/m/3"}, policy_from_proto(None))
{3: '/m/3'}
"""
from __future__ import annotations

import dataclasses
import logging
import os
import re

__all__ = ["BasePathMissing", "VersionPolicy", "list_versions", "aspired_versions", "policy_from_proto",
           "parse_version"]

log = logging.getLogger(__name__)
_INT = re.compile(r"^\s*\+?(\d+)\s*$")
_INT64_MAX = 2**63 - 1


class BasePathMissing(FileNotFoundError):
    """``base_path`` does not exist: TF Serving aborts that poll for every model."""


@dataclasses.dataclass(frozen=True)
class VersionPolicy:
    kind: str  # "latest", "all" or "specific"
    num_versions: int = 1
    versions: frozenset[int] = frozenset()


def policy_from_proto(proto) -> VersionPolicy:
    """``ServableVersionPolicy`` → ``VersionPolicy``; no policy means ``latest { num_versions: 1 }``."""
    if proto is None:
        return VersionPolicy("latest", 1)
    which = proto.WhichOneof("policy_choice")
    if which == "all":
        return VersionPolicy("all")
    if which == "specific":
        return VersionPolicy("specific", versions=frozenset(proto.specific.versions))
    if which == "latest":
        return VersionPolicy("latest", max(proto.latest.num_versions, 1))
    return VersionPolicy("latest", 1)


def parse_version(name: str) -> int | None:
    match = _INT.match(name)
    if not match:
        return None
    value = int(match.group(1))
    return value if value <= _INT64_MAX else None


def list_versions(base_path: str) -> dict[int, str]:
    """Every version under ``base_path`` → its path. Raises ``BasePathMissing``."""
    if "://" in base_path:
        scheme, _, rest = base_path.partition("://")
        if scheme != "file":
            raise BasePathMissing(f"File system scheme '{scheme}' not implemented (file: '{base_path}')")
        base_path = rest
    try:
        children = os.listdir(base_path)
    except FileNotFoundError as exc:
        raise BasePathMissing(f"Could not find base path {base_path}") from exc
    except NotADirectoryError as exc:
        raise BasePathMissing(f"Could not find base path {base_path} (not a directory)") from exc
    found: dict[int, str] = {}
    for child in sorted(children):
        version = parse_version(child)
        if version is not None and version not in found:
            found[version] = os.path.join(base_path, child)
    return found


def aspired_versions(on_disk: dict[int, str], policy: VersionPolicy) -> dict[int, str]:
    """The versions the policy wants served, among those on disk."""
    if policy.kind == "all":
        return dict(on_disk)
    if policy.kind == "specific":
        return {v: p for v, p in on_disk.items() if v in policy.versions}
    newest = sorted(on_disk, reverse=True)[: policy.num_versions]
    return {v: on_disk[v] for v in newest}
