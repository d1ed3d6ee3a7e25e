"""Issue 13, acceptance 2: signed models on one pod (``plantserve serve`` + ``plantserve sidecar``) over
S3 on loopback. The sidecar, trusting a key, the plant's CA and an operator key for the pointer, refuses
each of: unsigned; a file changed after signing; manifest.json changed after signing; signed by another
key; signed with an expired certificate; an unsigned pointer. Each refused version is marked bad with
reason ``signature``, never becomes a version directory the server could load, and a client on label
``stable`` sees 0 failed requests throughout. A good signed version is then promoted, and a sidecar
restart refuses a stable version changed on its volume.

The tests run in order against one pod: each publishes the next version number.
"""
from __future__ import annotations

import datetime

import pytest

from serving.signing import SigningConfig
from serving.sidecar.pointer import RolloutPointer, write_pointer
from tests.sidecar.harness import Load, Pod, fast_args, http_get, pod_env, s3_store
from tests.sidecar.integration import publish as pub
from tests.sidecar.integration.test_rollout import DirWatch
from tests.signing.versions import IDENTITY, make_keys, make_pki
from tests.support import wait_until


@pytest.fixture(scope="module")
def world(moto, saved_models, tmp_path_factory):
    keys, pki = make_keys(tmp_path_factory.mktemp("keys")), make_pki(tmp_path_factory.mktemp("pki"))
    operator = make_keys(tmp_path_factory.mktemp("operator"))
    uri = moto.make_bucket("signed")
    store = s3_store(moto, uri)
    tmp = tmp_path_factory.mktemp("staged")
    pub.signed(store, 1, saved_models, "v_scale1", tmp, SigningConfig(key=keys.key))
    trust = ["--trusted-keys", str(keys.pub), "--trusted-ca", str(pki.ca), "--trusted-identity", IDENTITY,
             "--pointer-trusted-keys", str(operator.pub)]
    pod = Pod("signed", tmp_path_factory.mktemp("signed"), uri, "fuel",
              fast_args("--s3-endpoint-url", moto.endpoint, "--rollback-window-seconds", "300", *trust), pod_env(moto))
    try:
        pod.start()
        yield {"store": store, "pod": pod, "saved": saved_models, "keys": keys, "pki": pki, "operator": operator,
               "tmp": tmp}
    finally:
        pod.stop()


def _refusals(world) -> list:
    w, key = world, SigningConfig(key=world["keys"].key)
    signed_at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)  # while it was valid
    expired = SigningConfig(key=w["pki"].expired_key, certificate=w["pki"].expired_cert, chain=(w["pki"].chain,))
    return [
        ("unsigned", lambda v: pub.good(w["store"], v, w["saved"], "v_scale2")),
        ("tampered", lambda v: pub.file_changed_after_signing(w["store"], v, w["saved"], "v_scale2", w["tmp"], key)),
        ("tampered", lambda v: pub.manifest_changed_after_signing(w["store"], v, w["saved"], "v_scale2", w["tmp"],
                                                                  key)),
        ("unknown_key", lambda v: pub.signed(w["store"], v, w["saved"], "v_scale2", w["tmp"],
                                             SigningConfig(key=w["keys"].other_key))),
        ("expired_certificate", lambda v: pub.signed(w["store"], v, w["saved"], "v_scale2", w["tmp"], expired,
                                                     now=signed_at)),
    ]


def test_1_every_bad_signature_is_refused_while_stable_serves(world):
    pod = world["pod"]
    assert pod.model()["stable"] == 1
    refusals = _refusals(world)
    with DirWatch(pod.base / "fuel") as watch, Load(pod.grpc_port, threads=2) as load:
        wait_until(lambda: load.ok > 20, what="steady load")
        for version, (reason, publish) in enumerate(refusals, start=2):
            publish(version)
            mark = pod.wait_bad(version)
            assert mark["reason"] == "signature" and f"refused ({reason})" in mark["detail"], (version, mark)
            assert pod.model()["stable"] == 1
        ok_before = load.ok
        wait_until(lambda: load.ok > ok_before + 20, what="load still answered")
    assert load.failures == [] and set(load.versions) == {1}
    assert not {str(v) for v in range(2, 2 + len(refusals))} & watch.seen, "a refused version became a version dir"
    m = pod.model()
    assert m["last_rollout"]["result"] == "rejected" and m["last_rollout"]["detail"].startswith("signature:")
    assert "marked bad (signature)" in m["errors"]["rollout"]
    assert pod.metric("plantserve_rollout_total", model="fuel", result="rejected", reason="signature") == len(refusals)
    assert pod.metric("plantserve_sync_downloads_total", model="fuel", result="signature_error") == len(refusals)
    log = pod.sidecar.output()
    assert "version 2 marked bad (signature): refused (unsigned)" in log
    assert set(m["server_states"]) == {"1"}, "no refused version was ever loaded"


def test_2_an_unsigned_pointer_is_ignored_while_stable_serves(world):
    pod, store = world["pod"], world["store"]
    with Load(pod.grpc_port, threads=2) as load:
        wait_until(lambda: load.ok > 20, what="steady load")
        write_pointer(store, "fuel", RolloutPointer().with_blocked(1))  # would take version 1 away: no version left
        wait_until(lambda: "refused (unsigned)" in (pod.model()["errors"].get("pointer") or ""),
                   what="the unsigned pointer refused in /status")
        ok_before = load.ok
        wait_until(lambda: load.ok > ok_before + 20, what="load still answered")
    m = pod.model()
    assert load.failures == [] and set(load.versions) == {1}
    assert m["stable"] == 1 and m["available"] and m["pointer"]["blocked"] == []
    assert pod.metric("plantserve_pointer_refused_total", model="fuel", reason="unsigned") == 1
    assert "rollout.json refused (unsigned)" in pod.sidecar.output()


def test_3_good_signatures_are_promoted_and_a_signed_pointer_followed(world):
    pod, store, w = world["pod"], world["store"], world
    operator = SigningConfig(key=w["operator"].key)
    from serving.signing import load_signer

    write_pointer(store, "fuel", RolloutPointer(), signer=load_signer(operator))  # the operator clears it
    wait_until(lambda: "pointer" not in pod.model()["errors"], what="the signed pointer followed")
    cert = SigningConfig(key=w["pki"].key, certificate=w["pki"].cert, chain=(w["pki"].chain,))
    with Load(pod.grpc_port, threads=2) as load:
        wait_until(lambda: load.ok > 20, what="steady load")
        pub.signed(store, 7, w["saved"], "v_scale3", w["tmp"], cert)  # certificate mode, from the plant's CA
        pod.wait_stable(7)
        wait_until(lambda: load.versions[-1] == 7, what="load answered by version 7")
    assert load.failures == [] and load.switched(1, 7)
    assert "signed by certificate CN=training line 3" in pod.sidecar.output()


def test_4_a_restarted_sidecar_refuses_a_stable_version_changed_on_its_volume(world):
    pod = world["pod"]
    pod.stop()
    pod.server = None  # the pod restarts: the sidecar first, the server once /startupz passes
    shard = next((pod.base / "fuel" / "7" / "variables").glob("variables.data-*"))
    data = bytearray(shard.read_bytes())
    data[0] ^= 0xFF
    shard.write_bytes(bytes(data))
    pod.start_sidecar()
    pod.wait_probe("startupz")
    m = pod.model()
    assert m["bad"]["7"]["reason"] == "signature" and "on disk refused (tampered)" in m["bad"]["7"]["detail"]
    assert m["stable"] == 1 and not (pod.base / "fuel" / "7").exists()
    pod.start_server()
    pod.wait_probe("readyz")
    assert http_get(f"{pod.url}/readyz")[0] == 200
