"""``make demo STORE=s3://...``: the same steps against an S3-compatible endpoint (moto on loopback),
credentials and endpoint from the standard AWS env only."""
from __future__ import annotations

import re
from pathlib import Path

from serving.store import open_store
from serving.store.manifest import MANIFEST_NAME
from tests.conftest import S3Server
from tests.demo.helpers import assert_no_children_left
from tests.support import run_cli


def _upload(local: Path, uri: str) -> None:
    """Copy a local store to S3, each version's manifest last (as a publish does)."""
    store = open_store(uri)
    files = sorted(p for p in local.rglob("*") if p.is_file())
    for path in sorted(files, key=lambda p: p.name == MANIFEST_NAME):
        store.upload_file(path.relative_to(local).as_posix(), path)


def test_demo_against_s3(s3_server: S3Server, model_store: Path, tmp_path: Path) -> None:
    uri = s3_server.make_bucket("plant") + "/models"
    _upload(model_store, uri)
    result = run_cli("demo", "--store", uri, "--work-dir", str(tmp_path / "demo"), "--bench-seconds", "1",
                     "--bench-warmup-seconds", "0.5", "--cars", "3", "--images", "3", env=s3_server.env, timeout=900)
    out = result.stdout
    assert result.returncode == 0, f"{out}\n{result.stderr[-5000:]}"
    assert f"fuel: reusing version 1 from {uri}" in out
    assert "failed requests during the swap: 0" in out
    assert "failed requests while the tampered version was refused: 0" in out
    assert re.search(r"^  fuel\s+2\s+1\s+1,2,3\s", out, re.M)
    s3 = open_store(uri)
    assert s3.exists(f"fuel/2/{MANIFEST_NAME}")
    assert_no_children_left(out, expected_at_least=4)
