"""The one small storage interface shared by training (publish) and the sidecar (sync).

Keys are ``/``-separated paths relative to the store root, e.g. ``fuel/3/saved_model.pb``.
Every backend implements the same six operations; nothing outside ``serving.store``
knows which backend it talks to.
"""
from __future__ import annotations

import abc
import dataclasses
from pathlib import Path
from typing import Callable, Iterator

__all__ = ["ObjectInfo", "Store", "ProgressFn"]

#: Called with the number of bytes moved since the previous call.
ProgressFn = Callable[[int], None]


@dataclasses.dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class Store(abc.ABC):
    """A flat key/value object store rooted at ``uri``."""

    uri: str

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix``, in key order."""

    @abc.abstractmethod
    def read_bytes(self, key: str) -> bytes:
        """The whole object. Raises StoreNotFoundError when it is missing."""

    @abc.abstractmethod
    def write_bytes(self, key: str, data: bytes) -> None:
        """Create or replace the object atomically (readers see old or new, never half)."""

    @abc.abstractmethod
    def create_exclusive(self, key: str, data: bytes) -> None:
        """Create the object only if absent; raises StoreConflictError otherwise.

        Local: ``O_CREAT|O_EXCL``. S3: a conditional ``PutObject`` with ``If-None-Match: *``.
        """

    @abc.abstractmethod
    def upload_file(self, key: str, path: Path, progress: ProgressFn | None = None) -> None:
        """Upload a local file (multipart above the configured threshold)."""

    @abc.abstractmethod
    def download_file(self, key: str, path: Path, progress: ProgressFn | None = None) -> None:
        """Download to ``path`` (ranged parallel GETs for large objects on S3)."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Delete one object; a missing object is not an error."""

    def exists(self, key: str) -> bool:
        return any(o.key == key for o in self.list(key))

    def join(self, *parts: str | int) -> str:
        return "/".join(str(p).strip("/") for p in parts if str(p).strip("/"))
