"""``manifest.json``: the completion marker and contract of one published version.

It is written last, after every other file of the version is in the store. A reader
treats a version without a valid manifest as not there at all.

Example::

    >>> m = Manifest.from_json(Manifest(model="fuel", version=1, files=[FileEntry("saved_model.pb", 3, "0"*64)],
    ...     signatures={}, metrics={}, primary_metric=PrimaryMetric("mae", "min", 1.0),
    ...     data_fingerprint="x").to_json())
    >>> m.version
    1
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .errors import StoreIntegrityError

__all__ = [
    "MANIFEST_NAME",
    "FORMAT_VERSION",
    "FileEntry",
    "PrimaryMetric",
    "Golden",
    "Manifest",
    "ManifestError",
    "sha256_file",
    "file_entries",
    "verify_dir",
]

MANIFEST_NAME = "manifest.json"
#: Bumped on incompatible changes; readers refuse formats they do not know.
FORMAT_VERSION = 1
_HASH_CHUNK_BYTES = 1024 * 1024


class ManifestError(ValueError):
    """The manifest is missing a field or has a wrong one; the version is treated as absent."""


@dataclasses.dataclass(frozen=True)
class FileEntry:
    path: str  # relative, '/'-separated
    size: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class PrimaryMetric:
    """The metric the quality gate compares: ``goal`` is "min" (e.g. MAE) or "max" (accuracy)."""

    name: str
    goal: str
    value: float

    def better_or_equal(self, other: float, tolerance: float) -> bool:
        """Is ``self.value`` no worse than ``other`` by more than ``tolerance`` (relative)?"""
        if self.goal == "min":
            return self.value <= other * (1 + tolerance)
        return self.value >= other * (1 - tolerance)


@dataclasses.dataclass(frozen=True)
class Golden:
    """Inputs with the outputs this version gave; the sidecar replays them as a smoke test."""

    signature_name: str
    inputs: dict[str, Any]   # name -> nested list
    outputs: dict[str, Any]  # name -> nested list
    rtol: float = 1e-4
    atol: float = 1e-4


@dataclasses.dataclass(frozen=True)
class Manifest:
    model: str
    version: int
    files: list[FileEntry]
    #: name -> {"method_name", "inputs": {name: {"dtype", "shape"}}, "outputs": {...}}
    signatures: dict[str, Any]
    metrics: dict[str, Any]
    primary_metric: PrimaryMetric
    data_fingerprint: str
    parent_version: int | None = None
    strategy: str = "full"
    golden: Golden | None = None
    #: Set when ``--force`` overrode the quality gate: {"reason": ...}.
    forced: dict[str, Any] | None = None
    #: A signature change the sidecar may accept even though it breaks callers.
    allow_breaking_change: bool = False
    created_at: str = ""
    training: dict[str, Any] = dataclasses.field(default_factory=dict)
    format: int = FORMAT_VERSION

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["total_bytes"] = self.total_bytes
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> "Manifest":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ManifestError(f"manifest is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ManifestError("manifest is not a JSON object")
        if data.get("format") != FORMAT_VERSION:
            raise ManifestError(f"manifest format {data.get('format')!r} is not {FORMAT_VERSION}")
        try:
            files = [FileEntry(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in data["files"]]
            golden = Golden(**data["golden"]) if data.get("golden") else None
            manifest = cls(
                model=str(data["model"]),
                version=int(data["version"]),
                files=files,
                signatures=dict(data["signatures"]),
                metrics=dict(data["metrics"]),
                primary_metric=PrimaryMetric(**data["primary_metric"]),
                data_fingerprint=str(data["data_fingerprint"]),
                parent_version=data.get("parent_version"),
                strategy=str(data.get("strategy", "full")),
                golden=golden,
                forced=data.get("forced"),
                allow_breaking_change=bool(data.get("allow_breaking_change", False)),
                created_at=str(data.get("created_at", "")),
                training=dict(data.get("training", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(f"manifest field missing or invalid: {exc!r}") from exc
        manifest.validate()
        return manifest

    def validate(self) -> None:
        if self.version < 1:
            raise ManifestError(f"version must be >= 1, got {self.version}")
        if not self.files:
            raise ManifestError("manifest lists no files")
        paths = {f.path for f in self.files}
        if "saved_model.pb" not in paths:
            raise ManifestError("manifest does not list saved_model.pb")
        for f in self.files:
            if f.path.startswith("/") or ".." in f.path.split("/") or f.path == MANIFEST_NAME:
                raise ManifestError(f"bad file path in manifest: {f.path!r}")
            if f.size < 0 or len(f.sha256) != 64:
                raise ManifestError(f"bad size or sha256 for {f.path!r}")
        if self.primary_metric.goal not in ("min", "max"):
            raise ManifestError(f"primary_metric.goal must be 'min' or 'max', got {self.primary_metric.goal!r}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def file_entries(root: Path) -> list[FileEntry]:
    """Size and sha256 of every file under ``root`` (except a manifest), sorted by path."""
    entries = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if rel != MANIFEST_NAME:
                entries.append(FileEntry(rel, full.stat().st_size, sha256_file(full)))
    return sorted(entries, key=lambda e: e.path)


def verify_dir(root: Path, manifest: Manifest) -> None:
    """Raise StoreIntegrityError naming every file whose size or sha256 is wrong or missing."""
    problems = []
    for entry in manifest.files:
        path = root / entry.path
        if not path.is_file():
            problems.append(f"{entry.path}: missing")
        elif path.stat().st_size != entry.size:
            problems.append(f"{entry.path}: size {path.stat().st_size} != {entry.size}")
        elif sha256_file(path) != entry.sha256:
            problems.append(f"{entry.path}: sha256 mismatch")
    if problems:
        raise StoreIntegrityError(
            f"{manifest.model} version {manifest.version} failed verification: " + "; ".join(problems)
        )
