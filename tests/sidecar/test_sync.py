import os

import pytest

from serving.sidecar.sync import (
    DiskFullError, Downloader, STAGING_PREFIX, clean_staging, local_versions, prune, remove_version)
from serving.store import S3Options, StoreIntegrityError, open_store
from serving.store.manifest import FileEntry, Manifest, PrimaryMetric, file_entries


def make_version(store, model, version, files):
    for rel, data in files.items():
        store.write_bytes(f"{model}/{version}/{rel}", data)
    root = store.root / model / str(version)
    return Manifest(model=model, version=version, files=file_entries(root), signatures={}, metrics={},
                    primary_metric=PrimaryMetric("mae", "min", 1.0), data_fingerprint="t")


FILES = {"saved_model.pb": b"pb" * 100, "variables/variables.index": b"ix",
         "variables/variables.data-00000-of-00002": os.urandom(300_000),
         "variables/variables.data-00001-of-00002": os.urandom(200_000)}


def test_fetch_renames_a_verified_dir(tmp_path):
    store = open_store(str(tmp_path / "store"), create=True)
    manifest = make_version(store, "fuel", 3, FILES)
    seen = []
    result = Downloader(store, "fuel", tmp_path / "m" / "fuel", on_bytes=seen.append).fetch(manifest)
    assert result.path == tmp_path / "m" / "fuel" / "3"
    assert (result.path / "variables/variables.data-00001-of-00002").read_bytes() == FILES[
        "variables/variables.data-00001-of-00002"]
    assert local_versions(tmp_path / "m" / "fuel") == [3] and sum(seen) == result.bytes > 0
    assert not [p for p in (tmp_path / "m" / "fuel").iterdir() if p.name.startswith(STAGING_PREFIX)]


def test_sha_mismatch_never_becomes_an_integer_dir(tmp_path):
    store = open_store(str(tmp_path / "store"), create=True)
    manifest = make_version(store, "fuel", 3, FILES)
    bad = Manifest(**{**manifest.__dict__, "files": [
        FileEntry(f.path, f.size, "0" * 64) if f.path == "variables/variables.index" else f for f in manifest.files]})
    model_dir = tmp_path / "m" / "fuel"
    with pytest.raises(StoreIntegrityError, match="variables.index: sha256 mismatch"):
        Downloader(store, "fuel", model_dir).fetch(bad)
    assert list(model_dir.iterdir()) == []


def test_disk_check_runs_before_any_download(tmp_path):
    store = open_store(str(tmp_path / "store"), create=True)
    manifest = make_version(store, "fuel", 3, FILES)
    with pytest.raises(DiskFullError, match="enlarge the volume"):
        Downloader(store, "fuel", tmp_path / "m", headroom_bytes=10 ** 18).fetch(manifest)
    assert list((tmp_path / "m").iterdir()) == []


def test_rate_limit_bounds_throughput(tmp_path):
    import time

    store = open_store(str(tmp_path / "store"), create=True)
    manifest = make_version(store, "fuel", 3, {"saved_model.pb": os.urandom(200_000)})
    started = time.monotonic()
    Downloader(store, "fuel", tmp_path / "m", rate_limit_bytes_per_second=400_000).fetch(manifest)
    assert time.monotonic() - started >= 0.4


def test_s3_fetch_with_ranged_parts(tmp_path, s3_server):
    uri = s3_server.make_bucket("sync")
    store = open_store(uri, s3=S3Options(endpoint_url=s3_server.endpoint, multipart_threshold_bytes=5 * 1024 * 1024,
                                         multipart_chunk_bytes=5 * 1024 * 1024))
    local = open_store(str(tmp_path / "src"), create=True)
    files = {"saved_model.pb": b"x" * 10, "variables/variables.data-00000-of-00001": os.urandom(12 * 1024 * 1024)}
    manifest = make_version(local, "fuel", 1, files)
    for rel, data in files.items():
        store.write_bytes(f"fuel/1/{rel}", data)
    result = Downloader(store, "fuel", tmp_path / "m").fetch(manifest)
    assert (result.path / "variables/variables.data-00000-of-00001").read_bytes() == files[
        "variables/variables.data-00000-of-00001"]


def test_clean_prune_and_remove(tmp_path):
    for name in ("1", "2", "3", "4", f"{STAGING_PREFIX}5-abc", "notes"):
        (tmp_path / name).mkdir()
        if name.isdigit():
            (tmp_path / name / "manifest.json").write_text("{}")
    assert [p.name for p in clean_staging(tmp_path)] == [f"{STAGING_PREFIX}5-abc"]
    assert prune(tmp_path, keep={1}, keep_count=2) == [2]
    assert local_versions(tmp_path) == [1, 3, 4]
    remove_version(tmp_path, 3)
    assert local_versions(tmp_path) == [1, 4] and sorted(p.name for p in tmp_path.iterdir()) == ["1", "4", "notes"]


def test_a_connection_reset_mid_file_is_retried_not_fatal(s3_server, tmp_path):
    """s3transfer rewinds a broken range with a negative progress count; the download goes on and
    counts those bytes as retried (before the fix: ValueError from the byte counter, download lost)."""
    from prometheus_client import CollectorRegistry

    from serving.sidecar.metrics import SidecarMetrics
    from tests.faultproxy import FaultProxy

    uri = s3_server.make_bucket("plant-models") + "/prod"
    big = os.urandom(12 * 1024 * 1024)
    writer = open_store(uri, S3Options(endpoint_url=s3_server.endpoint))
    local = open_store(str(tmp_path / "src"), create=True)
    manifest = make_version(local, "fuel", 4, {"saved_model.pb": b"pb", "variables/variables.data-00000-of-00001": big})
    for f in manifest.files:
        writer.write_bytes(f"fuel/4/{f.path}", (local.root / "fuel" / "4" / f.path).read_bytes())
    metrics = SidecarMetrics(CollectorRegistry())
    metrics.init_model("fuel")
    with FaultProxy("127.0.0.1", s3_server.port, reset_after_bytes=3 * 1024 * 1024) as proxy:
        store = open_store(uri, S3Options(endpoint_url=proxy.url, multipart_threshold_bytes=4 << 20,
                                          multipart_chunk_bytes=4 << 20, max_concurrency=1))
        result = Downloader(store, "fuel", tmp_path / "m" / "fuel",
                            on_bytes=lambda n: metrics.download_bytes.labels("fuel").inc(n),
                            on_retry=lambda n: metrics.download_retried_bytes.labels("fuel").inc(n)).fetch(manifest)
        assert proxy.resets == 1
    assert (result.path / "variables/variables.data-00000-of-00001").read_bytes() == big
    assert result.retried_bytes > 0 and result.bytes >= len(big) + result.retried_bytes
    registry = metrics.registry
    assert registry.get_sample_value("plantserve_sync_download_retried_bytes_total", {"model": "fuel"}) > 0
    assert registry.get_sample_value("plantserve_sync_download_bytes_total", {"model": "fuel"}) == result.bytes
