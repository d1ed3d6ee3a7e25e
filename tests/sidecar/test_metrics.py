from prometheus_client import CollectorRegistry

from serving.sidecar.metrics import SidecarMetrics


def value(registry, name, **labels):
    return registry.get_sample_value(name, labels)


def test_state_is_one_hot_and_forgotten_versions_disappear():
    registry = CollectorRegistry()
    m = SidecarMetrics(registry)
    m.set_version_state("fuel", 3, "LOADING")
    m.set_version_state("fuel", 3, "AVAILABLE")
    assert value(registry, "plantserve_model_version_state", model="fuel", version="3", state="AVAILABLE") == 1
    assert value(registry, "plantserve_model_version_state", model="fuel", version="3", state="LOADING") == 0
    m.forget_version("fuel", 3)
    assert value(registry, "plantserve_model_version_state", model="fuel", version="3", state="AVAILABLE") is None


def test_init_model_exposes_every_family_at_zero():
    registry = CollectorRegistry()
    SidecarMetrics(registry).init_model("fuel")
    assert value(registry, "plantserve_sync_downloads_total", model="fuel", result="disk_full") == 0
    assert value(registry, "plantserve_rollout_total", model="fuel", result="rolled_back", reason="automatic") == 0
    assert value(registry, "plantserve_rollout_total", model="fuel", result="rejected", reason="signature") == 0
    assert value(registry, "plantserve_model_label_version", model="fuel", label="stable") == 0
    assert value(registry, "plantserve_pointer_pinned_version", model="fuel") == 0
