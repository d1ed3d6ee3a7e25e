"""serving.store.repository: versions, claims, publish and fetch, on local and S3 stores."""
from __future__ import annotations

import concurrent.futures
from pathlib import Path

import pytest

from serving.store import StoreIntegrityError, open_store
from serving.store.manifest import Manifest, PrimaryMetric, file_entries
from serving.store.repository import ModelRepository


def _version_dir(root: Path, payload: bytes = b"vars") -> Path:
    (root / "variables").mkdir(parents=True)
    (root / "saved_model.pb").write_bytes(b"graph")
    (root / "variables" / "variables.data-00000-of-00001").write_bytes(payload)
    return root


def _manifest(src: Path, version: int) -> Manifest:
    return Manifest(model="fuel", version=version, files=file_entries(src), signatures={}, metrics={},
                    primary_metric=PrimaryMetric("mae", "min", 2.0), data_fingerprint="sha256:x")


@pytest.fixture(params=["local", "s3"])
def repo(request, tmp_path: Path) -> ModelRepository:
    if request.param == "local":
        return ModelRepository(open_store(str(tmp_path / "store"), create=True), "fuel")
    server = request.getfixturevalue("s3_server")
    return ModelRepository(open_store(server.make_bucket("repo") + "/pfx"), "fuel")


def test_publish_list_fetch_byte_for_byte(repo: ModelRepository, tmp_path: Path) -> None:
    src = _version_dir(tmp_path / "src", payload=bytes(range(256)) * 100)
    version = repo.reserve_next()
    assert version == 1
    uri = repo.publish(src, _manifest(src, version))
    assert uri.endswith("/fuel/1")
    assert repo.versions() == [1] and repo.latest() == 1
    dest = tmp_path / "fetched"
    repo.fetch(1, dest)
    for path in src.rglob("*"):
        if path.is_file():
            assert (dest / path.relative_to(src)).read_bytes() == path.read_bytes()


def test_versions_without_a_valid_complete_manifest_are_invisible(repo: ModelRepository, tmp_path: Path) -> None:
    store = repo.store
    src = _version_dir(tmp_path / "src")
    repo.publish(src, _manifest(src, repo.reserve_next()))
    # 2: files but no manifest (an upload in progress or one that died)
    store.write_bytes("fuel/2/saved_model.pb", b"graph")
    # 3: a manifest that is not JSON
    store.write_bytes("fuel/3/saved_model.pb", b"graph")
    store.write_bytes("fuel/3/manifest.json", b"{nope")
    # 4: a valid manifest but a truncated file
    m4 = _manifest(src, 4)
    store.write_bytes("fuel/4/saved_model.pb", b"graph")
    store.write_bytes("fuel/4/variables/variables.data-00000-of-00001", b"va")
    store.write_bytes("fuel/4/manifest.json", m4.to_json().encode())
    # non-integer names are never versions
    store.write_bytes("fuel/tmp_5/manifest.json", _manifest(src, 5).to_json().encode())
    assert repo.versions() == [1]


def test_numbers_are_never_reused(repo: ModelRepository, tmp_path: Path) -> None:
    src = _version_dir(tmp_path / "src")
    for _ in range(2):
        repo.publish(src, _manifest(src, repo.reserve_next()))
    assert repo.versions() == [1, 2]
    for obj in list(repo.store.list("fuel/2/")):
        repo.store.delete(obj.key)
    assert repo.versions() == [1]
    assert repo.reserve_next() == 3


def test_concurrent_claims_never_collide(repo: ModelRepository) -> None:
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        claimed = list(pool.map(lambda _: repo.reserve_next(), range(8)))
    assert sorted(claimed) == list(range(1, 9))


def test_fetch_refuses_corrupted_bytes(repo: ModelRepository, tmp_path: Path) -> None:
    src = _version_dir(tmp_path / "src")
    repo.publish(src, _manifest(src, repo.reserve_next()))
    repo.store.write_bytes("fuel/1/variables/variables.data-00000-of-00001", b"VARS")  # same size
    with pytest.raises(StoreIntegrityError, match="sha256 mismatch"):
        repo.fetch(1, tmp_path / "dest")


def test_a_failed_publish_leaves_nothing_but_its_claim(tmp_path: Path) -> None:
    from serving.store import LocalStore

    class FailingStore(LocalStore):
        """Fails the third upload, as a dropped connection or Ctrl-C would."""

        uploads = 0

        def upload_file(self, key, path, progress=None):
            FailingStore.uploads += 1
            if FailingStore.uploads == 3:
                raise KeyboardInterrupt
            super().upload_file(key, path, progress)

    src = _version_dir(tmp_path / "src")
    (src / "assets.extra").mkdir()
    (src / "assets.extra" / "warmup").write_bytes(b"w" * 10)
    (tmp_path / "store").mkdir()
    repo = ModelRepository(FailingStore(tmp_path / "store"), "fuel")
    version = repo.reserve_next()
    with pytest.raises(KeyboardInterrupt):
        repo.publish(src, _manifest(src, version))
    assert FailingStore.uploads == 3
    assert not (tmp_path / "store" / "fuel" / str(version)).exists()
    assert repo.versions() == [] and repo.reserve_next() == version + 1


def test_a_lasting_problem_is_logged_once(tmp_path, caplog):
    """A truncated version stays ignored on every poll, but is reported once (and again when it heals)."""
    import logging

    from serving.store import open_store
    from serving.store.manifest import Manifest, PrimaryMetric, file_entries
    from serving.store.repository import ModelRepository

    src = tmp_path / "v"
    src.mkdir()
    (src / "saved_model.pb").write_bytes(b"x" * 10)
    store = open_store(str(tmp_path / "store"), create=True)
    manifest = Manifest(model="fuel", version=1, files=file_entries(src), signatures={}, metrics={},
                        primary_metric=PrimaryMetric("mae", "min", 1.0), data_fingerprint="t")
    store.write_bytes("fuel/1/saved_model.pb", b"x" * 4)  # truncated
    store.write_bytes("fuel/1/manifest.json", manifest.to_json().encode())
    repo = ModelRepository(store, "fuel")
    with caplog.at_level(logging.INFO, logger="serving.store.repository"):
        for _ in range(3):
            assert repo.versions() == []
        store.write_bytes("fuel/1/saved_model.pb", b"x" * 10)
        assert repo.versions() == [1]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "truncated" in warnings[0].getMessage()
    assert any("complete now" in r.getMessage() for r in caplog.records)
