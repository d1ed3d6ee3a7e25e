"""One loaded copy of a SavedModel version, however many model names point at it.

The sidecar verifies a candidate under a shadow model name whose base path is the real model's, then
promotes it by adding the same version under the real name. TF Serving loads it a second time (in
C++, off the Python interpreter lock). Here a second load would cost memory and, worse, stall every
request in flight: TensorFlow's loader and the release of a model's objects hold the interpreter lock
for ~10 ms at a time. So a version whose files are already loaded under another name is shared: the
new name gets a view of the same signatures, already warm, and unloading one name frees nothing
while another still serves it. Two names loading the same version at once load it once.

A version is "the same" when its directory (resolved), the tags and its ``saved_model.pb`` (device,
inode, size, modification time) are unchanged: a directory replaced in place is loaded afresh.

>>> # servable, shared = LoadedVersions().get_or_load(path, tags, name, version, lambda: load(...))
"""
from __future__ import annotations

import dataclasses
import os
import threading
import weakref
from typing import Callable, Sequence

from serving.server.servable import Servable

__all__ = ["LoadedVersions"]

Key = tuple


class LoadedVersions:
    """Weak registry of loaded servables by SavedModel identity; thread-safe."""

    def __init__(self) -> None:
        #: Servables are dataclasses (unhashable), so each key keeps a list of weak references.
        self._live: dict[Key, list[weakref.ref[Servable]]] = {}
        #: One lock per key while a load of it is under way.
        self._loading: dict[Key, threading.Lock] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(path: str, tags: Sequence[str]) -> Key | None:
        """The version's identity on disk, or None when it cannot be read (the load reports why)."""
        for name in ("saved_model.pb", "saved_model.pbtxt"):
            try:
                st = os.stat(os.path.join(path, name))
            except OSError:
                continue
            return os.path.realpath(path), tuple(tags), name, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns
        return None

    def get_or_load(self, path: str, tags: Sequence[str], name: str, version: int,
                    load: Callable[[], Servable]) -> tuple[Servable, bool]:
        """(servable, shared): a view of the loaded copy when there is one, else ``load()``'s result.
        A failed ``load()`` raises and registers nothing."""
        key = self.key(path, tags)
        if key is None:
            return load(), False
        with self._lock:
            self._sweep()
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            view = self._find(key, name, version)
            if view is not None:
                return view, True
            servable = load()
            with self._lock:
                self._live[key] = [*self._alive(key), weakref.ref(servable)]
            return servable, False

    def _alive(self, key: Key) -> list[weakref.ref[Servable]]:
        return [r for r in self._live.get(key, ()) if r() is not None]

    def _sweep(self) -> None:
        """Forget versions no name serves any more (under ``self._lock``; loads are rare, this is small)."""
        for key in [k for k in self._live if not self._alive(k)]:
            del self._live[key]
        for key in [k for k, lock in self._loading.items() if k not in self._live and not lock.locked()]:
            del self._loading[key]

    def _find(self, key: Key, name: str, version: int) -> Servable | None:
        with self._lock:
            alive = self._alive(key)
            loaded = next((s for s in (r() for r in alive) if s is not None), None)
            if loaded is None:
                return None
            view = dataclasses.replace(loaded, name=name, version=version)
            self._live[key] = [*alive, weakref.ref(view)]
            return view
