"""Helpers for the manifest tests: the project's own tools (.tools/bin, installed by
``make tools``), ``helm template`` per ci/ scenario, and object lookups."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterable

import yaml

from tests.support import REPO

CHART = REPO / "helm" / "plantserve"
SCENARIOS = sorted((CHART / "ci").glob("*-values.yaml"))
SCENARIO_IDS = [p.name.removesuffix("-values.yaml") for p in SCENARIOS]
RELEASE, NAMESPACE = "plantserve", "plantserve"
TOOLS_BIN = REPO / ".tools" / "bin"
#: Kubernetes minors every object must validate against: the oldest we support and the newest
#: kubernetes-validate ships.
KUBE_VERSIONS = ("1.30", "1.37")


def tool(name: str) -> str:
    """Path of an external tool: .tools/bin first (pinned by scripts/install-tools.sh), then PATH."""
    local = TOOLS_BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise AssertionError(f"{name} is not installed: run `make tools` (scripts/install-tools.sh)")
    return found


def run(args: list[str], check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "HELM_DEBUG": ""}, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([tool("helm"), *args], check=check)


def template_text(values: Iterable[Path] = (), sets: Iterable[str] = (), kube_version: str | None = None,
                  show_hooks: bool = True) -> str:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    for v in values:
        args += ["-f", str(v)]
    for s in sets:
        args += ["--set", s]
    if kube_version:
        args += ["--kube-version", kube_version]
    if not show_hooks:
        args += ["--no-hooks"]
    return helm(*args).stdout


def parse(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


@functools.lru_cache(maxsize=None)
def _render_cached(values: tuple[str, ...], sets: tuple[str, ...]) -> str:
    return template_text([Path(v) for v in values], sets)


def render(*values: Path, sets: Iterable[str] = ()) -> list[dict]:
    """Parsed objects of ``helm template`` (cached per arguments; callers must not mutate)."""
    return parse(_render_cached(tuple(str(v) for v in values), tuple(sets)))


def render_scenario(name: str, sets: Iterable[str] = ()) -> list[dict]:
    return render(CHART / "ci" / f"{name}-values.yaml", sets=sets)


def find(objs: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def one(objs: list[dict], kind: str, name: str | None = None) -> dict:
    found = find(objs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[o['metadata']['name'] for o in found]}"
    return found[0]


def pod_specs(objs: list[dict]) -> list[tuple[str, dict]]:
    """(object name, pod spec) for every object that carries a pod."""
    out = []
    for o in objs:
        spec = o.get("spec", {})
        if o["kind"] == "Pod":
            out.append((f"Pod/{o['metadata']['name']}", spec))
        elif o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            out.append((f"{o['kind']}/{o['metadata']['name']}", spec["template"]["spec"]))
        elif o["kind"] == "CronJob":
            out.append((f"CronJob/{o['metadata']['name']}", spec["jobTemplate"]["spec"]["template"]["spec"]))
    return out


def containers(pod_spec: dict) -> list[dict]:
    return [*pod_spec.get("initContainers", []), *pod_spec.get("containers", [])]


def container(pod_spec: dict, name: str) -> dict:
    found = [c for c in containers(pod_spec) if c["name"] == name]
    assert found, f"no container {name}"
    return found[0]


def deployment_spec(objs: list[dict]) -> dict:
    return one(objs, "Deployment", RELEASE)["spec"]["template"]["spec"]
