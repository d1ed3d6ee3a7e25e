"""What the as-deployed test runs: the chart rendered by the real helm for one ci/ scenario, or a
kustomize overlay built by the real kubectl, and the objects a pod of it needs.

>>> [d.name for d in deployments()][:1]
['ci/01-minimal']
"""
from __future__ import annotations

import base64
import dataclasses
import functools
from pathlib import Path

from tests.chart.charts import NAMESPACE, SCENARIOS, parse, run, template_text, tool
from tests.support import REPO

__all__ = ["Deployment", "deployments", "render"]

OVERLAYS = sorted(p for p in (REPO / "k8s" / "overlays").iterdir() if (p / "kustomization.yaml").is_file())


@dataclasses.dataclass(frozen=True)
class Deployment:
    """One way the project is installed: a ci/ values file through helm, or an overlay through kustomize."""

    name: str
    source: Path
    kind: str  # "helm" | "kustomize"

    def __str__(self) -> str:
        return self.name


def deployments() -> list[Deployment]:
    return ([Deployment(f"ci/{p.name.removesuffix('-values.yaml')}", p, "helm") for p in SCENARIOS]
            + [Deployment(f"overlay/{p.name}", p, "kustomize") for p in OVERLAYS])


@dataclasses.dataclass
class Rendering:
    objects: list[dict]
    namespace: str

    def find(self, kind: str, name: str | None = None) -> list[dict]:
        return [o for o in self.objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]

    def one(self, kind: str, name: str) -> dict:
        found = self.find(kind, name)
        if len(found) != 1:
            raise AssertionError(f"expected one {kind}/{name} in the rendering, found {len(found)}")
        return found[0]

    def serving_deployment(self) -> dict:
        """The Deployment whose pods serve (component ``serving``)."""
        found = [d for d in self.find("Deployment")
                 if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "serving"]
        if len(found) != 1:
            raise AssertionError(f"expected one serving Deployment, found {[d['metadata']['name'] for d in found]}")
        return found[0]

    def config_map_data(self, name: str) -> dict[str, bytes]:
        cm = self.one("ConfigMap", name)
        data = {k: v.encode() for k, v in (cm.get("data") or {}).items()}
        data.update({k: base64.b64decode(v) for k, v in (cm.get("binaryData") or {}).items()})
        return data

    def secret_data(self, name: str) -> dict[str, bytes] | None:
        """A Secret the rendering itself creates (None: it must already exist in the cluster)."""
        found = self.find("Secret", name)
        if not found:
            return None
        secret = found[0]
        data = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
        data.update({k: v.encode() for k, v in (secret.get("stringData") or {}).items()})
        return data

    def services_selecting(self, pod_labels: dict[str, str]) -> list[dict]:
        out = []
        for svc in self.find("Service"):
            selector = svc["spec"].get("selector") or {}
            if selector and all(pod_labels.get(k) == v for k, v in selector.items()):
                out.append(svc)
        return out


@functools.lru_cache(maxsize=None)
def _text(deployment: Deployment) -> str:
    if deployment.kind == "helm":
        return template_text([deployment.source])
    return run([tool("kubectl"), "kustomize", str(deployment.source)]).stdout


def render(deployment: Deployment) -> Rendering:
    """Parsed objects (a fresh list per call: callers may keep references)."""
    return Rendering(parse(_text(deployment)), NAMESPACE)

