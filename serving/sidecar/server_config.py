"""The server's ModelServerConfig: built from what the sidecar wants served, as proto or text.

One entry per model name. The sidecar's candidates use a *shadow* name (``fuel__candidate``)
with the same base_path and a ``specific`` policy, so neither unversioned nor labelled plant
requests can reach them.

Example::

    >>> print(to_text([ModelEntry("fuel", "/m/fuel", (3,), {})]).strip())
    model_config_list {
      config {
        name: "fuel"
        base_path: "/m/fuel"
        model_platform: "tensorflow"
        model_version_policy {
          specific {
            versions: 3
          }
        }
      }
    }
"""
from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

from serving.protocol import textproto
from serving.protocol.messages import ModelServerConfig

__all__ = ["ModelEntry", "to_proto", "to_text", "write_config_file", "shadow_name", "SHADOW_SUFFIX"]

SHADOW_SUFFIX = "__candidate"


def shadow_name(model: str) -> str:
    return f"{model}{SHADOW_SUFFIX}"


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    base_path: str
    versions: tuple[int, ...]
    labels: Mapping[str, int]


def to_proto(entries: Iterable[ModelEntry]) -> ModelServerConfig:
    config = ModelServerConfig()
    for entry in sorted(entries, key=lambda e: e.name):
        if not entry.versions:
            continue
        c = config.model_config_list.config.add()
        c.name = entry.name
        c.base_path = entry.base_path
        c.model_platform = "tensorflow"
        c.model_version_policy.specific.versions.extend(sorted(set(entry.versions)))
        for label, version in sorted(entry.labels.items()):
            c.version_labels[label] = version
    return config


def to_text(entries: Iterable[ModelEntry]) -> str:
    return textproto.to_text(to_proto(entries))


def write_config_file(path: Path, entries: Iterable[ModelEntry]) -> None:
    """Atomically replace ``path`` (temp name in the same dir, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(to_text(entries))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
