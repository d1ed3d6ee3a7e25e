"""serving.demo.publish: half-written versions left by an interrupted training are found and removed."""
from __future__ import annotations

import io
from pathlib import Path

from serving.demo.publish import partial_versions, remove_partial_versions
from serving.store import open_store


def _write(store, key: str) -> None:
    store.write_bytes(key, b"x")


def test_only_new_manifestless_versions_are_removed(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "store"), create=True)
    _write(store, "fuel/1/saved_model.pb"), _write(store, "fuel/1/manifest.json")
    _write(store, "fuel/2/saved_model.pb")                      # someone else's, before the run
    _write(store, "fuel/.claims/3")
    before = partial_versions(store, "fuel")
    assert before == {2}
    _write(store, "fuel/3/variables/variables.index")          # the interrupted run's
    out = io.StringIO()
    assert remove_partial_versions(store, "fuel", before, out) == [3]
    assert not (tmp_path / "store/fuel/3").exists()
    assert (tmp_path / "store/fuel/2").exists() and (tmp_path / "store/fuel/1/manifest.json").exists()
    assert (tmp_path / "store/fuel/.claims/3").exists()       # the number is never reused
    assert "fuel/3" in out.getvalue()
