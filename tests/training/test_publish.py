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


def test_signed_and_encrypted_publish_verifies_with_the_upstream_cli(s3_server, tmp_path: Path) -> None:
    """Issue 13, acceptance 1 (first half): ``plantserve train --signing-key`` publishes a version that
    ``model_signing verify key`` accepts; with ``--s3-sse aws:kms`` every object is encrypted at rest."""
    import boto3

    from tests.tls import write_key_pair

    key, pub = write_key_pair(tmp_path, "line-3", password=b"plant")
    (tmp_path / "password").write_text("plant\n")
    uri = s3_server.make_bucket("signed-models") + "/line-3"
    result = run_cli("train", "fuel", "--store", uri, *QUICK, "--s3-sse", "aws:kms", "--s3-sse-kms-key-id",
                     "alias/plant", "--signing-key-password-file", str(tmp_path / "password"),
                     env={**s3_server.env, "PLANTSERVE_SIGNING_KEY": str(key)})
    assert result.returncode == 0, result.stderr
    assert "signed fuel version 1 with key sha256:" in result.stdout
    client = boto3.client("s3", endpoint_url=s3_server.endpoint)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="signed-models", Prefix="line-3/fuel/1/")["Contents"]]
    assert "line-3/fuel/1/model.sig" in keys
    for object_key in keys:
        head = client.head_object(Bucket="signed-models", Key=object_key)
        assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", "alias/plant"), object_key

    fetched = tmp_path / "fetched"
    ModelRepository(open_store(uri), "fuel").fetch_exact(1, fetched)
    upstream = subprocess.run([str(Path(sys.executable).parent / "model_signing"), "verify", "key", str(fetched),
                               "--signature", str(fetched / "model.sig"), "--public_key", str(pub)],
                              capture_output=True, text=True, timeout=120)
    assert upstream.returncode == 0 and "Verification succeeded" in upstream.stdout, upstream.stderr
    ours = run_cli("verify", "fuel", "1", "--store", uri, "--trusted-keys", str(pub), env=s3_server.env)
    assert ours.returncode == 0 and "saved_model.pb" in ours.stdout, ours.stderr
