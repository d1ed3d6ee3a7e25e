"""ModelWorker driven tick by tick against a local store and the in-process FakeServer."""
from __future__ import annotations

import dataclasses
import os
import threading

import pytest
from prometheus_client import CollectorRegistry

from serving.sidecar.applier import ServingConfig
from serving.sidecar.metrics import SidecarMetrics
from serving.sidecar.pointer import RolloutPointer, read_pointer, write_pointer
from serving.sidecar.settings import Settings
from serving.sidecar.sync import STAGING_PREFIX
from serving.sidecar.worker import ModelWorker
from serving.store import open_store
from serving.store.manifest import Manifest
from tests.sidecar.fakes import FakeServer, publish_model
from tests.sidecar.models import SIGNATURES


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def env(tmp_path):
    store = open_store(str(tmp_path / "store"), create=True)
    settings = Settings(store=str(tmp_path / "store"), models=("fuel",), model_base_path=tmp_path / "models",
                        model_config_file=tmp_path / "models" / "models.config", rollback_window_seconds=600,
                        latency_probe_requests=5, latency_slack_ms=50, rollback_min_requests=5)
    return dataclasses.make_dataclass("Env", ["store", "settings", "server", "clock", "registry", "tmp"])(
        store, settings, FakeServer(), Clock(), CollectorRegistry(), tmp_path)


class Events:
    def __init__(self):
        self.events = []

    def event(self, model, reason, message, warning=False):
        self.events.append((model, reason, warning))

    def annotate(self, serving):
        pass


def make_worker(env, registry=None, reporter=None) -> ModelWorker:
    config = ServingConfig(env.server, env.settings.model_config_file)
    metrics = SidecarMetrics(registry or env.registry)
    return ModelWorker("fuel", env.settings, env.store, env.server, config, metrics, reporter,
                       clock=env.clock, scrape=env.server.snapshot)


def publish(env, version, golden_scale=1.0, **overrides) -> Manifest:
    return publish_model(env.store, env.tmp, "fuel", version, golden_scale, **overrides)


def value(env, name, **labels):
    return env.registry.get_sample_value(name, labels)


@pytest.fixture
def running(env):
    publish(env, 1)
    w = make_worker(env)
    w.tick()  # bootstrap
    w.tick()  # first contact with the server
    assert w.state.stable == 1 and w.available
    return w


def test_bootstrap_then_labels_once_available(env):
    publish(env, 1)
    publish(env, 2)
    w = make_worker(env)
    w.tick()
    assert w.bootstrapped and w.state.stable == 2 and env.server.reloads == []
    assert (env.settings.model_base_path / "fuel" / "2" / "manifest.json").is_file()
    w.tick()
    assert env.server.reloads[0] == {"fuel": ([2], {})}  # labels refused until AVAILABLE
    assert env.server.reloads[-1] == {"fuel": ([2], {"stable": 2})} and w.available
    assert value(env, "plantserve_model_available", model="fuel") == 1


def test_promotion_is_two_step_and_keeps_previous(env, running):
    publish(env, 2)
    running.tick()
    assert running.state.stable == 2 and running.state.previous == 1
    promote = [r for r in env.server.reloads if "fuel" in r and r["fuel"][0] == [1, 2]]
    assert promote[0]["fuel"][1] == {"stable": 1} and promote[-1]["fuel"][1] == {"stable": 2, "previous": 1}
    assert any("fuel__candidate" in r for r in env.server.reloads)
    assert "fuel__candidate" not in env.server.configs
    assert value(env, "plantserve_rollout_total", model="fuel", result="promoted", reason="ok") == 1
    assert value(env, "plantserve_model_label_version", model="fuel", label="previous") in (0, 1)
    running.tick()
    assert value(env, "plantserve_model_label_version", model="fuel", label="stable") == 2


@pytest.mark.parametrize("breakage, reason", [
    ("fail_load", "load"), ("wrong", "golden"), ("incompatible", "compatibility"), ("sha", "integrity")])
def test_bad_candidates_are_rejected_and_not_retried(env, running, breakage, reason):
    if breakage == "fail_load":
        env.server.fail_load.add(2)
        publish(env, 2)
    elif breakage == "wrong":
        env.server.wrong.add(2)
        publish(env, 2)
    elif breakage == "incompatible":
        sig = {"serving_default": {**SIGNATURES["serving_default"], "inputs": {}}}
        publish(env, 2, signatures=sig)
    else:
        m = publish(env, 2)
        files = [dataclasses.replace(f, sha256="0" * 64) if f.path == "saved_model.pb" else f for f in m.files]
        env.store.write_bytes("fuel/2/manifest.json", dataclasses.replace(m, files=files).to_json().encode())
    running.tick()
    assert running.state.bad[2].reason == reason
    assert running.state.stable == 1 and env.server.configs["fuel"][2] == {"stable": 1}
    assert not (env.settings.model_base_path / "fuel" / "2").exists()
    assert "fuel__candidate" not in env.server.configs
    reloads = len(env.server.reloads)
    running.tick()
    assert len(env.server.reloads) == reloads, "a bad version is not retried"
    assert value(env, "plantserve_rollout_total", model="fuel", result="rejected", reason=reason) == 1


def test_allow_breaking_change_in_manifest_or_pointer(env, running):
    sig = {"serving_default": {**SIGNATURES["serving_default"], "inputs": {}}}
    publish(env, 2, signatures=sig, allow_breaking_change=True)
    running.tick()
    assert running.state.stable == 2
    publish(env, 3, signatures=SIGNATURES)
    write_pointer(env.store, "fuel", RolloutPointer().with_pinned(3, allow_breaking=True))
    running.tick()
    assert running.state.stable == 3


def test_republished_manifest_clears_the_bad_mark(env, running):
    env.server.wrong.add(2)
    publish(env, 2)
    running.tick()
    assert 2 in running.state.bad
    env.server.wrong.clear()
    publish(env, 2, golden_scale=1.0, data_fingerprint="republished")
    running.tick()
    running.tick()
    assert running.state.stable == 2 and 2 not in running.state.bad


def _spike_errors(env, version: int, requests: int = 10) -> None:
    """Make ``version`` fail and send ``requests`` plant requests on label stable (they fail)."""
    env.server.errors.add(version)
    for _ in range(requests):
        try:
            env.server.predict("fuel", {}, label="stable")
        except Exception:
            pass


def test_error_spike_rolls_back_to_previous(env, running):
    publish(env, 2)
    running.tick()
    assert running.state.stable == 2
    _spike_errors(env, version=2)
    running.tick()
    assert running.state.stable == 1 and running.state.previous is None
    assert running.state.bad[2].reason == "rolled_back"
    assert env.server.configs["fuel"][1:] == ((1,), {"stable": 1})
    assert value(env, "plantserve_rollout_total", model="fuel", result="rolled_back", reason="automatic") == 1


class StatusReader:
    """On every config reload, reads ``worker.status()`` from another thread, as /status does."""

    def __init__(self, env, worker):
        self.worker, self.snapshots, self.threads = worker, [], []
        reload = env.server.reload

        def reload_then_read(config, timeout_seconds):
            reload(config, timeout_seconds)
            t = threading.Thread(target=lambda: self.snapshots.append(self.worker.status()))
            t.start()
            self.threads.append(t)
        env.server.reload = reload_then_read

    def join(self) -> list[dict]:
        for t in self.threads:
            t.join()
        return self.snapshots


def test_status_never_shows_half_a_version_change(env, running):
    """Stable, labels, server states and the rollout record move together (the CI flake of session 1)."""
    reader = StatusReader(env, running)
    publish(env, 2)
    running.tick()
    _spike_errors(env, version=2)
    running.tick()
    snapshots = reader.join()
    assert {s["stable"] for s in snapshots} == {1, 2}
    for s in snapshots:
        if s["stable"] == 2:
            assert s["last_rollout"]["result"] == "promoted" and s["labels"] == {"stable": 2, "previous": 1}
            assert s["server_states"]["2"] == "AVAILABLE" and s["previous"] == 1
        elif s["last_rollout"] and s["last_rollout"]["result"] == "rolled_back":
            assert s["labels"] == {"stable": 1} and s["previous"] is None and "2" in s["bad"]
    assert snapshots[-1]["last_rollout"]["result"] == "rolled_back"


def test_window_expiry_unloads_previous_and_prunes(env, running):
    for v in (2, 3):
        publish(env, v)
        running.tick()
    assert running.state.stable == 3 and running.state.previous == 2
    assert sorted(p.name for p in (env.settings.model_base_path / "fuel").iterdir() if p.name.isdigit()) == ["2", "3"]
    env.clock.now += 601
    running.tick()
    assert running.state.previous is None and env.server.configs["fuel"][1:] == ((3,), {"stable": 3})


def test_pointer_pin_block_and_rollback(env, running):
    publish(env, 2)
    running.tick()
    write_pointer(env.store, "fuel", RolloutPointer().with_pinned(1))
    running.tick()
    assert running.state.stable == 1 and running.state.previous == 2  # instant: 1 was still loaded
    assert value(env, "plantserve_pointer_pinned_version", model="fuel") == 1
    write_pointer(env.store, "fuel", read_pointer(env.store, "fuel").with_pinned(None))
    running.tick()
    assert running.state.stable == 2
    write_pointer(env.store, "fuel", read_pointer(env.store, "fuel").with_blocked(2))
    running.tick()
    assert running.state.stable == 1 and running.state.previous is None
    assert env.server.served() == {1: "AVAILABLE"}


def test_restart_resumes_from_disk_and_cleans_staging(env, running):
    publish(env, 2)
    running.tick()
    leftover = env.settings.model_base_path / "fuel" / f"{STAGING_PREFIX}3-abc"
    leftover.mkdir()
    (leftover / "saved_model.pb").write_bytes(b"half")
    again = make_worker(env, CollectorRegistry())
    again.tick()
    assert not leftover.exists() and again.state.stable == 2 and again.state.previous == 1


def test_server_down_is_not_ready_and_store_errors_are_counted(env, running):
    env.server.up = False
    running.tick()
    assert not running.available and "server not reachable" in running.last_error
    assert value(env, "plantserve_model_available", model="fuel") == 0
    env.server.up = True
    env.server.connection_epoch += 1
    env.server.configs, env.server.states = {}, {}  # a restarted server knows nothing
    running.tick()
    running.tick()
    assert running.available and env.server.configs["fuel"][2] == {"stable": 1}
    os.rename(env.tmp / "store", env.tmp / "gone")
    running.tick()
    assert value(env, "plantserve_store_errors_total", model="fuel", kind="not_found") == 1
    assert running.available


def test_a_failing_pin_is_tried_once_per_pointer_change(env, running):
    env.server.wrong.add(2)
    publish(env, 2)
    write_pointer(env.store, "fuel", RolloutPointer().with_pinned(2))
    running.tick()
    assert running.state.bad[2].reason == "golden" and running.state.stable == 1
    reloads = len(env.server.reloads)
    running.tick()
    assert len(env.server.reloads) == reloads, "the same pin is not retried"
    env.server.wrong.clear()
    write_pointer(env.store, "fuel", read_pointer(env.store, "fuel").with_pinned(2))  # the operator pins again
    running.tick()
    assert running.state.stable == 2


def test_rollout_steps_become_events(env):
    publish(env, 1)
    events = Events()
    w = make_worker(env, reporter=events)
    w.tick()
    w.tick()
    publish(env, 2)
    w.tick()
    env.server.wrong.add(3)
    publish(env, 3)
    w.tick()
    assert [e[1] for e in events.events] == ["RolloutStarted", "Promoted", "RolloutStarted", "Rejected"]
    assert events.events[-1][2] is True  # a rejection is a Warning event


def test_a_start_up_version_is_golden_checked_before_ready(env):
    publish(env, 1)
    publish(env, 2)
    env.server.wrong.add(2)
    w = make_worker(env)
    w.tick()
    assert w.state.stable == 2  # chosen without the gates: the server is not up yet
    w.tick()  # loaded: the golden check fails, and the worker moves off it through the full pipeline
    assert w.state.bad[2].reason == "golden" and w.state.stable == 1
    assert w.available and env.server.configs["fuel"][2]["stable"] == 1
    assert value(env, "plantserve_rollout_total", model="fuel", result="rejected", reason="golden") == 1


def test_disk_full_is_counted_and_retried_not_marked_bad(env, running):
    publish(env, 2)
    running.store.downloader.headroom_bytes = 10 ** 18
    running.tick()
    assert value(env, "plantserve_sync_downloads_total", model="fuel", result="disk_full") == 1
    assert 2 not in running.state.bad and "enlarge the volume" in running.last_error
    running.store.downloader.headroom_bytes = 0
    running.tick()
    assert running.state.stable == 2


def test_a_restart_inside_the_window_still_guards_the_promotion(env, running):
    publish(env, 2)
    running.tick()
    again = make_worker(env, CollectorRegistry())
    again.tick()  # bootstrap from the saved state: stable 2, previous 1
    again.tick()  # fresh baseline
    _spike_errors(env, version=2)
    again.tick()
    assert again.state.stable == 1 and again.state.bad[2].reason == "rolled_back"


# -- the state machine: a stored phase, and failures that are recorded, never swallowed ----------------
def test_the_phase_is_stored_shown_and_exported(env):
    publish(env, 1)
    w = make_worker(env)
    assert w.status()["phase"] == "starting"
    w.tick()
    assert w.phase.value == "loading"
    w.tick()
    assert w.status()["phase"] == "serving" and w.verified
    assert value(env, "plantserve_model_phase", model="fuel", phase="serving") == 1
    assert value(env, "plantserve_model_phase", model="fuel", phase="loading") == 0
    publish(env, 2)
    w.tick()
    assert w.status()["phase"] == "watching" and w.state.previous == 1
    env.clock.now += 601
    w.tick()
    assert w.status()["phase"] == "serving"
    env.server.up = False
    w.tick()
    assert w.status()["phase"] == "degraded" and "server not reachable" in w.status()["errors"]["server"]


def test_an_unreadable_stable_manifest_stops_the_rollout(env, running):
    """Before: the compatibility gate was skipped silently. Now the candidate waits, with the reason."""
    (env.settings.model_base_path / "fuel" / "1" / "manifest.json").write_text("{not json")
    sig = {"serving_default": {**SIGNATURES["serving_default"], "inputs": {}}}
    publish(env, 2, signatures=sig)  # would fail the gate, if the gate could look
    running.tick()
    assert running.state.stable == 1 and 2 not in running.state.bad
    assert "compatibility cannot be checked" in running.status()["errors"]["rollout"]
    assert value(env, "plantserve_sidecar_failures_total", model="fuel", reason="compatibility_unverifiable") == 1


def test_blind_judging_is_a_warning_and_a_metric(env, caplog):
    """Before: no server metrics turned automatic rollback off with a DEBUG line."""
    publish(env, 1)
    w = make_worker(env)
    blind = [True]

    def scrape(model):
        if blind[0]:
            raise OSError("connection refused")
        return env.server.snapshot(model)
    w.server._scrape = scrape
    w.tick()
    w.tick()
    publish(env, 2)
    with caplog.at_level("WARNING", logger="serving.sidecar.worker"):
        w.tick()
        w.tick()
    assert w.state.stable == 2
    assert "not judged" in w.status()["errors"]["judge"] or "judged from the first page" in w.status()["errors"]["judge"]
    assert value(env, "plantserve_rollout_judging_blind_total", model="fuel") >= 2
    assert any(r.levelname == "WARNING" and "server metrics" in r.getMessage() for r in caplog.records)
    blind[0] = False
    w.tick()  # the first page read becomes the baseline
    assert "judge" not in w.status()["errors"]
    _spike_errors(env, version=2)
    w.tick()
    assert w.state.stable == 1 and w.state.bad[2].reason == "rolled_back"


def test_a_server_restart_in_the_window_does_not_roll_back(env, running):
    """Counters reset and requests on the missing label failed while the server restarted: neither is the
    promoted version's doing (before: error ratio 1.0 from the new counters, a healthy version rolled back)."""
    publish(env, 2)
    running.tick()
    assert running.state.stable == 2 and running.state.previous == 1
    # the restart: a new connection, a server that knows nothing, and clients failing on "stable"
    env.server.connection_epoch += 1
    env.server.configs, env.server.states = {}, {}
    env.server.requests = {"fuel": {"INVALID_ARGUMENT": 36.0}}
    running.tick()
    running.tick()
    assert running.state.stable == 2 and 2 not in running.state.bad
    assert env.server.configs["fuel"][2] == {"stable": 2, "previous": 1}
    for _ in range(10):
        env.server.predict("fuel", {}, label="stable")
    running.tick()
    assert running.state.stable == 2 and running.available
    _spike_errors(env, version=2)  # a real problem after the restart is still caught
    running.tick()
    assert running.state.stable == 1 and running.state.bad[2].reason == "rolled_back"


def test_recovered_server_clears_its_error(env, running):
    env.server.up = False
    running.tick()
    assert "server" in running.status()["errors"]
    env.server.up = True
    running.tick()
    status = running.status()
    assert status["available"] and "server" not in status["errors"] and status["last_error"] is None


def test_a_load_that_fails_at_once_says_so(env, running):
    """Before: "failed to load within --load-timeout-seconds=300" for a load that failed immediately."""
    env.server.fail_load.add(2)
    publish(env, 2)
    running.tick()
    detail = running.state.bad[2].detail
    assert "failed to load" in detail and "within --load-timeout-seconds" not in detail


def test_no_store_request_while_backing_off(env, running, monkeypatch):
    """Before: during a store outage the rollout read the candidate's manifest on every poll anyway."""
    publish(env, 2)
    running.store.failed(__import__("serving.store", fromlist=["StoreUnreachableError"]).StoreUnreachableError("down"))
    assert running.store.backing_off()
    calls = []
    monkeypatch.setattr(running.store.repo, "manifest", lambda v: calls.append(v))
    running.store.versions = [1, 2]
    running.tick()
    assert calls == [] and running.state.stable == 1


def test_start_up_file_carries_labels_only_when_the_server_allows_them(env, running):
    from serving.protocol import textproto  # noqa: F401 - the text format the server reads

    running.config.write_startup_file(with_labels=False)
    assert "version_labels" not in env.settings.model_config_file.read_text()
    running.config.write_startup_file(with_labels=True)
    text = env.settings.model_config_file.read_text()
    assert 'key: "stable"' in text and "value: 1" in text and "__candidate" not in text


# -- signed models ------------------------------------------------------------------------------------
@pytest.fixture
def signed_env(env):
    from serving.signing import SigningConfig, load_signer
    from tests.tls import write_key_pair

    key, pub = write_key_pair(env.tmp, "line-3")
    operator_key, operator = write_key_pair(env.tmp, "operator")
    env.settings = dataclasses.replace(env.settings, trusted_keys=(pub,), pointer_trusted_keys=(operator,))
    env.signer, env.operator = load_signer(SigningConfig(key=key)), load_signer(SigningConfig(key=operator_key))
    return env


def sign(env, version):
    root = env.tmp / "store" / "fuel" / str(version)
    env.store.write_bytes(f"fuel/{version}/model.sig", env.signer.sign_version(root, f"fuel/{version}").bundle)


def serving_signed_v1(env, events):
    """A worker that has verified, loaded and promoted signed version 1."""
    publish(env, 1)
    sign(env, 1)
    w = make_worker(env, reporter=events)
    w.tick()
    w.tick()
    return w


def test_an_unsigned_candidate_is_refused_and_never_loaded(signed_env):
    env = signed_env
    events = Events()
    w = serving_signed_v1(env, events)
    assert w.state.stable == 1 and w.available
    publish(env, 2)
    w.tick()
    mark = w.status()["bad"]["2"]
    assert mark["reason"] == "signature" and "refused (unsigned)" in mark["detail"]
    assert w.state.stable == 1 and not any(2 in r.get("fuel", ([],))[0] for r in env.server.reloads)
    assert not (env.settings.model_base_path / "fuel" / "2").exists()
    assert value(env, "plantserve_rollout_total", model="fuel", result="rejected", reason="signature") == 1
    assert events.events[-1][1:] == ("Rejected", True)
    reloads = len(env.server.reloads)
    w.tick()
    assert len(env.server.reloads) == reloads, "a refused version is not retried"
    sign(env, 2)  # signing it afterwards is a new publication: it is tried again
    w.tick()
    assert w.state.stable == 2 and "2" not in w.status()["bad"]


def test_a_tampered_stable_version_on_disk_is_refused_at_start_up(signed_env):
    env = signed_env
    for version in (1, 2):
        publish(env, version)
        sign(env, version)
    w = make_worker(env)
    w.tick()
    assert w.state.stable == 2
    data = env.settings.model_base_path / "fuel" / "2" / "variables" / "variables.data-00000-of-00001"
    data.write_bytes(b"changed on the volume while the sidecar was down")
    again = make_worker(env, CollectorRegistry())
    again.tick()  # refuses 2 on disk (and removes it) ...
    assert again.state.bad[2].reason == "signature" and "changed since signing" in again.state.bad[2].detail
    assert not (env.settings.model_base_path / "fuel" / "2").exists()
    again.tick()  # ... and starts from the newest version that verifies
    assert again.bootstrapped and again.state.stable == 1


def test_an_unsigned_pointer_is_ignored_and_said_so(signed_env):
    env = signed_env
    events = Events()
    w = serving_signed_v1(env, events)
    publish(env, 2)
    sign(env, 2)
    write_pointer(env.store, "fuel", RolloutPointer().with_blocked(2))  # unsigned: would block 2
    for _ in range(2):
        w.tick()
    assert w.state.stable == 2, "the unsigned pointer was not followed"
    assert "refused (unsigned)" in w.status()["errors"]["pointer"]
    assert [e[1] for e in events.events].count("PointerRefused") == 1
    assert value(env, "plantserve_pointer_refused_total", model="fuel", reason="unsigned") == 1
    write_pointer(env.store, "fuel", RolloutPointer().with_blocked(2), signer=env.operator)
    w.tick()
    assert w.state.stable == 1 and "pointer" not in w.status()["errors"]


def test_a_pinned_version_refused_at_start_up_is_not_downloaded_again_until_it_changes(signed_env):
    env = signed_env
    publish(env, 1)
    publish(env, 2)  # unsigned
    write_pointer(env.store, "fuel", RolloutPointer().with_pinned(2), signer=env.operator)
    w = make_worker(env)
    w.tick()
    assert w.state.bad[2].reason == "signature" and not w.bootstrapped
    downloads = value(env, "plantserve_sync_downloads_total", model="fuel", result="signature_error")
    w.tick()
    assert value(env, "plantserve_sync_downloads_total", model="fuel", result="signature_error") == downloads
    assert "is pinned but was refused" in w.status()["errors"]["store"]
    sign(env, 2)  # re-signed: tried again, and served
    w.tick()
    assert w.bootstrapped and w.state.stable == 2
