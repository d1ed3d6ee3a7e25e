"""``gs://`` stores: GCS's S3-compatible XML API with HMAC keys, through a front on moto that enforces
where GCS differs from S3 (tests/storefront.py): create-only writes, no default checksum headers."""
from __future__ import annotations

from pathlib import Path

import pytest

from serving.store import S3Options, StoreConflictError, open_store
from serving.store.s3 import GCS_XML_ENDPOINT, S3Store
from tests.storefront import StoreFront
from tests.tls import issue, make_ca


@pytest.fixture
def gcs(s3_server):
    s3_server.make_bucket("plant-models")
    with StoreFront(s3_server.endpoint, gcs=True) as front:
        yield front


def test_roundtrip_multipart_and_listing(gcs, tmp_path: Path) -> None:
    store = open_store("gs://plant-models/prod", S3Options(endpoint_url=gcs.url, multipart_threshold_bytes=5 << 20,
                                                           multipart_chunk_bytes=5 << 20))
    big = tmp_path / "variables.data"
    big.write_bytes(bytes(range(256)) * (11 * 4096))  # three parts
    store.upload_file("fuel/1/variables/variables.data-00000-of-00001", big)
    store.write_bytes("fuel/1/saved_model.pb", b"pb")
    assert {o.key for o in store.list("fuel/")} == {"fuel/1/saved_model.pb",
                                                    "fuel/1/variables/variables.data-00000-of-00001"}
    out = tmp_path / "out"
    store.download_file("fuel/1/variables/variables.data-00000-of-00001", out)
    assert out.read_bytes() == big.read_bytes()
    assert store.uri == "gs://plant-models/prod"
    # the front refuses boto3's default checksum headers as GCS does: none was sent
    sent = {k.lower() for _m, _p, headers in gcs.requests for k in headers}
    assert not {k for k in sent if k.startswith("x-amz-checksum") or k == "x-amz-sdk-checksum-algorithm"}


def test_create_exclusive_uses_the_generation_precondition(gcs) -> None:
    store = open_store("gs://plant-models/prod", S3Options(endpoint_url=gcs.url))
    store.create_exclusive("fuel/.claims/3", b"")
    with pytest.raises(StoreConflictError):
        store.create_exclusive("fuel/.claims/3", b"")
    puts = [h for m, p, h in gcs.requests if m == "PUT" and p.endswith("/fuel/.claims/3")]
    assert len(puts) == 2
    assert all(h.get("x-goog-if-generation-match") == "0" and "If-None-Match" not in h for h in puts)


def test_endpoint_defaults_to_google_then_the_emulator_variable(monkeypatch, gcs, tmp_path: Path) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    assert S3Store("gs://b/p")._client.meta.endpoint_url == GCS_XML_ENDPOINT
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.url.removeprefix("http://"))
    store = open_store("gs://plant-models/emulated")
    store.write_bytes("x", b"1")
    assert store.read_bytes("x") == b"1"


def test_tls_front_with_a_private_ca(s3_server, tmp_path: Path, monkeypatch) -> None:
    ca_pem, ca = make_ca()
    server = issue(ca, "s3.plant.example", server=True)
    s3_server.make_bucket("plant-models")
    (tmp_path / "ca.pem").write_bytes(ca_pem.cert)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tmp_path / "ca.pem"))
    with StoreFront(s3_server.endpoint, cert=(server.cert, server.key)) as front:
        store = open_store("s3://plant-models/line-3", S3Options(endpoint_url=front.url))
        store.write_bytes("fuel/rollout.json", b"{}")
        assert store.read_bytes("fuel/rollout.json") == b"{}"
        assert front.url.startswith("https://")


def test_bucketless_uris_are_refused() -> None:
    with pytest.raises(ValueError, match="has no bucket"):
        open_store("gs:///prefix")
