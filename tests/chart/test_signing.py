"""The chart's signing values: trust anchors mounted into the sidecar alone, the private key into the
training pods alone, every flag the sidecar and `plantserve train` read, and a refusal to render
half a configuration."""
from __future__ import annotations

import argparse

import pytest

from serving.sidecar.settings import add_arguments
from tests.chart.charts import CHART, container, containers, deployment_spec, helm, pod_specs, render_scenario


def _mounts(c: dict) -> dict[str, str]:
    return {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}


def test_the_sidecar_verifies_with_mounted_anchors_and_never_sees_the_private_key():
    objs = render_scenario("07-signing")
    spec = deployment_spec(objs)
    sidecar = container(spec, "sidecar")
    flags = [a for a in sidecar["args"] if "trusted" in a]
    assert flags == ["--trusted-keys=/run/plantserve/signing/trusted-keys",
                     "--pointer-trusted-keys=/run/plantserve/signing/pointer-trusted-keys"]
    assert _mounts(sidecar)["signing-trusted-keys"] == "/run/plantserve/signing/trusted-keys"
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["signing-trusted-keys"]["configMap"]["name"] == "plant-model-signing-keys"
    assert volumes["signing-pointer-trusted-keys"]["secret"]["secretName"] == "plant-rollout-operators"
    assert "signing-key" not in volumes
    assert not any("signing-" in m for c in containers(spec) if c["name"] != "sidecar" for m in _mounts(c))
    # the rendered flags parse with the sidecar's own settings (the trust files are read at start-up)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args, _ = parser.parse_known_args([a for a in sidecar["args"][1:] if a.startswith("--") and "=" in a])
    assert args.trusted_keys == ["/run/plantserve/signing/trusted-keys"]


def test_training_signs_with_the_key_secret():
    objs = render_scenario("07-signing", sets=("training.cronJob.enabled=true",))
    trainings = [(name, spec) for name, spec in pod_specs(objs) if name.startswith(("Job/", "CronJob/"))]
    assert len(trainings) == 4  # a Job and a CronJob per model
    for name, spec in trainings:
        train = container(spec, "train")
        assert "--signing-key=/run/plantserve/signing-key/signing-key.pem" in train["args"], name
        env = {e["name"]: e.get("value") for e in train["env"]}
        assert env["PLANTSERVE_SIGNING_KEY_PASSWORD_FILE"] == "/run/plantserve/signing-key/password", name
        assert _mounts(train)["signing-key"] == "/run/plantserve/signing-key"
        secret = next(v for v in spec["volumes"] if v["name"] == "signing-key")["secret"]
        assert secret == {"secretName": "plant-model-signing-key", "defaultMode": 0o440}


def test_certificate_mode():
    objs = render_scenario("01-minimal", sets=(
        "signing.trustedCA.secret=plant-ca", "signing.trustedIdentity=trainer@plant.example",
        "signing.key.existingSecret=k", "signing.key.certificateKey=leaf.crt", "signing.key.chainKey=chain.pem",
        "training.job.enabled=true"))
    sidecar = container(deployment_spec(objs), "sidecar")
    assert "--trusted-ca=/run/plantserve/signing/trusted-ca/ca.crt" in sidecar["args"]
    assert "--trusted-identity=trainer@plant.example" in sidecar["args"]
    train = container(next(s for n, s in pod_specs(objs) if n.startswith("Job/")), "train")
    assert {"--signing-cert=/run/plantserve/signing-key/leaf.crt",
            "--signing-chain=/run/plantserve/signing-key/chain.pem"} <= set(train["args"])


def test_no_signing_values_render_no_signing():
    spec = deployment_spec(render_scenario("01-minimal"))
    assert not [a for a in container(spec, "sidecar")["args"] if "trusted" in a]
    assert not [v for v in spec["volumes"] if v["name"].startswith("signing")]


@pytest.mark.parametrize("sets, message", [
    (("signing.required=true",), "signing.required: give the sidecar a trust anchor"),
    (("signing.required=true", "signing.trustedKeys.configMap=k", "training.job.enabled=true"),
     "set signing.key.existingSecret"),
    (("signing.trustedKeys.configMap=a", "signing.trustedKeys.secret=b"), "signing.trustedKeys: set configMap or secret"),
    (("signing.trustedKeys.configMap=a", "signing.trustedIdentity=x"), "it needs signing.trustedCA"),
    (("signing.key.certificateKey=c",), "set it"),
    (("signing.requird=true",), "schema"),
])
def test_half_a_configuration_is_refused(sets, message):
    args = ["template", "plantserve", str(CHART), "--set", "sidecar.store=s3://b"]
    for s in sets:
        args += ["--set", s]
    result = helm(*args, check=False)
    assert result.returncode != 0 and message in result.stderr, result.stderr
