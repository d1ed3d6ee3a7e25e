"""Store errors: one class per kind, each mapped to one actionable message.

Kinds are also the ``kind`` label of ``plantserve_store_errors_total``.
"""
from __future__ import annotations

__all__ = [
    "StoreError",
    "StoreCredentialsError",
    "StoreNotFoundError",
    "StoreUnreachableError",
    "StoreConflictError",
    "StoreIntegrityError",
]


class StoreError(RuntimeError):
    """Base class. ``kind`` is a short stable label for metrics and logs."""

    kind = "other"


class StoreCredentialsError(StoreError, PermissionError):
    kind = "credentials"


class StoreNotFoundError(StoreError, FileNotFoundError):
    """A missing bucket, prefix or object."""

    kind = "not_found"


class StoreUnreachableError(StoreError, ConnectionError):
    kind = "unreachable"


class StoreConflictError(StoreError, FileExistsError):
    """A conditional create lost the race: the key already exists."""

    kind = "conflict"


class StoreIntegrityError(StoreError, ValueError):
    """Bytes on disk do not match the manifest (size or sha256)."""

    kind = "integrity"
