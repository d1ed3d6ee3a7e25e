"""Acceptance 4, 5 and 7 of the training issue: version numbers, the quality gate, S3 round trip."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from serving.store import open_store
from serving.store.repository import ModelRepository
from tests.support import PLANTSERVE, REPO, run_cli

#: A quick fuel run whose quality does not matter for the test at hand.
QUICK = ("--epochs", "30", "--gate-threshold", "100", "--gate-tolerance", "0.99", "--quiet")


def _snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_publishing_twice_gives_n_and_n_plus_1(model_store_copy: Path) -> None:
    repo = ModelRepository(open_store(str(model_store_copy)), "fuel")
    assert repo.versions() == [1]
    result = run_cli("train", "fuel", "--store", str(model_store_copy), *QUICK, check=True)
    assert repo.versions() == [1, 2]
    assert f"published file://{model_store_copy}/fuel/2" in result.stdout


def test_concurrent_publishes_never_collide(tmp_path: Path) -> None:
    store = tmp_path / "store"
    procs = [subprocess.Popen([*PLANTSERVE, "train", "fuel", "--store", str(store), "--seed", str(seed), *QUICK],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for seed in (1, 2)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    repo = ModelRepository(open_store(str(store)), "fuel")
    assert repo.versions() == [1, 2]
    published = sorted(line.rsplit("/", 1)[1] for out in outputs for line in out.splitlines()
                       if line.startswith("published "))
    assert published == ["1", "2"]


def test_gate_refuses_a_bad_model_and_force_records_the_override(model_store_copy: Path) -> None:
    before = _snapshot(model_store_copy)
    refused = run_cli("train", "fuel", "--store", str(model_store_copy), "--epochs", "1", "--quiet")
    assert refused.returncode == 1
    assert "quality gate refused to publish" in refused.stderr and "--force" in refused.stderr
    assert "worse than version 1" in refused.stderr and "Traceback" not in refused.stderr
    assert _snapshot(model_store_copy) == before  # not even a version number was claimed

    forced = run_cli("train", "fuel", "--store", str(model_store_copy), "--epochs", "1", "--quiet", "--force")
    assert forced.returncode == 0, forced.stderr
    manifest = ModelRepository(open_store(str(model_store_copy)), "fuel").manifest(2)
    assert manifest.forced and any("threshold" in r for r in manifest.forced["reasons"])
    assert "FORCED" in forced.stdout


def test_s3_round_trip_through_the_http_endpoint(s3_server, model_store: Path, tmp_path: Path) -> None:
    uri = s3_server.make_bucket("plant-models") + "/line-3"
    result = run_cli("train", "fuel", "--store", uri, *QUICK, env=s3_server.env)
    assert result.returncode == 0, result.stderr
    assert f"published {uri}/fuel/1" in result.stdout
    repo = ModelRepository(open_store(uri), "fuel")
    assert repo.versions() == [1]
    # publish a known local version through the same interface and compare byte for byte
    local = ModelRepository(open_store(str(model_store)), "defect")
    remote = ModelRepository(open_store(uri), "defect")
    manifest = local.manifest(1)
    remote.publish(model_store / "defect" / "1", manifest)
    fetched = tmp_path / "fetched"
    remote.fetch(1, fetched)
    for entry in manifest.files:
        assert (fetched / entry.path).read_bytes() == (model_store / "defect" / "1" / entry.path).read_bytes()
    assert json.loads((fetched / "manifest.json").read_text())["version"] == 1
