"""Object storage for published model versions: local directories and S3-compatible stores.

Example::

    >>> from serving.store import open_store
    >>> store = open_store("/tmp/plantserve-doc-store")
    >>> store.write_bytes("fuel/.probe", b"x"); store.read_bytes("fuel/.probe")
    b'x'
"""
from __future__ import annotations

from pathlib import Path

from .base import ObjectInfo, ProgressFn, Store
from .errors import (
    StoreConflictError,
    StoreCredentialsError,
    StoreError,
    StoreIntegrityError,
    StoreNotFoundError,
    StoreUnreachableError,
)
from .local import LocalStore
from .s3 import S3Options

__all__ = [
    "open_store",
    "Store",
    "ObjectInfo",
    "ProgressFn",
    "LocalStore",
    "S3Options",
    "StoreError",
    "StoreConflictError",
    "StoreCredentialsError",
    "StoreIntegrityError",
    "StoreNotFoundError",
    "StoreUnreachableError",
]


def open_store(uri: str, s3: S3Options | None = None, create: bool = False) -> Store:
    """Open ``uri``: a path, ``file://PATH``, ``s3://BUCKET[/PREFIX]`` or ``gs://BUCKET[/PREFIX]``
    (Google Cloud Storage through its S3-compatible XML API, with HMAC keys).

    ``create`` makes a missing local directory (training's first publish); readers leave it False.
    """
    if uri.startswith(("s3://", "gs://")):
        from .s3 import S3Store

        return S3Store(uri, s3)
    if "://" in uri and not uri.startswith("file://"):
        raise ValueError(f"unsupported store URI {uri!r}: use a directory, file://PATH, s3://BUCKET/PREFIX "
                         "or gs://BUCKET/PREFIX")
    if s3 is not None and s3.sse:
        raise ValueError(f"--s3-sse applies to s3:// stores, not {uri!r}: encrypt the local disk instead")
    root = Path(uri[len("file://"):] if uri.startswith("file://") else uri)
    if root.exists() and not root.is_dir():
        raise StoreNotFoundError(f"local store {root} is not a directory: point --store at a directory")
    if create:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the local store {root}: {exc.strerror}") from exc
    return LocalStore(root)
