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


def test_rollback_blocks_the_version_the_fleet_is_on(store, capsys):
    root = str(store.root)
    assert run("rollback", "fuel", "--store", root) == 0
    p = read_pointer(store, "fuel")
    assert p.blocked == (3,) and p.rollback == {"from": 3}
    assert run("pin", "fuel", "1", "--store", root) == 0
    assert run("rollback", "fuel", "--store", root) == 0  # pinned: roll back from the pin
    p = read_pointer(store, "fuel")
    assert p.pinned is None and p.blocked == (1, 3)


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
    from types import SimpleNamespace as NS

    from serving.sidecar.k8s import ANNOTATION

    def pod(name, annotations, ready):
        return NS(metadata=NS(name=name, annotations=annotations),
                  status=NS(conditions=[NS(type="Ready", status="True" if ready else "False")]))

    class Api:
        def list_namespaced_pod(self, namespace, label_selector):
            assert (namespace, label_selector) == ("plants", "app.kubernetes.io/instance=ps")
            return NS(items=[pod("a", {ANNOTATION: '{"fuel": {"stable": 2, "available": true}}'}, True),
                             pod("b", None, False)])

    pods = rollout_cli.pods_from_cluster(Api(), "plants", "app.kubernetes.io/instance=ps")
    assert pods[0] == {"pod": "a", "ready": True, "models": {"fuel": {"stable": 2, "available": True}}}
    assert pods[1]["ready"] is False and "annotation" in pods[1]["error"]


def test_pointer_edits_are_signed_with_signing_key(store, tmp_path, capsys):
    from serving.signing import load_trust
    from tests.tls import write_key_pair

    key, pub = write_key_pair(tmp_path, "operator", password=b"pw")
    (tmp_path / "pw").write_text("pw")
    root = str(store.root)
    for action in (["pin", "fuel", "2"], ["block", "fuel", "3"], ["rollback", "fuel"], ["unpin", "fuel"]):
        assert run(*action, "--store", root, "--signing-key", str(key),
                   "--signing-key-password-file", str(tmp_path / "pw")) == 0
        assert read_pointer(store, "fuel", trust=load_trust([pub])).generation >= 1
    assert run("pin", "fuel", "2", "--store", root, "--signing-key", str(key)) == 2  # encrypted, no password
    assert "--signing-key-password-file" in capsys.readouterr().err
    assert read_pointer(store, "fuel", trust=load_trust([pub])).pinned is None  # nothing was written
