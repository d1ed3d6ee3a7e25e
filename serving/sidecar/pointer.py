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

With a pointer trust anchor, the sidecar reads through ``PointerFollower``: it keeps the last good
pointer and refuses, each with a reason, an unsigned or wrongly signed pointer (the signature's
reason), a validly signed pointer whose generation is below the last one accepted (``replay``: an
old signed pointer copied back) and a deleted pointer once a signed one was seen (``deleted``).
The last good pointer and its signature are kept in ``<model dir>/.plantserve-pointer.json``, so
that a restarted sidecar container does not fall back to whatever the bucket holds now.

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
import logging
import os
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serving.store import Store, StoreNotFoundError

if TYPE_CHECKING:
    from serving.signing import Signer, Trust

__all__ = ["RolloutPointer", "PointerError", "PointerSignatureError", "POINTER_NAME", "POINTER_SIGNATURE_NAME",
           "read_pointer", "write_pointer", "PointerFollower", "MEMORY_FILE"]

log = logging.getLogger(__name__)

POINTER_NAME = "rollout.json"
POINTER_SIGNATURE_NAME = "rollout.json.sig"
#: The last good signed pointer, next to the versions (not an integer: the server ignores it).
MEMORY_FILE = ".plantserve-pointer.json"


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


def _read_pair(store: Store, model: str) -> tuple[bytes | None, bytes | None]:
    """``rollout.json`` and ``rollout.json.sig`` as stored (None for an absent object)."""
    found: list[bytes | None] = []
    for name in (POINTER_NAME, POINTER_SIGNATURE_NAME):
        try:
            found.append(store.read_bytes(f"{model}/{name}"))
        except StoreNotFoundError:
            found.append(None)
    return found[0], found[1]


def _verified(model: str, data: bytes, signature: bytes | None, trust: Trust) -> RolloutPointer:
    from serving.signing import SignatureError, verify_bytes

    try:
        verify_bytes(data, signature, trust, name=f"{model}/{POINTER_NAME}")
    except SignatureError as exc:
        raise PointerSignatureError(exc.reason, f"{model}/{POINTER_NAME} refused ({exc.reason}): {exc}") from exc
    return RolloutPointer.from_json(data)


def read_pointer(store: Store, model: str, trust: Trust | None = None) -> RolloutPointer:
    """The model's pointer; an absent one is the empty pointer (follow the newest good version).

    With a configured ``trust``, the pointer must carry a valid ``rollout.json.sig`` for this model.
    """
    if trust is None or not trust.configured:
        try:
            return RolloutPointer.from_json(store.read_bytes(f"{model}/{POINTER_NAME}"))
        except StoreNotFoundError:
            return RolloutPointer()
    data, signature = _read_pair(store, model)
    return RolloutPointer() if data is None else _verified(model, data, signature, trust)


class PointerFollower:
    """One model's pointer as a sidecar follows it, poll after poll.

    ``read()`` returns the pointer to act on; ``refusal`` is then None, or why the store's pointer
    was not taken (``refusal_reason`` is the metric label). Store errors propagate (the caller backs off).
    """

    def __init__(self, store: Store, model: str, trust: Trust | None, memory_dir: Path | None = None) -> None:
        self.store, self.model = store, model
        self.trust = trust if trust is not None and trust.configured else None
        self.memory = Path(memory_dir) / MEMORY_FILE if memory_dir is not None and self.trust else None
        self.pointer = RolloutPointer()
        self.refusal: str | None = None
        self.refusal_reason: str | None = None
        #: True once a signed pointer was accepted (in this process or, through the memory file, before it).
        self.seen_signed = False
        self._recall()

    def _recall(self) -> None:
        if self.memory is None or self.trust is None or not self.memory.is_file():
            return
        try:
            saved = json.loads(self.memory.read_text())
            data = saved["data"].encode()
            signature = saved["signature"].encode() if saved.get("signature") else None
            self.pointer, self.seen_signed = _verified(self.model, data, signature, self.trust), True
            log.info("%s: last good signed pointer (generation %s) recalled from %s", self.model,
                     self.pointer.generation, self.memory)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # PointerError is a ValueError
            log.warning("%s: ignoring %s: %s", self.model, self.memory, exc)

    def _remember(self, data: bytes, signature: bytes | None) -> None:
        if self.memory is None:
            return
        self.memory.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.memory.parent, prefix=f"{MEMORY_FILE}.tmp-")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump({"data": data.decode(), "signature": signature.decode() if signature else None}, fh)
            os.replace(tmp, self.memory)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _refuse(self, reason: str, message: str) -> RolloutPointer:
        self.refusal_reason = reason
        self.refusal = (f"{message}; keeping the last good pointer (generation {self.pointer.generation}, "
                        f"pinned {self.pointer.pinned}, blocked {list(self.pointer.blocked)})")
        return self.pointer

    def read(self) -> RolloutPointer:
        """Read the store's pointer and decide whether to follow it (see the class docstring)."""
        self.refusal = self.refusal_reason = None
        if self.trust is None:
            try:
                self.pointer = read_pointer(self.store, self.model)
            except PointerError as exc:
                return self._refuse("invalid", str(exc))
            return self.pointer
        data, signature = _read_pair(self.store, self.model)
        if data is None:
            if self.seen_signed:
                return self._refuse("deleted", f"{self.model}/{POINTER_NAME} was deleted although pointer signing "
                                               "is required")
            self.pointer = RolloutPointer()
            return self.pointer
        try:
            try:
                pointer = _verified(self.model, data, signature, self.trust)
            except PointerSignatureError as exc:
                if exc.reason != "tampered":
                    raise
                # A writer puts rollout.json.sig up just before rollout.json: read the pair once more.
                data, signature = _read_pair(self.store, self.model)
                if data is None:
                    return self.read()
                pointer = _verified(self.model, data, signature, self.trust)
        except PointerSignatureError as exc:
            return self._refuse(exc.reason, str(exc))
        except PointerError as exc:
            return self._refuse("invalid", f"{exc} (its signature is valid)")
        if self.seen_signed and pointer.generation < self.pointer.generation:
            return self._refuse("replay", f"{self.model}/{POINTER_NAME} is validly signed but of generation "
                                          f"{pointer.generation}, below generation {self.pointer.generation} "
                                          "already followed: an old pointer written back? (to reset the pointer "
                                          "on purpose, write one of a higher generation)")
        if pointer != self.pointer or not self.seen_signed:
            self._remember(data, signature)
        self.pointer, self.seen_signed = pointer, True
        return pointer


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
