"""serving.signing.publish with ModelRepository.publish: model.sig goes up after every file and before
manifest.json, on local and S3 stores; a half-published signed version is invisible and removed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from serving.signing import SigningConfig, SigningConfigError, load_signer, load_trust, sign_staged, verify_version
from serving.store import LocalStore, open_store
from serving.store.repository import ModelRepository
from tests.signing.versions import Keys, make_version


class RecordingStore(LocalStore):
    """A local store that records the order of the keys written (and can fail one of them)."""

    def __init__(self, root: Path, fail_on: str | None = None) -> None:
        super().__init__(root)
        self.written: list[str] = []
        self.fail_on = fail_on

    def _record(self, key: str) -> None:
        if self.fail_on and key.endswith(self.fail_on):
            raise ConnectionError(f"dropped while writing {key}")
        self.written.append(key)

    def write_bytes(self, key: str, data: bytes) -> None:
        self._record(key)
        super().write_bytes(key, data)

    def upload_file(self, key, path, progress=None) -> None:
        self._record(key)
        super().upload_file(key, path, progress)


@pytest.fixture(params=["local", "s3"])
def repo(request, tmp_path: Path) -> ModelRepository:
    if request.param == "local":
        return ModelRepository(open_store(str(tmp_path / "store"), create=True), "fuel")
    server = request.getfixturevalue("s3_server")
    return ModelRepository(open_store(server.make_bucket("signed") + "/plant"), "fuel")


def test_a_signed_publish_round_trips_and_verifies(repo: ModelRepository, tmp_path: Path, keys: Keys) -> None:
    version = repo.reserve_next()
    root, manifest = make_version(tmp_path / "staged", version=version)
    signature = sign_staged(root, manifest, load_signer(SigningConfig(key=keys.key)))
    repo.publish(root, manifest, signature=signature)
    assert repo.versions() == [version] and repo.signature(version) == signature
    fetched = repo.fetch_exact(version, tmp_path / "dest")
    assert fetched.signed and fetched.unlisted == []
    assert (tmp_path / "dest" / "manifest.json").read_bytes() == (root / "manifest.json").read_bytes()
    info = verify_version(tmp_path / "dest", load_trust([keys.pub]), file_digests=fetched.digests)
    assert set(info.files) == set(fetched.digests)


def test_signature_goes_up_after_the_files_and_before_the_manifest(tmp_path: Path, keys: Keys) -> None:
    (tmp_path / "store").mkdir()
    store = RecordingStore(tmp_path / "store")
    repo = ModelRepository(store, "fuel")
    root, manifest = make_version(tmp_path / "staged", version=repo.reserve_next())
    repo.publish(root, manifest, signature=sign_staged(root, manifest, load_signer(SigningConfig(key=keys.key))))
    assert store.written[-2:] == ["fuel/1/model.sig", "fuel/1/manifest.json"]
    assert len(store.written) == len(manifest.files) + 2


def test_a_failed_signature_upload_removes_the_whole_version(tmp_path: Path, keys: Keys) -> None:
    (tmp_path / "store").mkdir()
    repo = ModelRepository(RecordingStore(tmp_path / "store", fail_on="model.sig"), "fuel")
    root, manifest = make_version(tmp_path / "staged", version=repo.reserve_next())
    signature = sign_staged(root, manifest, load_signer(SigningConfig(key=keys.key)))
    with pytest.raises(ConnectionError):
        repo.publish(root, manifest, signature=signature)
    assert not (tmp_path / "store" / "fuel" / "1").exists() and repo.versions() == []
    assert repo.reserve_next() == 2  # the number stays claimed


def test_a_failed_file_upload_never_writes_the_signature(tmp_path: Path, keys: Keys) -> None:
    (tmp_path / "store").mkdir()
    store = RecordingStore(tmp_path / "store", fail_on="fingerprint.pb")
    repo = ModelRepository(store, "fuel")
    root, manifest = make_version(tmp_path / "staged", version=repo.reserve_next())
    with pytest.raises(ConnectionError):
        repo.publish(root, manifest, signature=sign_staged(root, manifest, load_signer(SigningConfig(key=keys.key))))
    assert "fuel/1/model.sig" not in store.written and not (tmp_path / "store" / "fuel" / "1").exists()


def test_a_signature_over_another_manifest_is_refused_before_upload(tmp_path: Path, keys: Keys) -> None:
    (tmp_path / "store").mkdir()
    store = RecordingStore(tmp_path / "store")
    repo = ModelRepository(store, "fuel")
    root, manifest = make_version(tmp_path / "staged", version=repo.reserve_next())
    signature = sign_staged(root, manifest, load_signer(SigningConfig(key=keys.key)))
    changed = json.loads((root / "manifest.json").read_text())
    changed["metrics"] = {"mae": 0.1}
    (root / "manifest.json").write_text(json.dumps(changed))
    with pytest.raises(ValueError, match="not the manifest being published"):
        repo.publish(root, manifest, signature=signature)
    assert store.written == []


def test_sign_staged_refuses_a_copy_that_changed_after_its_manifest(tmp_path: Path, keys: Keys) -> None:
    root, manifest = make_version(tmp_path / "staged")
    (root / "variables" / "late.bin").write_bytes(b"late")
    with pytest.raises(SigningConfigError, match="late.bin"):
        sign_staged(root, manifest, load_signer(SigningConfig(key=keys.key)))
