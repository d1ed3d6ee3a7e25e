"""``plantserve rollout``, in-process: pointer edits on a local store, status from sidecar URLs."""
import argparse
import json

import pytest

from serving.sidecar import rollout_cli
from serving.sidecar.http import handler_for, serve_http
from serving.sidecar.pointer import read_pointer
from serving.store import open_store
from tests.sidecar.fakes import publish_model
from tests.support import free_port


def run(*argv):
    parser = argparse.ArgumentParser()
    rollout_cli.add_arguments(parser)
    return rollout_cli.run(parser.parse_args(list(argv)))


@pytest.fixture
def store(tmp_path):
    s = open_store(str(tmp_path / "store"), create=True)
    for v in (1, 2, 3):
        publish_model(s, tmp_path, "fuel", v)
    return s


def test_pin_unpin_block_unblock(store, capsys):
    root = str(store.root)
    assert run("pin", "fuel", "2", "--store", root) == 0
    assert json.loads(capsys.readouterr().out)["pinned"] == 2
    assert run("block", "fuel", "3", "--store", root) == 0
    assert run("unpin", "fuel", "--store", root) == 0
    p = read_pointer(store, "fuel")
    assert (p.pinned, p.blocked, p.generation) == (None, (3,), 3)
    assert run("unblock", "fuel", "3", "--store", root) == 0
    assert read_pointer(store, "fuel").blocked == ()


class Sidecars:
    """Real sidecar /status endpoints on loopback, each reporting the stable version its pod serves."""

    def __init__(self, *stables):
        self.servers, self.urls = [], []
        for stable in stables:
            status = {"ready": True, "models": {"fuel": {"stable": stable, "previous": None, "available": True}}}
            port = free_port()
            self.servers.append(serve_http("127.0.0.1", port, handler_for(lambda s=status: s, lambda: True,
                                                                          lambda: True, lambda: True, None)))
            self.urls.append(f"http://127.0.0.1:{port}")

    def __enter__(self):
        return ",".join(self.urls)

    def __exit__(self, *exc):
        for server in self.servers:
            server.shutdown()


def test_rollback_blocks_the_version_the_fleet_serves(store, capsys):
    """The fleet serves 2; 3 is newer in the store but the sidecars rejected it. Rollback blocks 2 (before:
    it blocked 3, the never-served candidate, changed nothing and exited 0)."""
    root = str(store.root)
    with Sidecars(2, 2) as urls:
        assert run("rollback", "fuel", "--store", root, "--sidecars", urls) == 0
    p = read_pointer(store, "fuel")
    assert p.blocked == (2,) and p.rollback == {"from": 2}
    assert "the pods serve version 2" in capsys.readouterr().err
    assert run("rollback", "fuel", "3", "--store", root) == 0  # an explicit version needs no pods
    assert read_pointer(store, "fuel").blocked == (2, 3)


def test_rollback_refuses_when_it_cannot_know_what_is_served(store, capsys):
    root = str(store.root)
    assert run("rollback", "fuel", "--store", root) == 2
    assert "what the fleet serves" in capsys.readouterr().err
    with Sidecars(2, 3) as urls:
        assert run("rollback", "fuel", "--store", root, "--sidecars", urls) == 2
    assert "different fuel versions" in capsys.readouterr().err
    dead = f"http://127.0.0.1:{free_port()}"
    assert run("rollback", "fuel", "--store", root, "--sidecars", dead) == 2
    assert "no pod reports" in capsys.readouterr().err
    assert read_pointer(store, "fuel").generation == 0, "nothing was written"


def test_bad_input_exits_2_with_a_reason(store, capsys):
    root = str(store.root)
    assert run("pin", "fuel", "9", "--store", root) == 2
    assert "not a complete, valid version" in capsys.readouterr().err
    assert run("pin", "fuel", "--store", root) == 2
    assert run("pin", "fuel", "1") == 2
    assert "--store" in capsys.readouterr().err
    assert run("status") == 2


def test_status_from_sidecar_urls(store, capsys):
    port = free_port()
    status = {"ready": True, "models": {"fuel": {"stable": 2, "previous": 1, "available": True,
                                                 "last_rollout": {"result": "promoted", "version": 2},
                                                 "last_error": None}}}
    server = serve_http("127.0.0.1", port, handler_for(lambda: status, lambda: True, lambda: True, lambda: True, None))
    dead = f"http://127.0.0.1:{free_port()}"
    try:
        assert run("status", "--sidecars", f"http://127.0.0.1:{port},{dead}", "--store", str(store.root)) == 0
    finally:
        server.shutdown()
    out = capsys.readouterr().out
    assert "promoted v2" in out and "unreachable" in out and "pointer fuel: pinned=None" in out


def test_pods_from_cluster_reads_annotations():
    from serving.sidecar.k8s import ANNOTATION

    def pod(name, annotations, ready):
        return {"metadata": {"name": name, "annotations": annotations},
                "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}

    pods = rollout_cli.pods_from_cluster([pod("a", {ANNOTATION: '{"fuel": {"stable": 2, "available": true}}'}, True),
                                          pod("b", None, False)])
    assert pods[0] == {"pod": "a", "ready": True, "models": {"fuel": {"stable": 2, "available": True}}}
    assert pods[1]["ready"] is False and "annotation" in pods[1]["error"]


def test_pointer_edits_are_signed_with_signing_key(store, tmp_path, capsys):
    from serving.signing import load_trust
    from tests.tls import write_key_pair

    key, pub = write_key_pair(tmp_path, "operator", password=b"pw")
    (tmp_path / "pw").write_text("pw")
    root = str(store.root)
    for action in (["pin", "fuel", "2"], ["block", "fuel", "3"], ["rollback", "fuel", "2"], ["unpin", "fuel"]):
        assert run(*action, "--store", root, "--signing-key", str(key),
                   "--signing-key-password-file", str(tmp_path / "pw")) == 0
        assert read_pointer(store, "fuel", trust=load_trust([pub])).generation >= 1
    assert run("pin", "fuel", "2", "--store", root, "--signing-key", str(key)) == 2  # encrypted, no password
    assert "--signing-key-password-file" in capsys.readouterr().err
    assert read_pointer(store, "fuel", trust=load_trust([pub])).pinned is None  # nothing was written
