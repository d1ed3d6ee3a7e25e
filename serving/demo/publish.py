"""Training in child processes: reuse or train the first versions, publish the incremental one.

``plantserve train --signing-key`` (the demo's throwaway key) signs every version it publishes and
publishes the manifest last, so an interrupted run never leaves a *visible*
version, and on SIGTERM or Ctrl-C it removes its own partial upload. Only a child the demo had to
SIGKILL (it ignored SIGTERM for 15 s) can leave a numeric directory with some files and no
manifest: as that backstop, :func:`remove_partial_versions` deletes exactly the directories that
appeared during that run and have no manifest (the claimed number is never reused).
"""
from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

from serving.store import S3Options, Store, open_store
from serving.store.manifest import MANIFEST_NAME
from serving.store.repository import ModelRepository

from .children import Children
from .settings import DemoSettings
from .signing import DemoKey

__all__ = ["TrainingFailed", "Training", "open_demo_store", "latest_versions", "train", "partial_versions",
           "remove_partial_versions"]

log = logging.getLogger(__name__)


class TrainingFailed(RuntimeError):
    """A ``plantserve train`` child failed; the message carries its exit code and log."""


def open_demo_store(settings: DemoSettings) -> Store:
    return open_store(settings.store, S3Options(endpoint_url=settings.s3_endpoint_url), create=not settings.is_s3)


def latest_versions(store: Store, models: tuple[str, ...]) -> dict[str, int | None]:
    """Each model's newest complete version (manifest present, every file at its size)."""
    return {m: ModelRepository(store, m).latest() for m in models}


def partial_versions(store: Store, model: str) -> set[int]:
    """Numeric version directories with files but no manifest."""
    heads: dict[int, bool] = {}
    for obj in store.list(f"{model}/"):
        head, _, rel = obj.key[len(model) + 1:].partition("/")
        if head.isdigit() and rel:
            heads[int(head)] = heads.get(int(head), False) or rel == MANIFEST_NAME
    return {v for v, has_manifest in heads.items() if not has_manifest}


def remove_partial_versions(store: Store, model: str, before: set[int], out: TextIO) -> list[int]:
    """Delete the manifest-less version directories that were not there ``before``."""
    removed = []
    for version in sorted(partial_versions(store, model) - before):
        prefix = f"{model}/{version}"
        for obj in list(store.list(prefix + "/")):
            store.delete(obj.key)
        store.delete(prefix)  # local: the directory itself (and temp files); S3: no such key, a no-op
        removed.append(version)
        print(f"  removed the half-written {prefix} left by the interrupted training", file=out, flush=True)
    return removed


class Training:
    """One ``plantserve train`` child, relaying its output. Use ``wait()``, or poll ``done()`` and
    call ``result()``; ``abort()`` (always safe) stops it and removes what it half-wrote."""

    def __init__(self, settings: DemoSettings, children: Children, store: Store, model: str, strategy: str,
                 out: TextIO) -> None:
        argv = [sys.executable, "-m", "serving.cli", "train", model, "--store", settings.store,
                "--strategy", strategy, "--quiet", "--signing-key", str(DemoKey.ensure(settings.work_dir).private),
                *(["--epochs", str(settings.epochs)] if settings.epochs else []),
                *(["--s3-endpoint-url", settings.s3_endpoint_url] if settings.s3_endpoint_url else [])]
        self.settings, self.children, self.store, self.model, self.strategy, self.out = (
            settings, children, store, model, strategy, out)
        self.repo = ModelRepository(store, model)
        self.partial_before = partial_versions(store, model)
        self.latest_before = self.repo.latest()
        self.child = children.start(f"train-{model}-{strategy}", argv, relay=True)
        self.deadline = time.monotonic() + settings.train_timeout_seconds
        self.version: int | None = None
        print(f"  train {model} ({strategy})  pid {self.child.pid}  (log {self.child.log_path})", file=out, flush=True)

    def done(self) -> bool:
        if self.child.alive() and time.monotonic() > self.deadline:
            raise TrainingFailed(f"training {self.model} took longer than --train-timeout-seconds="
                                 f"{self.settings.train_timeout_seconds:g}; see {self.child.log_path}")
        return not self.child.alive()

    def result(self) -> int:
        """The published version, once ``done()``. Raises TrainingFailed."""
        if self.version is not None:
            return self.version
        code = self.child.wait(10)
        if code != 0:
            raise TrainingFailed(f"plantserve train {self.model} --strategy {self.strategy} exited {code}; "
                                 f"its log {self.child.log_path} ends with:\n{self.child.tail()}")
        version = self.repo.latest()
        if version is None or version == self.latest_before:
            raise TrainingFailed(f"plantserve train {self.model} exited 0 but no new version is in {self.store.uri}")
        self.version = version
        return version

    def wait(self) -> int:
        while not self.done():
            time.sleep(0.1)
        return self.result()

    def abort(self) -> None:
        """Unless it published: stop it (it must not publish behind our back) and clean up after it."""
        if self.version is not None:
            return
        with self.children.shield():
            self.children.stop(self.child)
            remove_partial_versions(self.store, self.model, self.partial_before, self.out)


def train(settings: DemoSettings, children: Children, store: Store, model: str, strategy: str,
          out: TextIO) -> int:
    """Train and publish in a child; return the version it published."""
    training = Training(settings, children, store, model, strategy, out)
    try:
        return training.wait()
    finally:
        training.abort()
