"""Which versions are loaded: the availability-preserving aspired-versions manager, plus labels.

- ``apply_config`` is ``ServerCore::ReloadConfig``: validation, the label rule, and the wait for newly
  added models;
- ``set_aspired`` receives each poll's versions; a new version loads (and warms up) before the old one
  is unloaded, and an old one is kept while the new one fails;
- failed loads are retried ``max_num_load_retries`` times, ``load_retry_interval`` apart, then the version
  is left at END with its error and not retried while it stays aspired;
- ``servable`` resolves a ModelSpec (latest, version or label) to a loaded version, lock-free.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from serving.server.config import validate_config_list
from serving.server.monitor import State, StateMonitor
from serving.server.servable import Servable
from serving.server.status import Code, ServingError
from serving.server.versions import VersionPolicy, policy_from_proto

__all__ = ["ModelManager", "LoadSettings"]

log = logging.getLogger(__name__)
Loader = Callable[[str, int, str], Servable]  # (model, version, path) -> loaded and warmed-up servable


@dataclasses.dataclass(frozen=True)
class LoadSettings:
    max_num_load_retries: int = 5
    load_retry_interval_seconds: float = 60.0
    allow_version_labels_for_unavailable_models: bool = False
    num_load_threads: int = 2


@dataclasses.dataclass
class _Version:
    version: int
    path: str
    state: State = State.START
    aspired: bool = True
    failed: bool = False


@dataclasses.dataclass
class _Model:
    name: str
    base_path: str
    policy: VersionPolicy
    versions: dict[int, _Version] = dataclasses.field(default_factory=dict)
    loading: bool = False
    polled: bool = False
    configured: bool = True


class ModelManager:
    def __init__(self, loader: Loader, settings: LoadSettings, monitor: StateMonitor | None = None,
                 on_config: Callable[[], None] | None = None) -> None:
        self._loader = loader
        self._settings = settings
        self.monitor = monitor or StateMonitor()
        self._on_config = on_config or (lambda: None)
        self._lock = threading.RLock()
        self._models: dict[str, _Model] = {}
        self._labels: dict[str, dict[str, int]] | None = None
        self._serving: dict[str, dict[int, Servable]] = {}
        self._latest: dict[str, Servable] = {}
        self._pool = ThreadPoolExecutor(max(settings.num_load_threads, 1), thread_name_prefix="load")
        self._stopping = threading.Event()

    # ----- config --------------------------------------------------------------------------------
    def configured_models(self) -> dict[str, tuple[str, VersionPolicy]]:
        with self._lock:
            return {m.name: (m.base_path, m.policy) for m in self._models.values() if m.configured}

    def apply_config(self, config_list, wait_timeout: float | None = None, wait: bool = True) -> None:
        """Replace the model list (``ReloadConfig``). Blocks until newly added models are AVAILABLE (or failed);
        with ``wait_timeout`` (the caller's deadline), DEADLINE_EXCEEDED when that passes first."""
        validate_config_list(config_list)
        with self._lock:
            new_labels = self._check_labels(config_list)
            wanted = {c.name: c for c in config_list.config}
            for name, model in self._models.items():
                if name not in wanted and model.configured:
                    model.configured = False
                    self._set_aspired_locked(model, {})
            added = []
            for name, cfg in wanted.items():
                policy = policy_from_proto(cfg.model_version_policy if cfg.HasField("model_version_policy") else None)
                model = self._models.get(name)
                if model is None or not model.configured:
                    added.append(name)
                    if model is None:
                        model = self._models[name] = _Model(name, cfg.base_path, policy)
                    model.configured, model.polled = True, False
                model.base_path, model.policy = cfg.base_path, policy
            self._labels = new_labels
        self._on_config()
        if added and wait:
            self._wait_available(added, wait_timeout)

    def _check_labels(self, config_list) -> dict[str, dict[str, int]]:
        """``UpdateModelVersionLabelMap``: labels may only point at versions AVAILABLE now."""
        labels: dict[str, dict[str, int]] = {}
        allow_flag = self._settings.allow_version_labels_for_unavailable_models
        for cfg in config_list.config:
            available = self.monitor.available(cfg.name)
            for label, version in cfg.version_labels.items():
                allow_any = False
                if allow_flag:
                    existing = (self._labels or {}).get(cfg.name, {}).get(label)
                    allow_any = existing is None or existing == version
                if not allow_any and version not in available:
                    raise ServingError(Code.FAILED_PRECONDITION, (
                        f"Request to assign label to version {version} of model {cfg.name}, "
                        "which is not currently available for inference"))
                labels.setdefault(cfg.name, {})[label] = version
        return labels

    def _wait_available(self, names: list[str], timeout: float | None) -> None:
        def done() -> bool:
            return all(self._settled(n) for n in names)
        if not self.monitor.wait(done, timeout):
            # TF Serving keeps waiting (forever for a missing base path); its client sees its deadline pass.
            raise ServingError(Code.DEADLINE_EXCEEDED, "Deadline Exceeded")
        failed = []
        for name in names:
            if name in self._serving and self._serving[name]:
                continue
            errors = [(v, s) for v, s in self.monitor.versions(name) if s.code != Code.OK]
            detail = f" due to error: {errors[0][1].code.name}: {errors[0][1].message}" if errors else ""
            version = errors[0][0] if errors else 0
            failed.append(f"{{{{name: {name} version: {version}}}{detail}}}, ")
        if failed:
            raise ServingError(Code.UNKNOWN, f"{len(failed)} model(s) did not become available: {{{''.join(failed)}}}")

    def _settled(self, name: str) -> bool:
        if self._serving.get(name):
            return True
        with self._lock:
            model = self._models.get(name)
            if model is None or not model.polled:
                return False
            aspired = [v for v in model.versions.values() if v.aspired]
            return bool(aspired) and all(v.state == State.END for v in aspired)

    def wait_all_settled(self, timeout: float | None = None) -> bool:
        names = list(self.configured_models())
        return self.monitor.wait(lambda: all(self._settled(n) for n in names), timeout)

    # ----- aspired versions ------------------------------------------------------------------------
    def set_aspired(self, name: str, aspired: dict[int, str]) -> None:
        with self._lock:
            model = self._models.get(name)
            if model is None or not model.configured:
                return
            model.polled = True
            self._set_aspired_locked(model, aspired)
        self.monitor.notify()

    def _set_aspired_locked(self, model: _Model, aspired: dict[int, str]) -> None:
        for version, record in model.versions.items():
            record.aspired = version in aspired
        for version, path in aspired.items():
            record = model.versions.get(version)
            if record is None or (record.state == State.END and not record.failed):
                model.versions[version] = _Version(version, path)
                self.monitor.publish(model.name, version, State.START)
            elif record.state == State.END and record.failed and record.path != path:
                model.versions[version] = _Version(version, path)
        for version, record in list(model.versions.items()):
            if record.failed and not record.aspired:
                del model.versions[version]
        self._reconcile(model)

    def _reconcile(self, model: _Model) -> None:
        """``AvailabilityPreservingPolicy``: unload an un-aspired version only when that cannot reduce
        availability; otherwise load the highest new aspired version."""
        while True:
            records = list(model.versions.values())
            has_aspired = any(r.aspired for r in records)
            aspired_serving = any(r.aspired and r.state == State.AVAILABLE for r in records)
            unaspired_serving = sorted((r for r in records if not r.aspired and r.state == State.AVAILABLE),
                                       key=lambda r: r.version)
            if unaspired_serving and (not has_aspired or aspired_serving or len(unaspired_serving) > 1):
                self._unload(model, unaspired_serving[0])
                continue
            break
        if model.loading:
            return
        new = sorted((r for r in model.versions.values() if r.aspired and r.state == State.START),
                     key=lambda r: r.version, reverse=True)
        if new:
            model.loading = True
            new[0].state = State.LOADING
            self.monitor.publish(model.name, new[0].version, State.LOADING)
            self._pool.submit(self._load, model, new[0])

    def _unload(self, model: _Model, record: _Version) -> None:
        record.state = State.UNLOADING
        self.monitor.publish(model.name, record.version, State.UNLOADING)
        self._publish_serving(model.name, remove=record.version)
        record.state = State.END
        self.monitor.publish(model.name, record.version, State.END)
        log.info("Unloaded servable version %s of model %s", record.version, model.name)

    def _load(self, model: _Model, record: _Version) -> None:
        attempts = 1 + max(self._settings.max_num_load_retries, 0)
        error: ServingError | None = None
        servable = None
        for attempt in range(attempts):
            if attempt:
                if self._stopping.wait(self._settings.load_retry_interval_seconds):
                    break
                if not record.aspired:
                    break
                log.info("Retrying load of version %s of model %s (attempt %d)", record.version, model.name, attempt + 1)
            try:
                servable = self._loader(model.name, record.version, record.path)
                error = None
                break
            except ServingError as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 - a load never takes the server down
                error = ServingError(Code.UNKNOWN, f"{type(exc).__name__}: {exc}")
            log.error("Loading servable: {name: %s version: %s} failed: %s", model.name, record.version, error)
        with self._lock:
            model.loading = False
            if servable is not None and error is None:
                record.state = State.AVAILABLE
                self._publish_serving(model.name, add=servable)
                self.monitor.publish(model.name, record.version, State.AVAILABLE)
                log.info("Successfully loaded servable version {name: %s version: %s}", model.name, record.version)
            else:
                error = error or ServingError(Code.CANCELLED, "Load cancelled")
                record.state, record.failed = State.END, True
                self.monitor.publish(model.name, record.version, State.END, error.code, error.message)
            self._reconcile(model)

    def _publish_serving(self, name: str, add: Servable | None = None, remove: int | None = None) -> None:
        versions = dict(self._serving.get(name, {}))
        if add is not None:
            versions[add.version] = add
        if remove is not None:
            versions.pop(remove, None)
        self._serving[name] = versions  # replaced, never mutated: readers need no lock
        if versions:
            self._latest[name] = versions[max(versions)]
        else:
            self._latest.pop(name, None)

    # ----- lookups --------------------------------------------------------------------------------
    def servable(self, name: str, version: int | None = None, label: str | None = None) -> Servable:
        if not name:
            raise ServingError(Code.INVALID_ARGUMENT, "ModelSpec has no name specified.")
        if label is not None:
            labels = self._labels
            if labels is None:
                raise ServingError(Code.UNAVAILABLE, f"Model labels does not init yet.{label}")
            version = labels.get(name, {}).get(label)
            if version is None:
                raise ServingError(Code.INVALID_ARGUMENT, f"Unrecognized servable version label: {label}")
        if version is None:
            found = self._latest.get(name)
            if found is None:
                raise ServingError(Code.NOT_FOUND, f"Servable not found for request: Latest({name})")
            return found
        found = self._serving.get(name, {}).get(version)
        if found is None:
            raise ServingError(Code.NOT_FOUND, f"Servable not found for request: Specific({name}, {version})")
        return found

    def loaded(self) -> list[Servable]:
        return [s for versions in list(self._serving.values()) for s in versions.values()]

    def stop(self) -> None:
        self._stopping.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
