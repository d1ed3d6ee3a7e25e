"""The fleet rollout pointer: ``<model>/rollout.json`` in the store.

Written by ``plantserve rollout``, read by every sidecar on every poll, so that every pod of
every replica follows one decision without extra infrastructure.

- ``pinned``: serve exactly this version (it still goes through download, verify, load and golden).
- ``blocked``: never serve these versions; a pod whose stable version is blocked moves back.
- ``allow_breaking_change``: versions allowed to change the serving signature.
- ``rollback``: the last fleet rollback, for people reading ``rollout status``.
- ``generation``: incremented on every write; a sidecar clears its local "bad" marks when it changes.

Signed pointers: ``write_pointer(..., signer=...)`` writes ``rollout.json.sig`` (a detached
OpenSSF model-signing bundle whose statement is named ``<model>/rollout.json``) just before
``rollout.json``; an unsigned write removes a stale one. ``read_pointer(..., trust=...)`` with a
configured trust anchor refuses an unsigned or wrongly signed pointer with
``PointerSignatureError`` (a ``PointerError``: the sidecar keeps its last good pointer). A reader
that lands between the two writes sees a mismatch once and the new pair on its next poll.

Example::

    >>> p = RolloutPointer().with_blocked(3).with_pinned(2)
    >>> RolloutPointer.from_json(p.to_json()).eligible(3), p.pinned
    (False, 2)
"""
from __future__ import annotations

import dataclasses
import datetime
import getpass
import json
import socket
from typing import TYPE_CHECKING, Any

from serving.store import Store, StoreNotFoundError

if TYPE_CHECKING:
    from serving.signing import Signer, Trust

__all__ = ["RolloutPointer", "PointerError", "PointerSignatureError", "POINTER_NAME", "POINTER_SIGNATURE_NAME",
           "read_pointer", "write_pointer"]

POINTER_NAME = "rollout.json"
POINTER_SIGNATURE_NAME = "rollout.json.sig"


class PointerError(ValueError):
    """rollout.json exists but cannot be understood; the sidecar keeps its last good pointer."""


class PointerSignatureError(PointerError):
    """rollout.json is unsigned or wrongly signed while a trust anchor is configured.

    ``reason`` is the ``SignatureError`` reason (unsigned, tampered, unknown_key, ...).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class RolloutPointer:
    pinned: int | None = None
    blocked: tuple[int, ...] = ()
    allow_breaking_change: tuple[int, ...] = ()
    rollback: dict[str, Any] | None = None
    generation: int = 0
    updated_at: str = ""
    updated_by: str = ""

    def eligible(self, version: int) -> bool:
        return version not in self.blocked

    def allows_breaking(self, version: int) -> bool:
        return version in self.allow_breaking_change or version == self.pinned

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["blocked"] = sorted(self.blocked)
        data["allow_breaking_change"] = sorted(self.allow_breaking_change)
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> "RolloutPointer":
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            pinned = data.get("pinned")
            return cls(
                pinned=None if pinned is None else _version(pinned),
                blocked=tuple(sorted({_version(v) for v in data.get("blocked", [])})),
                allow_breaking_change=tuple(sorted({_version(v) for v in data.get("allow_breaking_change", [])})),
                rollback=data.get("rollback"),
                generation=int(data.get("generation", 0)),
                updated_at=str(data.get("updated_at", "")),
                updated_by=str(data.get("updated_by", "")),
            )
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError, ValueError) as exc:
            raise PointerError(f"{POINTER_NAME} is not a valid rollout pointer: {exc}") from exc

    # -- edits (each returns a new pointer; write_pointer stamps generation and author) --------
    def with_pinned(self, version: int | None, allow_breaking: bool = False) -> "RolloutPointer":
        allowed = set(self.allow_breaking_change) | ({version} if allow_breaking and version else set())
        blocked = tuple(v for v in self.blocked if v != version)
        return dataclasses.replace(self, pinned=version, blocked=blocked, allow_breaking_change=tuple(sorted(allowed)))

    def with_blocked(self, version: int) -> "RolloutPointer":
        pinned = None if self.pinned == version else self.pinned
        return dataclasses.replace(self, blocked=tuple(sorted(set(self.blocked) | {version})), pinned=pinned)

    def with_unblocked(self, version: int) -> "RolloutPointer":
        return dataclasses.replace(self, blocked=tuple(v for v in self.blocked if v != version))


def _version(value: Any) -> int:
    version = int(value)
    if version < 1 or isinstance(value, bool):
        raise ValueError(f"bad version {value!r}")
    return version


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return "unknown"


def read_pointer(store: Store, model: str, trust: Trust | None = None) -> RolloutPointer:
    """The model's pointer; an absent one is the empty pointer (follow the newest good version).

    With a configured ``trust``, the pointer must carry a valid ``rollout.json.sig`` for this model.
    """
    try:
        data = store.read_bytes(f"{model}/{POINTER_NAME}")
    except StoreNotFoundError:
        return RolloutPointer()
    if trust is not None and trust.configured:
        from serving.signing import SignatureError, verify_bytes

        try:
            signature = store.read_bytes(f"{model}/{POINTER_SIGNATURE_NAME}")
        except StoreNotFoundError:
            signature = None
        try:
            verify_bytes(data, signature, trust, name=f"{model}/{POINTER_NAME}")
        except SignatureError as exc:
            raise PointerSignatureError(exc.reason, f"{model}/{POINTER_NAME} refused ({exc.reason}): {exc}") from exc
    return RolloutPointer.from_json(data)


def write_pointer(store: Store, model: str, pointer: RolloutPointer, signer: Signer | None = None) -> RolloutPointer:
    """Write atomically, bumping the generation. Last writer wins (operators, not machines, write it).

    With ``signer``, ``rollout.json.sig`` is written first; without, a stale one is removed.
    """
    stamped = dataclasses.replace(
        pointer,
        generation=pointer.generation + 1,
        updated_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        updated_by=f"{_user()}@{socket.gethostname()}",
    )
    data = stamped.to_json().encode()
    if signer is not None:
        store.write_bytes(f"{model}/{POINTER_SIGNATURE_NAME}", signer.sign_bytes(f"{model}/{POINTER_NAME}", data))
    else:
        store.delete(f"{model}/{POINTER_SIGNATURE_NAME}")
    store.write_bytes(f"{model}/{POINTER_NAME}", data)
    return stamped
