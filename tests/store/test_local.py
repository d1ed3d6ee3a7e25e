"""serving.store.local: the embedded default store."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from serving.store import LocalStore, StoreConflictError, StoreNotFoundError, open_store


def test_write_read_list_delete(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s"), create=True)
    store.write_bytes("fuel/1/a.bin", b"abc")
    store.write_bytes("fuel/1/sub/b.bin", b"de")
    store.write_bytes("defect/1/c.bin", b"f")
    assert [(o.key, o.size) for o in store.list("fuel/")] == [("fuel/1/a.bin", 3), ("fuel/1/sub/b.bin", 2)]
    assert store.read_bytes("fuel/1/sub/b.bin") == b"de"
    store.delete("fuel/1/a.bin")
    assert [o.key for o in store.list("fuel/")] == ["fuel/1/sub/b.bin"]
    store.delete("fuel/1/a.bin")  # missing is not an error


def test_file_uri_and_missing_objects(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    assert isinstance(store, LocalStore) and store.root == tmp_path.resolve()
    with pytest.raises(StoreNotFoundError, match="does not exist"):
        store.read_bytes("nope")
    with pytest.raises(StoreNotFoundError, match="does not exist"):
        list(open_store(str(tmp_path / "absent")).list())


def test_keys_cannot_escape_root(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="escapes"):
        open_store(str(tmp_path)).write_bytes("../outside", b"x")


def test_create_exclusive_has_one_winner(tmp_path: Path) -> None:
    store = open_store(str(tmp_path))
    wins, conflicts = [], []
    barrier = threading.Barrier(8)

    def claim(i: int) -> None:
        barrier.wait()
        try:
            store.create_exclusive("m/.claims/1", str(i).encode())
            wins.append(i)
        except StoreConflictError:
            conflicts.append(i)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(wins) == 1 and len(conflicts) == 7
    assert store.read_bytes("m/.claims/1") == str(wins[0]).encode()


def test_upload_download_roundtrip_with_progress(tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(bytes(range(256)) * 40_000)
    store = open_store(str(tmp_path / "store"), create=True)
    seen: list[int] = []
    store.upload_file("m/1/src.bin", src, seen.append)
    assert sum(seen) == src.stat().st_size
    dest = tmp_path / "out" / "x.bin"
    store.download_file("m/1/src.bin", dest)
    assert dest.read_bytes() == src.read_bytes()
    # no temporary files are left behind and none are listed
    assert [o.key for o in store.list("m/")] == ["m/1/src.bin"]


def test_unsupported_uris_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported store URI"):
        open_store("ftp://host/x")
