"""The agent: one queue and thread per model, so a stuck model never blocks the others."""
from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry

from serving.sidecar.agent import Agent, _redact
from serving.sidecar.metrics import SidecarMetrics
from serving.sidecar.settings import Settings
from serving.store import open_store
from tests.sidecar.fakes import FakeServer
from tests.sidecar.fakes import publish_model
from tests.support import wait_until


class StuckStore:
    """Delegates to a real store, but listing ``stuck/`` blocks while ``gate`` is closed."""

    def __init__(self, inner, gate: threading.Event):
        self.inner, self.gate = inner, gate

    def list(self, prefix=""):
        if prefix.startswith("stuck/") and not self.gate.is_set():
            self.gate.wait(30)
        return self.inner.list(prefix)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_stuck_model_does_not_block_the_others(tmp_path):
    store = open_store(str(tmp_path / "store"), create=True)
    for model in ("fuel", "stuck"):
        publish_model(store, tmp_path, model, 1)
    gate = threading.Event()
    gate.set()
    settings = Settings(store=str(tmp_path / "store"), models=("fuel", "stuck"), model_base_path=tmp_path / "m",
                        model_config_file=tmp_path / "m" / "models.config", poll_interval_seconds=0.05,
                        latency_probe_requests=3, latency_slack_ms=100)
    server = FakeServer()
    agent = Agent(settings, StuckStore(store, gate), server, SidecarMetrics(CollectorRegistry()))
    agent.start()
    try:
        wait_until(lambda: agent.started, timeout=10, what="both models bootstrapped")
        gate.clear()  # from now on, listing `stuck/` hangs
        publish_model(store, tmp_path, "fuel", 2)
        wait_until(lambda: agent.workers["fuel"].state.stable == 2, timeout=10, what="fuel promoted")
        assert agent.workers["stuck"].state.stable == 1
        assert agent.status()["models"]["fuel"]["labels"] == {"stable": 2, "previous": 1}
        assert 'name: "stuck"' in settings.model_config_file.read_text()
    finally:
        gate.set()
        agent.stop()
    assert not agent.healthy


def test_redact_drops_userinfo():
    assert _redact("s3://key:secret@bucket/prefix") == "s3://***@bucket/prefix"
    assert _redact("/var/store") == "/var/store"
