"""serving.store.manifest: the completion marker's format and verification."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from serving.store import StoreIntegrityError
from serving.store.manifest import FileEntry, Manifest, ManifestError, PrimaryMetric, file_entries, verify_dir


def _manifest(files: list[FileEntry]) -> Manifest:
    return Manifest(model="fuel", version=3, files=files, signatures={}, metrics={"mae": 1.9},
                    primary_metric=PrimaryMetric("mae", "min", 1.9), data_fingerprint="sha256:x")


def test_entries_roundtrip_and_verify(tmp_path: Path) -> None:
    (tmp_path / "variables").mkdir()
    (tmp_path / "saved_model.pb").write_bytes(b"graph")
    (tmp_path / "variables" / "variables.index").write_bytes(b"index")
    entries = file_entries(tmp_path)
    assert [e.path for e in entries] == ["saved_model.pb", "variables/variables.index"]
    manifest = Manifest.from_json(_manifest(entries).to_json())
    assert manifest == _manifest(entries)
    assert json.loads(manifest.to_json())["total_bytes"] == 10
    verify_dir(tmp_path, manifest)
    (tmp_path / "variables" / "variables.index").write_bytes(b"INDEX")  # same size, other bytes
    with pytest.raises(StoreIntegrityError, match="variables/variables.index: sha256 mismatch"):
        verify_dir(tmp_path, manifest)
    (tmp_path / "saved_model.pb").unlink()
    with pytest.raises(StoreIntegrityError, match="saved_model.pb: missing"):
        verify_dir(tmp_path, manifest)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(format=99), "format"),
    (lambda d: d.pop("files"), "missing or invalid"),
    (lambda d: d.update(files=[]), "no files"),
    (lambda d: d["files"].append({"path": "../x", "size": 1, "sha256": "0" * 64}), "bad file path"),
    (lambda d: d.update(files=[{"path": "variables/x", "size": 1, "sha256": "0" * 64}]), "saved_model.pb"),
    (lambda d: d.update(primary_metric={"name": "mae", "goal": "up", "value": 1}), "goal"),
])
def test_invalid_manifests_are_refused(mutate, message) -> None:
    data = json.loads(_manifest([FileEntry("saved_model.pb", 1, "0" * 64)]).to_json())
    mutate(data)
    with pytest.raises(ManifestError, match=message):
        Manifest.from_json(json.dumps(data))
    with pytest.raises(ManifestError, match="not valid JSON"):
        Manifest.from_json(b"{truncated")


def test_primary_metric_comparison_respects_goal() -> None:
    assert PrimaryMetric("mae", "min", 2.05).better_or_equal(2.0, tolerance=0.05)
    assert not PrimaryMetric("mae", "min", 2.2).better_or_equal(2.0, tolerance=0.05)
    assert PrimaryMetric("accuracy", "max", 0.95).better_or_equal(0.96, tolerance=0.05)
    assert not PrimaryMetric("accuracy", "max", 0.80).better_or_equal(0.96, tolerance=0.05)


def _explained(files: list[FileEntry]) -> Manifest:
    from serving.store.manifest import ExplainSpec, Golden, TrustSpec

    golden = Golden("explain", {"x": [[1.0]]}, {"y": [2.0], "baseline_y": [1.0], "completeness_error": [0.0]})
    return Manifest(**{**_manifest(files).__dict__,
                       "explain": ExplainSpec("explain", "integrated_gradients", 256, {"rule": "midpoint", "power": 1.0},
                                              {"kind": "training_medians", "values": {"x": 0.5}}, ["x"], "y",
                                              "baseline_y", golden=golden, evaluation={"test_split": {"holds": True}}),
                       "trust": TrustSpec("trust", "robust_mahalanobis", 5.6, 0.995, 64,
                                          evaluation={"false_alarm_rate": 0.0})})


def test_explain_and_trust_round_trip_and_old_manifests_still_parse() -> None:
    files = [FileEntry("saved_model.pb", 1, "0" * 64)]
    new = _explained(files)
    assert Manifest.from_json(new.to_json()) == new
    data = json.loads(new.to_json())
    assert data["format"] == 1 and data["explain"]["golden"]["signature_name"] == "explain"
    assert data["trust"]["threshold"] == 5.6 and data["trust"]["distance_output"] == "trust_distance"
    for key in ("explain", "trust"):  # a manifest written before these fields existed
        data.pop(key)
    old = Manifest.from_json(json.dumps(data))
    assert old.explain is None and old.trust is None and old == _manifest(files)


def test_completeness_problems_name_each_bad_row() -> None:
    import numpy as np

    spec = _explained([FileEntry("saved_model.pb", 1, "0" * 64)]).explain
    outputs = {"y": np.array([5.0, 1.0, 1.0]), "baseline_y": np.array([1.0, 1.0, 1.0]),
               "completeness_error": np.array([0.05, 0.0001, np.nan])}
    problems = spec.completeness_problems(outputs)
    assert [p.split(":")[0] for p in problems] == ["row 2"]  # NaN never passes; 0.05 <= 0.02 x 4
    assert spec.completeness_problems({"y": np.array([1.0])}) == [
        "outputs ['baseline_y', 'completeness_error'] missing from the 'explain' answer"]
