"""``plantserve train``: bad input gives exit 2, one clear message, and nothing half-published."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import free_port, run_cli


@pytest.mark.parametrize("args, message", [
    (["fuel"], "--store (or PLANTSERVE_STORE) is required"),
    (["fuel", "--store", "{store}", "--epochs", "0"], "--epochs: must be >= 1"),
    (["fuel", "--store", "{store}", "--data-dir", "{tmp}"], "--data-dir applies to the defect model only"),
    (["fuel", "--store", "{store}", "--data-file", "{tmp}/missing.csv"], "does not exist"),
    (["defect", "--store", "{store}", "--data-dir", "{tmp}/empty"], "--data-dir"),
    (["fuel", "--store", "{store}", "--strategy", "incremental"], "needs a published version of fuel"),
    (["fuel", "--store", "ftp://x/y"], "unsupported store URI"),
    (["fuel", "--store", "{store}", "--signing-key", "{tmp}/missing.pem"], "cannot read the signing key"),
    (["fuel", "--store", "{store}", "--signing-cert", "{tmp}/leaf.crt"], "need --signing-key"),
    (["fuel", "--store", "{store}", "--s3-sse", "AES256"], "applies to s3:// stores"),
    (["fuel", "--store", "{store}", "--s3-sse-kms-key-id", "k"], "needs --s3-sse aws:kms"),
])
def test_bad_input_exits_2_with_one_message(tmp_path: Path, args: list[str], message: str, monkeypatch) -> None:
    monkeypatch.delenv("PLANTSERVE_STORE", raising=False)
    (tmp_path / "empty").mkdir()
    store = tmp_path / "store"
    argv = [a.format(store=store, tmp=tmp_path) for a in args]
    result = run_cli("train", *argv, "--quiet")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not any(p.name == "manifest.json" for p in store.rglob("*")) if store.exists() else True


def test_corrupt_data_dir_publishes_nothing(tmp_path: Path) -> None:
    for name in ("ok", "bad"):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(5):
            (tmp_path / "data" / name / f"{i}.png").write_bytes(b"not a png")
    store = tmp_path / "store"
    result = run_cli("train", "defect", "--store", str(store), "--data-dir", str(tmp_path / "data"), "--quiet")
    assert result.returncode == 2 and "not a readable image" in result.stderr
    assert not list(store.rglob("*.json"))


def test_unreachable_s3_store_is_one_actionable_line(tmp_path: Path) -> None:
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_MAX_ATTEMPTS": "1"}
    result = run_cli("train", "fuel", "--store", "s3://plant-models", "--s3-endpoint-url",
                     f"http://127.0.0.1:{free_port()}", "--quiet", env=env, timeout=120)
    assert result.returncode == 2
    assert "cannot reach the S3 endpoint" in result.stderr and "Traceback" not in result.stderr


def test_store_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = run_cli("train", "fuel", "--store", str(tmp_path / "file"), "--quiet")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "not a directory" in result.stderr
