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


@pytest.mark.parametrize("truncate", [True, False], ids=["cut-mid-body", "reset"])
def test_a_connection_broken_mid_file_is_retried_not_fatal(s3_server, tmp_path, truncate):
    """s3transfer rewinds a broken range with a negative progress count; the download goes on and
    counts those bytes as retried (before the fix: ValueError from the byte counter, download lost).
    A body cut mid-way always rewinds what the client read; after a reset (RST) the client's kernel may
    have dropped the unread bytes, so the rewind can be zero there and only the download is checked."""
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
    with FaultProxy("127.0.0.1", s3_server.port, reset_after_bytes=3 * 1024 * 1024, truncate=truncate) as proxy:
        store = open_store(uri, S3Options(endpoint_url=proxy.url, multipart_threshold_bytes=4 << 20,
                                          multipart_chunk_bytes=4 << 20, max_concurrency=1))
        result = Downloader(store, "fuel", tmp_path / "m" / "fuel",
                            on_bytes=lambda n: metrics.download_bytes.labels("fuel").inc(n),
                            on_retry=lambda n: metrics.download_retried_bytes.labels("fuel").inc(n)).fetch(manifest)
        assert proxy.resets == 1
    assert (result.path / "variables/variables.data-00000-of-00001").read_bytes() == big
    assert result.bytes >= len(big) + result.retried_bytes
    registry = metrics.registry
    assert registry.get_sample_value("plantserve_sync_download_retried_bytes_total", {"model": "fuel"}) == \
        result.retried_bytes
    assert registry.get_sample_value("plantserve_sync_download_bytes_total", {"model": "fuel"}) == result.bytes
    if truncate:
        assert result.retried_bytes > 0


# -- signed versions ----------------------------------------------------------------------------------
def _signed_store(tmp_path, key=None, version=3):
    """A local store holding fuel ``version`` published as training does (signed with ``key`` unless None)."""
    from serving.signing import SigningConfig, load_signer, sign_staged
    from serving.store.repository import ModelRepository
    from tests.signing.versions import make_version as staged_version

    store = open_store(str(tmp_path / "store"), create=True)
    root, manifest = staged_version(tmp_path / f"staged-{version}", version=version)
    signature = sign_staged(root, manifest, load_signer(SigningConfig(key=key))) if key else None
    ModelRepository(store, "fuel").publish(root, manifest, signature=signature)
    return store, manifest


def _keys(tmp_path):
    from tests.signing.versions import make_keys

    (tmp_path / "keys").mkdir(exist_ok=True)
    return make_keys(tmp_path / "keys")


def _fetch(store, tmp_path, trust, version=3):
    data = store.read_bytes(f"fuel/{version}/manifest.json")
    return Downloader(store, "fuel", tmp_path / "m" / "fuel", trust=trust).fetch(Manifest.from_json(data), data)


def test_a_signed_version_is_verified_with_the_download_digests(tmp_path, monkeypatch):
    from serving.signing import load_trust
    from serving.signing import verify as verify_module

    keys = _keys(tmp_path)
    store, manifest = _signed_store(tmp_path, keys.key)
    hashed_again = []
    monkeypatch.setattr(verify_module, "sha256_file", lambda p: hashed_again.append(p))
    result = _fetch(store, tmp_path, load_trust([keys.pub]))
    assert result.signer.method == "key" and result.signer.trusted_key == keys.pub
    assert hashed_again == []  # every digest came from the download's own check
    assert (result.path / "model.sig").read_bytes() == store.read_bytes("fuel/3/model.sig")
    assert (result.path / "manifest.json").read_bytes() == store.read_bytes("fuel/3/manifest.json")


def test_the_manifest_bytes_as_stored_are_what_is_verified(tmp_path):
    """A version whose manifest.json is not byte-for-byte ``to_json()`` (signed by another tool) still verifies."""
    from serving.signing import SigningConfig, load_signer, load_trust

    keys = _keys(tmp_path)
    store, manifest = _signed_store(tmp_path, None)
    version_dir = store.root / "fuel" / "3"
    (version_dir / "manifest.json").write_text(manifest.to_json().replace("\n", "\r\n") + "\n\n")
    signer = load_signer(SigningConfig(key=keys.key))
    (version_dir / "model.sig").write_bytes(signer.sign_version(version_dir, "v").bundle)
    result = _fetch(store, tmp_path, load_trust([keys.pub]))
    assert result.signer is not None and b"\r\n" in (result.path / "manifest.json").read_bytes()


def _refused(store, tmp_path, trust) -> str:
    from serving.signing import SignatureError

    with pytest.raises(SignatureError) as info:
        _fetch(store, tmp_path, trust)
    model_dir = tmp_path / "m" / "fuel"
    assert local_versions(model_dir) == [] and list(model_dir.iterdir()) == []  # nothing renamed, staging gone
    assert ".staging-" not in str(info.value) and "fuel/3" in str(info.value)
    return info.value.reason


def test_refusals_leave_nothing_on_disk(tmp_path):
    import json

    from serving.signing import load_trust

    keys = _keys(tmp_path)
    trust = load_trust([keys.pub])
    store, _ = _signed_store(tmp_path / "unsigned", None)
    assert _refused(store, tmp_path / "unsigned", trust) == "unsigned"
    store, _ = _signed_store(tmp_path / "other", keys.other_key)
    assert _refused(store, tmp_path / "other", trust) == "unknown_key"
    # manifest.json changed after signing (valid, consistent with the files): only the signature can tell
    store, _ = _signed_store(tmp_path / "manifest", keys.key)
    data = json.loads(store.read_bytes("fuel/3/manifest.json"))
    data["allow_breaking_change"] = True
    store.write_bytes("fuel/3/manifest.json", json.dumps(data).encode())
    assert _refused(store, tmp_path / "manifest", trust) == "tampered"
    # a file changed after signing, and the manifest updated to match it
    store, manifest = _signed_store(tmp_path / "file", keys.key)
    store.write_bytes("fuel/3/saved_model.pb", b"a graph that was never signed")
    changed = Manifest(**{**manifest.__dict__, "files": file_entries(store.root / "fuel" / "3")})
    store.write_bytes("fuel/3/manifest.json", changed.to_json().encode())
    assert _refused(store, tmp_path / "file", trust) == "tampered"


def test_a_version_already_on_disk_is_verified_again(tmp_path):
    from serving.signing import SignatureError, load_trust

    keys = _keys(tmp_path)
    store, _ = _signed_store(tmp_path, keys.key)
    trust = load_trust([keys.pub])
    first = _fetch(store, tmp_path, trust)
    assert _fetch(store, tmp_path, trust).signer == first.signer
    (first.path / "variables" / "variables.index").write_bytes(b"changed on the volume")
    with pytest.raises(SignatureError, match="changed since signing: variables/variables.index"):
        _fetch(store, tmp_path, trust)
    assert Downloader(store, "fuel", tmp_path / "m" / "fuel").verify_local(3) is None  # no anchor: no check
