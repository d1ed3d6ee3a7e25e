"""Publishing good and deliberately broken versions for the integration tests."""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from serving.store import Store
from serving.store.manifest import FileEntry, Golden, Manifest
from tests.sidecar.conftest import SPECS
from tests.sidecar.models import manifest_for, publish


def good(store: Store, version: int, saved: dict[str, Path], name: str, model: str = "fuel") -> Manifest:
    return publish(store, model, version, saved[name], SPECS[name])


def raw(store: Store, root: Path, manifest: Manifest, truncate: str | None = None) -> None:
    """Upload files as they are (no local verification), the manifest last."""
    for entry in manifest.files:
        data = (root / entry.path).read_bytes()
        if entry.path == truncate:
            data = data[: len(data) // 2]
        store.write_bytes(f"{manifest.model}/{manifest.version}/{entry.path}", data)
    store.write_bytes(f"{manifest.model}/{manifest.version}/manifest.json", manifest.to_json().encode())


def wrong_sha(store: Store, version: int, saved: dict[str, Path], name: str = "v_scale3") -> None:
    m = manifest_for("fuel", version, saved[name], SPECS[name])
    files = [FileEntry(f.path, f.size, "f" * 64) if f.path == "saved_model.pb" else f for f in m.files]
    raw(store, saved[name], dataclasses.replace(m, files=files))


def truncated(store: Store, version: int, saved: dict[str, Path], name: str = "v_scale3") -> None:
    m = manifest_for("fuel", version, saved[name], SPECS[name])
    raw(store, saved[name], m, truncate="saved_model.pb")


def no_manifest(store: Store, version: int, saved: dict[str, Path], name: str = "v_scale3") -> None:
    for f in manifest_for("fuel", version, saved[name], SPECS[name]).files:
        store.upload_file(f"fuel/{version}/{f.path}", saved[name] / f.path)


def unloadable(store: Store, version: int, saved: dict[str, Path], tmp: Path) -> None:
    broken = tmp / f"unloadable-{version}"
    shutil.copytree(saved["v_scale3"], broken)
    (broken / "saved_model.pb").write_bytes(b"this is not a SavedModel proto" * 10)
    publish(store, "fuel", version, broken, SPECS["v_scale3"])


def golden_mismatch(store: Store, version: int, saved: dict[str, Path]) -> None:
    m = manifest_for("fuel", version, saved["v_scale3"], SPECS["v_scale3"])
    g = m.golden
    outputs = {k: [x * 10 + 1 for x in v] for k, v in g.outputs.items()}
    raw(store, saved["v_scale3"], dataclasses.replace(m, golden=Golden(g.signature_name, g.inputs, outputs)))


def incompatible(store: Store, version: int, saved: dict[str, Path]) -> None:
    m = manifest_for("fuel", version, saved["v_scale3"], SPECS["v_scale3"])
    sig = {"serving_default": {**m.signatures["serving_default"], "inputs": {
        **m.signatures["serving_default"]["inputs"], "weight": {"dtype": "DT_INT64", "shape": [-1]}}}}
    raw(store, saved["v_scale3"], dataclasses.replace(m, signatures=sig))


# -- signed versions (issue 13) ------------------------------------------------------------------------
def signed(store: Store, version: int, saved: dict[str, Path], name: str, tmp: Path, config,
           now=None, model: str = "fuel") -> Manifest:
    """Published as ``plantserve train --signing-key`` does: signed on a staged copy, model.sig before the
    manifest. ``now`` signs at another time (a certificate that has expired since)."""
    from serving.signing import load_signer, sign_staged
    from serving.store.repository import ModelRepository

    staged = tmp / f"signed-{model}-{version}"
    shutil.copytree(saved[name], staged)
    manifest = manifest_for(model, version, staged, SPECS[name])
    signature = sign_staged(staged, manifest, load_signer(config, now=now))
    ModelRepository(store, model).publish(staged, manifest, signature=signature)
    return manifest


def file_changed_after_signing(store: Store, version: int, saved: dict[str, Path], name: str, tmp: Path,
                               config) -> None:
    """Signed, then a variables shard changed in the bucket and the manifest updated to match it, as
    someone with write access would: the sizes and sha256 agree, only the signature can tell."""
    import hashlib

    m = signed(store, version, saved, name, tmp, config)
    shard = next(f for f in m.files if f.path.startswith("variables/variables.data"))
    data = bytearray(store.read_bytes(f"fuel/{version}/{shard.path}"))
    data[len(data) // 2] ^= 0xFF
    store.write_bytes(f"fuel/{version}/{shard.path}", bytes(data))
    files = [FileEntry(f.path, f.size, hashlib.sha256(data).hexdigest()) if f is shard else f for f in m.files]
    store.write_bytes(f"fuel/{version}/manifest.json", dataclasses.replace(m, files=files).to_json().encode())


def manifest_changed_after_signing(store: Store, version: int, saved: dict[str, Path], name: str, tmp: Path,
                                   config) -> None:
    """Signed, then manifest.json rewritten (still valid, every file still matching it)."""
    m = signed(store, version, saved, name, tmp, config)
    store.write_bytes(f"fuel/{version}/manifest.json",
                      dataclasses.replace(m, metrics={"mae": 0.01}, allow_breaking_change=True).to_json().encode())
