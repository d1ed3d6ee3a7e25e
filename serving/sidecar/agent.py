"""The sync agent: a watcher that ticks every poll interval, and one queue + thread per model.

Work on one model is serial; a stuck or broken model never blocks the others (only the shared
config apply is serialized, and every apply has a deadline). Ticks coalesce: a queue holds at
most one pending tick.

Example (what ``plantserve sidecar`` does)::

    agent = Agent(settings, open_store(settings.store), ServerClient(settings.server_grpc, 10),
                  SidecarMetrics(CollectorRegistry()))
    agent.start()          # threads: one watcher, one per model
    agent.started, agent.ready, agent.status()
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable

from serving.store import Store

from .applier import ServingConfig
from .k8s import NullReporter, Reporter
from .metrics import SidecarMetrics
from .settings import Settings
from .tfserving import ServerClient
from .worker import ModelWorker

__all__ = ["Agent"]

log = logging.getLogger(__name__)


class Agent:
    def __init__(self, settings: Settings, store: Store, client: ServerClient, metrics: SidecarMetrics,
                 reporter: Reporter | None = None, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.client = client
        self.metrics = metrics
        self.reporter = reporter or NullReporter()
        self.config = ServingConfig(client, settings.model_config_file)
        self.workers = {
            m: ModelWorker(m, settings, store, client, self.config, metrics, self.reporter,
                           on_change=self._changed, clock=clock)
            for m in settings.models
        }
        self._queues: dict[str, queue.Queue[str]] = {m: queue.Queue(maxsize=1) for m in settings.models}
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._startup_done = threading.Event()
        self._change_lock = threading.Lock()
        if isinstance(getattr(client, "on_disconnect", None), list):
            client.on_disconnect.append(self.poke)
        self.started_at = clock()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        for model in self.settings.models:
            t = threading.Thread(target=self._run_model, args=(model,), name=f"model-{model}", daemon=True)
            t.start()
            self._threads.append(t)
        watcher = threading.Thread(target=self._watch, name="watcher", daemon=True)
        watcher.start()
        self._threads.append(watcher)

    def stop(self, timeout_seconds: float = 5.0) -> None:
        self._stop.set()
        for q in self._queues.values():
            self._offer(q, "stop")
        for t in self._threads:
            t.join(timeout_seconds)

    def _offer(self, q: queue.Queue[str], item: str) -> None:
        try:
            q.put_nowait(item)
        except queue.Full:
            pass  # a tick is already pending: coalesce

    def poke(self) -> None:
        """Tick every model now (the server connection dropped: readiness must not wait for the poll)."""
        for q in self._queues.values():
            self._offer(q, "tick")

    def _watch(self) -> None:
        while not self._stop.is_set():
            for q in self._queues.values():
                self._offer(q, "tick")
            self._stop.wait(self.settings.poll_interval_seconds)

    def _run_model(self, model: str) -> None:
        worker, q = self.workers[model], self._queues[model]
        while not self._stop.is_set():
            if q.get() == "stop":
                return
            try:
                worker.tick()
            except Exception as exc:  # noqa: BLE001 - one model's bug must not kill its thread
                log.exception("%s: tick failed", model)
                worker.internal_error(exc)
            if not self._startup_done.is_set() and all(w.bootstrapped for w in self.workers.values()):
                self._changed()

    # -- state ----------------------------------------------------------------------------
    def _changed(self) -> None:
        """A model's served versions changed: rewrite the server's start-up config, annotate the pod."""
        with self._change_lock:
            if not all(w.bootstrapped for w in self.workers.values()):
                return
            self.config.write_startup_file(with_labels=self.settings.server_allows_unavailable_labels)
            if not self._startup_done.is_set():
                log.info("start-up complete: every model's stable version is on disk; config written to %s",
                         self.settings.model_config_file)
                self._startup_done.set()
        self.reporter.annotate({m: {"stable": w.state.stable, "previous": w.state.previous,
                                    "available": w.available} for m, w in self.workers.items()})

    @property
    def started(self) -> bool:
        return self._startup_done.is_set()

    @property
    def ready(self) -> bool:
        """Every model's stable version is AVAILABLE and labelled, on the server as it is now: after a
        reconnect (a restarted server) nothing counts until the config is applied to it again."""
        return self.started and self.config.current() and all(w.available for w in self.workers.values())

    @property
    def healthy(self) -> bool:
        return not self._stop.is_set() and all(t.is_alive() for t in self._threads)

    def status(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "ready": self.ready,
            "store": _redact(self.settings.store),
            "server_grpc": self.settings.server_grpc,
            "models": {m: w.status() for m, w in self.workers.items()},
        }


def _redact(uri: str) -> str:
    """Drop any user:password@ part of a URI (credentials never appear in status or logs)."""
    scheme, sep, rest = uri.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
