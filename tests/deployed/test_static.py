"""What local processes cannot show, asserted on the rendered objects of every ci/ scenario and overlay:
how Kubernetes resolves names (ports on init containers), what selects what, RBAC scope and
NetworkPolicy coverage."""
from __future__ import annotations

import pytest

from tests.deployed.rendering import Deployment, Rendering, deployments, render

DEPLOYMENTS = deployments()


def _pods(r: Rendering) -> list[tuple[str, dict]]:
    """(kind/name, pod template) of every workload."""
    out = []
    for o in r.objects:
        spec = o.get("spec", {})
        if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            out.append((f"{o['kind']}/{o['metadata']['name']}", spec["template"]))
        elif o["kind"] == "CronJob":
            out.append((f"CronJob/{o['metadata']['name']}", spec["jobTemplate"]["spec"]["template"]))
        elif o["kind"] == "Pod":
            out.append((f"Pod/{o['metadata']['name']}", {"metadata": o["metadata"], "spec": spec}))
    return out


def _selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=str)
def test_service_ports_resolve_on_app_containers(deployment: Deployment) -> None:
    """A targetPort name must name a port of an app container: Kubernetes before 1.32 does not look at
    init containers (native sidecars) for it (kubernetes/kubernetes#127958), and the chart allows 1.29."""
    r = render(deployment)
    for svc in r.find("Service"):
        backends = [t for _, t in _pods(r) if _selects(svc["spec"].get("selector"), t["metadata"].get("labels", {}))]
        assert backends, f"Service {svc['metadata']['name']} selects no pod"
        for template in backends:
            app_ports = {p["containerPort"]: p.get("name") for c in template["spec"]["containers"]
                         for p in c.get("ports", [])}
            all_ports = {p["containerPort"] for c in [*template["spec"].get("initContainers", []),
                                                      *template["spec"]["containers"]] for p in c.get("ports", [])}
            for port in svc["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                if isinstance(target, str):
                    assert target in app_ports.values(), (
                        f"Service {svc['metadata']['name']} port {port['name']}: {target!r} names no app-container port")
                else:
                    assert target in all_ports, f"Service {svc['metadata']['name']}: nothing listens on {target}"


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=str)
def test_probe_ports_resolve_in_their_own_container(deployment: Deployment) -> None:
    r = render(deployment)
    for where, template in _pods(r):
        spec = template["spec"]
        every = {p["containerPort"] for c in [*spec.get("initContainers", []), *spec["containers"]]
                 for p in c.get("ports", [])}
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            names = {p.get("name") for p in c.get("ports", [])}
            for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                probe = c.get(kind, {})
                action = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc")
                if not action:
                    continue
                port = action["port"]
                assert (port in names) if isinstance(port, str) else (port in every), \
                    f"{where} {c['name']} {kind}: port {port!r} is not declared"


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=str)
def test_selectors_pick_only_their_own_pods(deployment: Deployment) -> None:
    r = render(deployment)
    pods = _pods(r)
    serving = r.serving_deployment()
    serving_labels = serving["spec"]["template"]["metadata"]["labels"]
    assert _selects(serving["spec"]["selector"]["matchLabels"], serving_labels)
    others = [(w, t) for w, t in pods if t is not serving["spec"]["template"]]
    for svc in r.find("Service"):
        if svc["metadata"]["name"].endswith("-minio"):
            continue
        assert _selects(svc["spec"]["selector"], serving_labels), svc["metadata"]["name"]
        for where, template in others:
            assert not _selects(svc["spec"]["selector"], template["metadata"].get("labels", {})), \
                f"Service {svc['metadata']['name']} would also route to {where}"
    for kind in ("PodDisruptionBudget",):
        for obj in r.find(kind):
            assert _selects(obj["spec"]["selector"]["matchLabels"], serving_labels)
            assert not any(_selects(obj["spec"]["selector"]["matchLabels"], t["metadata"].get("labels", {}))
                           for _, t in others), f"{kind} also counts other pods"
    for monitor in r.find("ServiceMonitor"):
        selected = [s for s in r.find("Service") if _selects(monitor["spec"]["selector"]["matchLabels"],
                                                            s["metadata"].get("labels", {}))]
        assert len(selected) == 1 and selected[0]["spec"].get("clusterIP") == "None", "the headless Service only"


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=str)
def test_rbac_stays_in_the_namespace_and_in_the_sidecar(deployment: Deployment) -> None:
    r = render(deployment)
    assert not r.find("ClusterRole") and not r.find("ClusterRoleBinding")
    for role in r.find("Role"):
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] and "*" not in rule["resources"]
            assert set(rule["verbs"]) <= {"create", "patch"}, rule
    for where, template in _pods(r):
        spec = template["spec"]
        assert spec.get("automountServiceAccountToken") is False, f"{where} mounts a token in every container"
        tokens = [c["name"] for c in [*spec.get("initContainers", []), *spec["containers"]]
                  for m in c.get("volumeMounts", [])
                  if m["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount"]
        assert tokens in ([], ["sidecar"]), f"{where}: token in {tokens}"
        if template is r.serving_deployment()["spec"]["template"]:
            assert bool(tokens) == bool(r.find("Role")), f"{where}: a token without a Role, or a Role without one"
        else:
            assert not tokens, f"{where} needs no token"


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=str)
def test_network_policies_cover_every_workload(deployment: Deployment) -> None:
    r = render(deployment)
    policies = r.find("NetworkPolicy")
    assert policies, "NetworkPolicy is on by default"
    for where, template in _pods(r):
        labels = template["metadata"].get("labels", {})
        covering = [p for p in policies if _selects(p["spec"]["podSelector"].get("matchLabels", {}), labels)]
        assert covering, f"{where} is not selected by any NetworkPolicy"
        types = {t for p in covering for t in p["spec"]["policyTypes"]}
        assert types == {"Ingress", "Egress"}, f"{where}: {types}"
        for policy in covering:
            for rule in policy["spec"].get("ingress", []) + policy["spec"].get("egress", []):
                for port in rule.get("ports", []):
                    assert isinstance(port["port"], int), f"{policy['metadata']['name']}: named port {port['port']}"
