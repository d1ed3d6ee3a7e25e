"""The local directory store: the embedded default (a path or ``file://`` URI)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from .base import ObjectInfo, ProgressFn, Store
from .errors import StoreConflictError, StoreNotFoundError

__all__ = ["LocalStore"]

_CHUNK_BYTES = 4 * 1024 * 1024  # copy granularity, also the progress-callback granularity


class LocalStore(Store):
    """Objects are plain files under ``root``; writes go to a temp name, then ``rename()``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.uri = f"file://{self.root}"

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if path != self.root and self.root not in path.parents:
            raise ValueError(f"key {key!r} escapes the store root {self.root}")
        return path

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        if not self.root.is_dir():
            raise StoreNotFoundError(
                f"local store {self.root} does not exist: create it or point --store at an existing directory"
            )
        base = self._path(prefix.rsplit("/", 1)[0]) if "/" in prefix else self.root
        if not base.is_dir():
            return
        found = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                full = Path(dirpath) / name
                key = full.relative_to(self.root).as_posix()
                if key.startswith(prefix) and ".tmp-" not in name:
                    found.append(ObjectInfo(key, full.stat().st_size))
        yield from sorted(found, key=lambda o: o.key)

    def read_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise StoreNotFoundError(f"{self.uri}/{key} does not exist") from exc

    def _atomic_write(self, key: str, write) -> None:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def write_bytes(self, key: str, data: bytes) -> None:
        self._atomic_write(key, lambda fh: fh.write(data))

    def create_exclusive(self, key: str, data: bytes) -> None:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError as exc:
            raise StoreConflictError(f"{self.uri}/{key} already exists") from exc
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)

    @staticmethod
    def _copy(src, dst, progress: ProgressFn | None) -> None:
        while chunk := src.read(_CHUNK_BYTES):
            dst.write(chunk)
            if progress:
                progress(len(chunk))

    def upload_file(self, key: str, path: Path, progress: ProgressFn | None = None) -> None:
        with open(path, "rb") as src:
            self._atomic_write(key, lambda fh: self._copy(src, fh, progress))

    def download_file(self, key: str, path: Path, progress: ProgressFn | None = None) -> None:
        src_path = self._path(key)
        if not src_path.is_file():
            raise StoreNotFoundError(f"{self.uri}/{key} does not exist")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(src_path, "rb") as src, open(path, "wb") as dst:
            self._copy(src, dst, progress)

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
