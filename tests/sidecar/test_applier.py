import grpc
import pytest

from serving.sidecar.applier import ServingConfig
from serving.sidecar.tfserving import ServerError


class FakeServer:
    """Records reloads; refuses labels on unavailable versions like TF Serving."""

    def __init__(self):
        self.available: dict[str, set[int]] = {}
        self.reloads = []
        self.connection_epoch = 0

    def status(self, name):
        return {v: ("AVAILABLE", "") for v in self.available.get(name, set())}

    def reload(self, config, timeout_seconds):
        for c in config.model_config_list.config:
            for label, v in c.version_labels.items():
                if v not in self.available.get(c.name, set()):
                    raise ServerError(f"label {label} -> {v} not available", grpc.StatusCode.FAILED_PRECONDITION)
        self.reloads.append({c.name: (list(c.model_version_policy.specific.versions), dict(c.version_labels))
                             for c in config.model_config_list.config})


@pytest.fixture
def server():
    return FakeServer()


def test_labels_wait_until_available(server, tmp_path):
    cfg = ServingConfig(server, tmp_path / "models.config")
    cfg.set("fuel", "/m/fuel", (1,), {"stable": 1})
    assert cfg.ensure(5)
    assert server.reloads[-1] == {"fuel": ([1], {})} and cfg.pending_labels("fuel") == {"stable": 1}
    server.available["fuel"] = {1}
    assert cfg.ensure(5)
    assert server.reloads[-1] == {"fuel": ([1], {"stable": 1})} and cfg.pending_labels("fuel") == {}
    assert not cfg.ensure(5)


def test_a_label_stays_put_until_its_new_version_is_available(server, tmp_path):
    server.available["fuel"] = {1}
    cfg = ServingConfig(server, tmp_path / "models.config")
    cfg.set("fuel", "/m/fuel", (1,), {"stable": 1})
    cfg.apply(5)
    cfg.set("fuel", "/m/fuel", (1, 2), {"stable": 2, "previous": 1})
    cfg.apply(5)
    assert server.reloads[-1] == {"fuel": ([1, 2], {"stable": 1, "previous": 1})}
    server.available["fuel"].add(2)
    cfg.apply(5)
    assert server.reloads[-1] == {"fuel": ([1, 2], {"stable": 2, "previous": 1})}


def test_a_dropped_connection_forces_a_reapply(server, tmp_path):
    server.available["fuel"] = {1}
    cfg = ServingConfig(server, tmp_path / "models.config")
    cfg.set("fuel", "/m/fuel", (1,), {"stable": 1})
    cfg.ensure(5)
    server.connection_epoch += 1
    assert cfg.ensure(5) and len(server.reloads) == 2


def test_startup_file_has_no_labels_and_no_shadows(server, tmp_path):
    cfg = ServingConfig(server, tmp_path / "models.config")
    cfg.set("fuel", "/m/fuel", (3,), {"stable": 3})
    cfg.set("fuel__candidate", "/m/fuel", (4,), {})
    cfg.write_startup_file()
    text = (tmp_path / "models.config").read_text()
    assert 'name: "fuel"' in text and "candidate" not in text and "version_labels" not in text
