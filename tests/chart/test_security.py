"""Security assertions on every rendered pod of every scenario."""
from __future__ import annotations

import re

import pytest

from tests.chart.charts import (SCENARIO_IDS, SCENARIOS, container, containers, deployment_spec, find, one,
                                pod_specs, render, render_scenario)

GPU = "nvidia.com/gpu"


def _pods(values):
    objs = render(values)
    pods = pod_specs(objs)
    assert pods
    return objs, pods


@pytest.mark.parametrize("values", SCENARIOS, ids=SCENARIO_IDS)
def test_pods_run_non_root_read_only_without_capabilities(values):
    _, pods = _pods(values)
    for where, spec in pods:
        psc = spec.get("securityContext", {})
        assert psc.get("runAsNonRoot") is True, where
        assert psc.get("runAsUser", 0) != 0, where
        assert psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
        assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC"), where
        for c in containers(spec):
            sc = c.get("securityContext", {})
            what = f"{where} container {c['name']}"
            assert sc.get("readOnlyRootFilesystem") is True, what
            assert sc.get("allowPrivilegeEscalation") is False, what
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], what
            assert not sc.get("capabilities", {}).get("add"), what
            assert not sc.get("privileged"), what
            assert sc.get("runAsUser", 1) != 0, what


@pytest.mark.parametrize("values", SCENARIOS, ids=SCENARIO_IDS)
def test_every_container_has_resources(values):
    _, pods = _pods(values)
    for where, spec in pods:
        for c in containers(spec):
            res = c.get("resources", {})
            assert res.get("requests", {}).get("cpu") and res["requests"].get("memory"), f"{where} {c['name']}"
            assert res.get("limits", {}).get("memory"), f"{where} {c['name']} has no memory limit"


@pytest.mark.parametrize("values", SCENARIOS, ids=SCENARIO_IDS)
def test_images_are_pinned(values):
    _, pods = _pods(values)
    for where, spec in pods:
        for c in containers(spec):
            image = c["image"]
            assert "@sha256:" in image or re.search(r":[A-Za-z0-9_][A-Za-z0-9_.-]*$", image.split("/")[-1]), \
                f"{where} {c['name']}: {image} has no tag"
            assert not image.endswith(":latest"), f"{where} {c['name']}: {image}"


SECRET_NAMES = re.compile(r"(password|secret|token|access_?key|credential|private)", re.I)


def plain_text_secrets(objs: list[dict]) -> list[str]:
    problems = [f"Secret/{o['metadata']['name']} created from values" for o in find(objs, "Secret")]
    for where, spec in pod_specs(objs):
        for c in containers(spec):
            for env in c.get("env", []):
                if env["name"].endswith("_FILE") and str(env.get("value", "")).startswith("/"):
                    continue  # the path of a mounted secret file, not a secret
                if SECRET_NAMES.search(env["name"]) and ("value" in env or "secretKeyRef" not in env.get("valueFrom", {})):
                    problems.append(f"{where} {c['name']}: {env['name']} is not from a Secret")
            for arg in [*c.get("args", []), *c.get("command", [])]:
                if re.search(r"(secret|password|access-key)[-_a-z]*=\S", str(arg), re.I):
                    problems.append(f"{where} {c['name']}: argument {arg}")
    for cm in find(objs, "ConfigMap"):
        for key, text in (cm.get("data") or {}).items():
            if "PRIVATE KEY" in text or "AKIA" in text:
                problems.append(f"ConfigMap {key}")
    return problems


@pytest.mark.parametrize("values", SCENARIOS, ids=SCENARIO_IDS)
def test_no_plain_text_secrets(values):
    objs, _ = _pods(values)
    assert plain_text_secrets(objs) == []


def test_credentials_come_from_the_existing_secret():
    spec = deployment_spec(render_scenario("02-cpu-only"))
    env = {e["name"]: e for e in container(spec, "sidecar")["env"]}
    assert env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"] == {"name": "plantserve-store", "key": "AWS_ACCESS_KEY_ID"}
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "plantserve-store",
                                                                         "key": "AWS_SECRET_ACCESS_KEY"}


def test_credentials_as_a_file_keep_keys_out_of_the_environment():
    objs = render_scenario("05-s3-existing-secret")
    for where, spec in pod_specs(objs):
        for c in containers(spec):
            names = {e["name"] for e in c.get("env", [])}
            assert not names & {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}, f"{where} {c['name']}"
    spec = deployment_spec(objs)
    sidecar = container(spec, "sidecar")
    env = {e["name"]: e for e in sidecar["env"]}
    assert env["AWS_SHARED_CREDENTIALS_FILE"]["value"] == "/run/plantserve/store/credentials"
    assert env["AWS_ENDPOINT_URL"]["value"] == "https://s3.plant.example:9000"
    volume = next(v for v in spec["volumes"] if v["name"] == "store-credentials")["secret"]
    assert volume == {"secretName": "plant-s3-credentials", "items": [{"key": "aws-credentials", "path": "credentials"}],
                      "defaultMode": 0o440}
    holders = [c["name"] for c in containers(spec) if any(m["name"] == "store-credentials"
                                                          for m in c.get("volumeMounts", []))]
    assert holders == ["sidecar"]
    training = render_scenario("05-s3-existing-secret", sets=("training.job.enabled=true",))
    for where, pod in pod_specs(training):
        if where.startswith("Job/"):
            train = container(pod, "train")
            assert {"name": "store-credentials", "mountPath": "/run/plantserve/store", "readOnly": True} \
                in train["volumeMounts"], where


def test_a_literal_secret_in_values_is_caught():
    """The plain-text check is not vacuous: a key pasted into extraEnv or extraArgs fails it."""
    objs = render_scenario("01-minimal", sets=("sidecar.extraEnv[0].name=AWS_SECRET_ACCESS_KEY",
                                               "sidecar.extraEnv[0].value=wJalrXUtnFEMI",
                                               "sidecar.extraArgs[0]=--secret-key=abc"))
    problems = plain_text_secrets(objs)
    assert any("AWS_SECRET_ACCESS_KEY" in p for p in problems) and any("--secret-key" in p for p in problems)


def test_gpu_limits_only_in_gpu_scenarios():
    gpu = deployment_spec(render_scenario("03-gpu"))
    server = container(gpu, "tensorflow-serving")
    assert server["resources"]["limits"][GPU] == 1
    assert server["image"] == "tensorflow/serving:2.20.0-gpu"
    assert gpu["nodeSelector"]["nvidia.com/gpu.present"] == "true"
    assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in gpu["tolerations"]
    assert GPU not in container(gpu, "sidecar")["resources"].get("limits", {})

    for scenario in ("01-minimal", "02-cpu-only", "04-tls"):
        spec = deployment_spec(render_scenario(scenario))
        for c in containers(spec):
            assert GPU not in c["resources"].get("limits", {}) and GPU not in c["resources"].get("requests", {}), scenario
        assert not container(spec, "tensorflow-serving")["image"].endswith("-gpu")
        assert "tolerations" not in spec and "nodeSelector" not in spec


def test_service_account_token_only_in_the_sidecar_with_kubernetes_features():
    for scenario in ("01-minimal", "03-gpu", "04-tls"):
        objs = render_scenario(scenario)
        spec = deployment_spec(objs)
        assert spec["automountServiceAccountToken"] is False
        assert not any(v.get("projected") for v in spec["volumes"])
        assert not find(objs, "Role") and not find(objs, "RoleBinding")
        assert one(objs, "ServiceAccount")["automountServiceAccountToken"] is False
    objs = render_scenario("05-s3-existing-secret")
    spec = deployment_spec(objs)
    assert spec["automountServiceAccountToken"] is False
    token = next(v for v in spec["volumes"] if v["name"] == "kube-api-access")["projected"]["sources"]
    assert token[0]["serviceAccountToken"]["path"] == "token"
    holders = [c["name"] for c in containers(spec)
               if any(m["name"] == "kube-api-access" for m in c.get("volumeMounts", []))]
    assert holders == ["sidecar"], "the token goes to the sidecar alone, never to TF Serving"
    mount = next(m for m in container(spec, "sidecar")["volumeMounts"] if m["name"] == "kube-api-access")
    assert mount == {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                     "readOnly": True}
    role = one(objs, "Role")
    allowed = {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
    # exactly what serving/sidecar/k8s.py calls: create_namespaced_event and patch_namespaced_pod
    assert allowed == {("", "events", "create"), ("", "pods", "patch")}
    binding = one(objs, "RoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["metadata"]["name"]}
    # Training and test pods never get a token, even then.
    for where, spec in pod_specs(render_scenario("06-full")):
        assert spec.get("automountServiceAccountToken") is False, where


def test_the_sidecar_calls_only_what_the_role_grants():
    """The Role is read off the code: every Kubernetes call of the sidecar is one the Role allows."""
    from tests.support import REPO

    source = (REPO / "serving" / "sidecar" / "k8s.py").read_text()
    calls = set(re.findall(r"self\.api\.(\w+)\(", source))
    assert calls == {"create_namespaced_event", "patch_namespaced_pod"}


def test_tls_private_key_stays_in_memory():
    spec = deployment_spec(render_scenario("04-tls"))
    vols = {v["name"]: v for v in spec["volumes"]}
    assert vols["tls"]["emptyDir"]["medium"] == "Memory"
    assert vols["tls-secret"]["secret"]["secretName"] == "plantserve-grpc-tls"
    assert vols["tls-secret"]["secret"]["defaultMode"] == 0o440
    server = container(spec, "tensorflow-serving")
    mounts = {m["name"]: m for m in server["volumeMounts"]}
    assert "tls-secret" not in mounts and mounts["tls"]["readOnly"] is True


DIGEST = "sha256:" + "ab" * 32
EVERY_IMAGE = ("server.image", "sidecar.image", "training.image", "tests.image", "minio.image")


def test_every_image_is_pinnable_by_digest_and_pulls_with_the_secrets():
    objs = render_scenario("06-full", sets=(*(f"{k}.digest={DIGEST}" for k in EVERY_IMAGE),
                                            "imagePullSecrets[0].name=plant-registry"))
    pods = pod_specs(objs)
    assert {where.split("/")[0] for where, _ in pods} >= {"Deployment", "Job", "CronJob", "Pod"}
    for where, spec in pods:
        assert spec.get("imagePullSecrets") == [{"name": "plant-registry"}], where
        for c in containers(spec):
            assert c["image"].endswith(f"@{DIGEST}"), f"{where} {c['name']}: {c['image']}"


def test_ephemeral_storage_follows_the_volumes():
    spec = deployment_spec(render_scenario("01-minimal"))
    sidecar = container(spec, "sidecar")["resources"]
    # 10Gi of models + 1Gi of /tmp; the limit adds 512Mi for logs
    assert sidecar["requests"]["ephemeral-storage"] == "11264Mi"
    assert sidecar["limits"]["ephemeral-storage"] == "11776Mi"
    server = container(spec, "tensorflow-serving")["resources"]
    assert server["requests"]["ephemeral-storage"] == "256Mi" and server["limits"]["ephemeral-storage"] == "1Gi"
    small = deployment_spec(render_scenario("01-minimal", sets=("modelVolume.sizeLimit=2G", "tmpVolume.sizeLimit=512Mi")))
    assert container(small, "sidecar")["resources"]["requests"]["ephemeral-storage"] == f"{2 * 10**9 // 2**20 + 512}Mi"
    in_memory = deployment_spec(render_scenario("01-minimal", sets=("modelVolume.medium=Memory",)))
    assert container(in_memory, "sidecar")["resources"]["requests"]["ephemeral-storage"] == "1024Mi"
    for where, pod in pod_specs(render_scenario("06-full")):
        if where.startswith(("Job/", "CronJob/")):
            assert container(pod, "train")["resources"]["requests"]["ephemeral-storage"] == "10240Mi", where


def test_runtime_class_name():
    assert "runtimeClassName" not in deployment_spec(render_scenario("03-gpu"))
    objs = render_scenario("06-full", sets=("runtimeClassName=nvidia", "training.runtimeClassName=nvidia"))
    for where, spec in pod_specs(objs):
        if where.startswith(("Deployment/plantserve", "Job/", "CronJob/")) and not where.endswith("minio"):
            assert spec["runtimeClassName"] == "nvidia", where
