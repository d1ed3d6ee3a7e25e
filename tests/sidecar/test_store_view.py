"""StoreView: backoff after store errors, download outcomes by kind, and the sync metrics."""
from __future__ import annotations

from prometheus_client import CollectorRegistry

from serving.sidecar.metrics import SidecarMetrics
from serving.sidecar.settings import Settings
from serving.sidecar.store_view import StoreView
from serving.sidecar.sync import Downloader
from serving.store import StoreUnreachableError, open_store
from tests.sidecar.fakes import publish_model


class Flaky:
    """A store whose every call raises StoreUnreachableError while ``down``."""

    def __init__(self, inner):
        self.inner, self.down = inner, False

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            if self.down:
                raise StoreUnreachableError("connection refused")
            return attr(*args, **kwargs)
        return call


def make(tmp_path, clock):
    store = Flaky(open_store(str(tmp_path / "store"), create=True))
    settings = Settings(store="x", models=("fuel",), model_base_path=tmp_path / "m",
                        model_config_file=tmp_path / "m" / "c", poll_interval_seconds=1.0)
    registry = CollectorRegistry()
    metrics = SidecarMetrics(registry)
    view = StoreView("fuel", store, settings, Downloader(store, "fuel", tmp_path / "m" / "fuel"), metrics,
                     lambda: clock[0])
    return store, view, registry


def test_backoff_doubles_and_is_capped(tmp_path):
    clock = [0.0]
    store, view, registry = make(tmp_path, clock)
    store.down = True
    retries = []
    for _ in range(6):
        assert view.refresh() is False
        retries.append(view.retry_at - clock[0])
        clock[0] = view.retry_at
    assert retries == [1, 2, 4, 8, 8, 8]
    assert registry.get_sample_value("plantserve_store_reachable") == 0
    assert registry.get_sample_value("plantserve_store_errors_total", {"model": "fuel", "kind": "unreachable"}) == 6
    clock[0] = view.retry_at - 0.5
    assert view.refresh() is False  # still backing off: the store is not even asked
    store.down = False
    clock[0] += 100
    assert view.refresh() is True
    assert registry.get_sample_value("plantserve_store_reachable") == 1
    assert registry.get_sample_value("plantserve_sync_last_success_timestamp_seconds", {"model": "fuel"}) == clock[0]


def test_download_outcomes(tmp_path):
    clock = [0.0]
    store, view, registry = make(tmp_path, clock)
    publish_model(store.inner, tmp_path, "fuel", 1)
    assert view.refresh() and view.versions == [1]
    store.down = True
    assert view.download(1).result == "store_error"
    store.down = False
    outcome = view.download(1)
    assert outcome.ok and (tmp_path / "m" / "fuel" / "1" / "saved_model.pb").is_file()
    counts = {r: registry.get_sample_value("plantserve_sync_downloads_total", {"model": "fuel", "result": r})
              for r in ("ok", "store_error")}
    assert counts == {"ok": 1, "store_error": 1}


def test_signature_refusals_and_pointer_refusals_are_counted(tmp_path):
    import dataclasses

    from serving.signing import SigningConfig, load_signer, load_trust
    from serving.sidecar.pointer import RolloutPointer, write_pointer
    from tests.tls import write_key_pair

    key, pub = write_key_pair(tmp_path, "line-3")
    clock = [0.0]
    store, view, registry = make(tmp_path, clock)
    settings = dataclasses.replace(view.settings, trusted_keys=(pub,), pointer_trusted_keys=(pub,))
    downloader = Downloader(store, "fuel", tmp_path / "m" / "fuel", trust=settings.trust)
    view = StoreView("fuel", store, settings, downloader, SidecarMetrics(registry := CollectorRegistry()),
                     lambda: clock[0])
    publish_model(store.inner, tmp_path, "fuel", 1)  # unsigned
    assert view.refresh() and view.versions == [1]
    before = view.manifest_digest(1)
    assert before.endswith(":unsigned")
    outcome = view.download(1)
    assert outcome.result == "signature_error" and "refused (unsigned)" in outcome.detail
    assert registry.get_sample_value("plantserve_sync_downloads_total",
                                     {"model": "fuel", "result": "signature_error"}) == 1
    # signing it later changes what a bad mark is judged on, so the version is tried again
    signer = load_signer(SigningConfig(key=key))
    store.inner.write_bytes("fuel/1/model.sig", signer.sign_version(store.inner.root / "fuel" / "1", "fuel/1").bundle)
    assert view.manifest_digest(1) != before and view.download(1).ok
    # an unsigned pointer: refused once per condition, whatever the number of polls
    write_pointer(store.inner, "fuel", RolloutPointer().with_pinned(1))
    for _ in range(3):
        assert view.refresh() and view.pointer == RolloutPointer() and "refused (unsigned)" in view.pointer_refusal
    assert registry.get_sample_value("plantserve_pointer_refused_total", {"model": "fuel", "reason": "unsigned"}) == 1
    write_pointer(store.inner, "fuel", RolloutPointer().with_pinned(1), signer=signer)
    assert view.refresh() and view.pointer.pinned == 1 and view.pointer_refusal is None
