"""serving.store.s3 against moto's standalone S3 server over HTTP on loopback."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from serving.store import (
    S3Options,
    StoreConflictError,
    StoreCredentialsError,
    StoreNotFoundError,
    StoreUnreachableError,
    open_store,
)
from tests.support import free_port


def test_roundtrip_list_prefix_and_multipart(s3_server, tmp_path: Path) -> None:
    uri = s3_server.make_bucket("models") + "/plant-a"
    # a tiny multipart threshold forces multipart upload and ranged parallel download
    store = open_store(uri, S3Options(multipart_threshold_bytes=5 * 1024 * 1024, multipart_chunk_bytes=5 * 1024 * 1024))
    src = tmp_path / "big.bin"
    src.write_bytes(bytes(range(256)) * (13 * 4096))  # ~13 MiB: three parts
    moved: list[int] = []
    store.upload_file("fuel/1/variables/variables.data-00000-of-00001", src, moved.append)
    store.write_bytes("fuel/1/saved_model.pb", b"pb")
    assert sum(moved) == src.stat().st_size
    listed = {o.key: o.size for o in store.list("fuel/")}
    assert listed == {"fuel/1/saved_model.pb": 2, "fuel/1/variables/variables.data-00000-of-00001": src.stat().st_size}
    dest = tmp_path / "out.bin"
    store.download_file("fuel/1/variables/variables.data-00000-of-00001", dest)
    assert dest.read_bytes() == src.read_bytes()
    # the prefix isolates stores sharing one bucket
    assert list(open_store(uri.replace("plant-a", "plant-b")).list()) == []


def test_conditional_create_has_one_winner(s3_server) -> None:
    store = open_store(s3_server.make_bucket("claims"))
    results: list[str] = []
    barrier = threading.Barrier(6)

    def claim() -> None:
        barrier.wait()
        try:
            store.create_exclusive("fuel/.claims/7", b"")
            results.append("won")
        except StoreConflictError:
            results.append("lost")

    threads = [threading.Thread(target=claim) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == ["lost"] * 5 + ["won"]


def test_missing_bucket_is_one_actionable_error(s3_server) -> None:
    with pytest.raises(StoreNotFoundError, match="bucket 'absent-bucket' does not exist"):
        list(open_store("s3://absent-bucket").list())


def test_missing_credentials(s3_server, monkeypatch, tmp_path) -> None:
    s3_server.make_bucket("creds")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(StoreCredentialsError, match="AWS_ACCESS_KEY_ID"):
        list(open_store("s3://creds").list())


def test_unreachable_endpoint(monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    opts = S3Options(endpoint_url=f"http://127.0.0.1:{free_port()}", max_attempts=1, connect_timeout_seconds=1)
    with pytest.raises(StoreUnreachableError, match="cannot reach the S3 endpoint"):
        list(open_store("s3://any-bucket", opts).list())


@pytest.mark.parametrize("sse, kms_key", [("AES256", None), ("aws:kms", "alias/plant-models"), ("aws:kms", None)])
def test_server_side_encryption_on_every_write_path(s3_server, tmp_path: Path, sse: str, kms_key) -> None:
    import boto3

    uri = s3_server.make_bucket("encrypted") + "/plant-a"
    opts = S3Options(multipart_threshold_bytes=5 * 1024 * 1024, multipart_chunk_bytes=5 * 1024 * 1024,
                     sse=sse, sse_kms_key_id=kms_key)
    store = open_store(uri, opts)
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (12 * 4096))  # ~12 MiB: a multipart upload
    small = tmp_path / "small.bin"
    small.write_bytes(b"pb")
    store.upload_file("fuel/1/variables/variables.data-00000-of-00001", big)
    store.upload_file("fuel/1/saved_model.pb", small)
    store.write_bytes("fuel/1/manifest.json", b"{}")
    store.create_exclusive("fuel/.claims/1", b"")
    client = boto3.client("s3", endpoint_url=s3_server.endpoint)
    for key in ("fuel/1/variables/variables.data-00000-of-00001", "fuel/1/saved_model.pb", "fuel/1/manifest.json",
                "fuel/.claims/1"):
        head = client.head_object(Bucket="encrypted", Key=f"plant-a/{key}")
        assert head["ServerSideEncryption"] == sse, key
        assert head.get("SSEKMSKeyId") == kms_key, key
    # reading needs nothing: a store opened without the options reads it all back
    reader = open_store(uri, S3Options(multipart_threshold_bytes=5 * 1024 * 1024,
                                       multipart_chunk_bytes=5 * 1024 * 1024))
    reader.download_file("fuel/1/variables/variables.data-00000-of-00001", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == big.read_bytes()
    assert reader.read_bytes("fuel/1/manifest.json") == b"{}"


def test_encryption_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--s3-sse must be one of AES256, aws:kms"):
        S3Options(sse="des")
    with pytest.raises(ValueError, match="--s3-sse-kms-key-id needs --s3-sse aws:kms"):
        S3Options(sse="AES256", sse_kms_key_id="k")
    with pytest.raises(ValueError, match="applies to s3:// stores"):
        open_store(str(tmp_path), S3Options(sse="AES256"))
    with pytest.raises(ValueError, match="Google Cloud Storage encrypts every object"):
        open_store("gs://bucket", S3Options(sse="AES256"))
