"""An in-process stand-in for the server behind ServerClient, with TF Serving's rules:
labels only on AVAILABLE versions (checked before the config applies), a reload that fails when
a newly added model cannot load, ``specific`` policies, models left out of a config unloaded.

Predict answers a version's golden outputs (read from its manifest on disk), unless the test
made that version misbehave. Used to drive ModelWorker tick by tick in unit tests."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import grpc
import numpy as np

from serving.sidecar.server_metrics import Snapshot
from serving.sidecar.tfserving import ServerError
from serving.store import Store
from serving.store.manifest import Golden, Manifest, PrimaryMetric, file_entries
from tests.sidecar.models import GOLDEN_INPUTS, SIGNATURES


class FakeServer:
    def __init__(self) -> None:
        self.connection_epoch = 0
        self.up = True
        self.configs: dict[str, tuple[str, tuple[int, ...], dict[str, int]]] = {}
        self.states: dict[str, dict[int, tuple[str, str]]] = {}
        self.reloads: list[dict[str, tuple[list[int], dict[str, int]]]] = []
        self.fail_load: set[int] = set()
        self.wrong: set[int] = set()
        self.errors: set[int] = set()
        self.requests: dict[str, dict[str, float]] = {}

    def _check_up(self) -> None:
        if not self.up:
            raise ServerError("server down", grpc.StatusCode.UNAVAILABLE)

    def status(self, name: str) -> dict[int, tuple[str, str]]:
        self._check_up()
        return dict(self.states.get(name, {}))

    def reload(self, config, timeout_seconds: float) -> None:
        self._check_up()
        wanted = {c.name: (c.base_path, tuple(c.model_version_policy.specific.versions), dict(c.version_labels))
                  for c in config.model_config_list.config}
        for name, (_base, _versions, labels) in wanted.items():
            for label, version in labels.items():
                if self.states.get(name, {}).get(version, ("",))[0] != "AVAILABLE":
                    raise ServerError(f"Request to assign label to version {version} of model {name}, which is "
                                      "not currently available for inference", grpc.StatusCode.FAILED_PRECONDITION)
        for name in set(self.states) - set(wanted):
            self.states[name] = {v: ("END", m) for v, (_s, m) in self.states[name].items()}
        failed_new = []
        for name, (base, versions, _labels) in wanted.items():
            states = self.states.setdefault(name, {})
            for v in list(states):
                if v not in versions:
                    states[v] = ("END", states[v][1])
            for v in versions:
                if states.get(v, ("",))[0] == "AVAILABLE" or not (Path(base) / str(v)).is_dir():
                    continue
                if v in self.fail_load:
                    states[v] = ("END", f"could not load version {v}")
                    if name not in self.configs:
                        failed_new.append(name)
                else:
                    states[v] = ("AVAILABLE", "")
        self.configs = wanted
        self.reloads.append({n: (list(v), dict(lbl)) for n, (_b, v, lbl) in wanted.items()})
        if failed_new:
            raise ServerError(f"Some models did not become available: {failed_new}", grpc.StatusCode.UNKNOWN)

    def predict(self, model, inputs, *, version=None, label=None, signature_name="serving_default",
                timeout_seconds=None):
        self._check_up()
        base, _versions, labels = self.configs.get(model, ("", (), {}))
        if version is None:
            version = labels.get(label) if label else max(
                (v for v, (s, _m) in self.states.get(model, {}).items() if s == "AVAILABLE"), default=None)
        counts = self.requests.setdefault(model, {})
        if version is None or self.states.get(model, {}).get(version, ("",))[0] != "AVAILABLE":
            counts["NOT_FOUND"] = counts.get("NOT_FOUND", 0) + 1
            raise ServerError(f"Servable not found {model} {version}", grpc.StatusCode.NOT_FOUND)
        if version in self.errors:
            counts["INVALID_ARGUMENT"] = counts.get("INVALID_ARGUMENT", 0) + 1
            raise ServerError("assertion failed", grpc.StatusCode.INVALID_ARGUMENT)
        counts["OK"] = counts.get("OK", 0) + 1
        golden = json.loads((Path(base) / str(version) / "manifest.json").read_text())["golden"]
        scale = 10.0 if version in self.wrong else 1.0
        return {k: np.asarray(v, np.float32) * scale for k, v in golden["outputs"].items()}

    def snapshot(self, model: str) -> Snapshot:
        return Snapshot(dict(self.requests.get(model, {})), {})

    def served(self, name: str = "fuel") -> dict[int, str]:
        return {v: s for v, (s, _m) in self.states.get(name, {}).items() if s != "END"}


def publish_model(store: Store, tmp: Path, model: str, version: int, golden_scale=1.0, **overrides) -> Manifest:
    """A tiny fake version (no TensorFlow): the FakeServer answers its golden outputs."""
    src = tmp / "src" / model / str(version)
    (src / "variables").mkdir(parents=True, exist_ok=True)
    (src / "saved_model.pb").write_bytes(b"pb-%d" % version)
    (src / "variables" / "variables.data-00000-of-00001").write_bytes(os.urandom(1000))
    outputs = {"mpg": [golden_scale * version * x for x in (1.0, 2.0, 3.0)]}
    m = Manifest(model=model, version=version, files=file_entries(src), signatures=SIGNATURES, metrics={},
                 primary_metric=PrimaryMetric("mae", "min", 1.0), data_fingerprint="t",
                 golden=Golden("serving_default", GOLDEN_INPUTS, outputs))
    m = dataclasses.replace(m, **overrides)
    for f in m.files:
        store.write_bytes(f"{model}/{version}/{f.path}", (src / f.path).read_bytes())
    store.write_bytes(f"{model}/{version}/manifest.json", m.to_json().encode())
    return m
