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
from typing import Any, Mapping

import numpy as np

from .errors import StoreIntegrityError

__all__ = [
    "MANIFEST_NAME",
    "FORMAT_VERSION",
    "FileEntry",
    "PrimaryMetric",
    "Golden",
    "ExplainSpec",
    "TrustSpec",
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
class ExplainSpec:
    """The ``explain`` signature: what it computes, and what a candidate must reproduce.

    ``golden`` holds its outputs for the same inputs as :attr:`Manifest.golden` (numeric outputs
    only). Completeness: on every row, ``|completeness_output| <= completeness_tolerance *
    max(|prediction_output - baseline_output|, completeness_floor)``.

    >>> spec = ExplainSpec("explain", "integrated_gradients", 256, {}, {}, ["x"], "y", "base_y")
    >>> spec.completeness_problems({"y": np.array([3.0, 1.0]), "base_y": np.array([1.0, 1.0]),
    ...                             "completeness_error": np.array([0.01, 0.5])})
    ['row 1: completeness error 0.5 exceeds 0.02 x max(|y - base_y|, 0.01) = 0.0002']
    """

    signature_name: str
    method: str
    steps: int
    #: Quadrature of the path integral, e.g. {"rule": "midpoint", "power": 1.0}.
    path: dict[str, Any]
    baseline: dict[str, Any]
    #: fuel: the order of the last axis of ``attributions``; defect: ["image"].
    features: list[str]
    prediction_output: str
    baseline_output: str
    completeness_output: str = "completeness_error"
    completeness_tolerance: float = 0.02
    completeness_floor: float = 0.01
    golden: Golden | None = None
    #: Completeness on the test split, measured at training time.
    evaluation: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Other explain signatures (name -> how they differ), e.g. ``explain_class``.
    variants: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ExplainSpec":
        fields = dict(data)
        golden = fields.pop("golden", None)
        return cls(**fields, golden=Golden(**golden) if golden else None)

    def completeness_problems(self, outputs: Mapping[str, Any]) -> list[str]:
        """One message per row of ``outputs`` (an ``explain`` answer) that breaks completeness."""
        names = (self.prediction_output, self.baseline_output, self.completeness_output)
        missing = [n for n in names if n not in outputs]
        if missing:
            return [f"outputs {missing} missing from the {self.signature_name!r} answer"]
        prediction, baseline, error = (np.asarray(outputs[n], np.float64).reshape(-1) for n in names)
        bound = self.completeness_tolerance * np.maximum(np.abs(prediction - baseline), self.completeness_floor)
        return [f"row {i}: completeness error {error[i]:.6g} exceeds {self.completeness_tolerance:g} x "
                f"max(|{names[0]} - {names[1]}|, {self.completeness_floor:g}) = {bound[i]:.6g}"
                for i in np.flatnonzero(~(np.abs(error) <= bound))]


@dataclasses.dataclass(frozen=True)
class TrustSpec:
    """The ``trust`` signature (and the trust outputs of ``explain``): a distance from the
    training data, and the threshold above which an input is flagged."""

    signature_name: str
    method: str
    threshold: float
    #: The threshold is this quantile of the validation rows' distances.
    quantile: float
    calibration_rows: int
    distance_output: str = "trust_distance"
    threshold_output: str = "trust_threshold"
    trusted_output: str = "trusted"
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: False alarms on the test split and detection on out-of-distribution sets.
    evaluation: dict[str, Any] = dataclasses.field(default_factory=dict)


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
    #: Absent in versions exported before the ``explain`` and ``trust`` signatures existed.
    explain: ExplainSpec | None = None
    trust: TrustSpec | None = None
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
                explain=ExplainSpec.from_dict(data["explain"]) if data.get("explain") else None,
                trust=TrustSpec(**data["trust"]) if data.get("trust") else None,
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
