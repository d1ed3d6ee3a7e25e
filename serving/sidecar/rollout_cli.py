"""``plantserve rollout``: fleet decisions through the pointer ``<model>/rollout.json`` in the store.

::

    plantserve rollout pin fuel 3 --store s3://models      # every pod serves fuel 3
    plantserve rollout unpin fuel --store s3://models      # back to "newest good version"
    plantserve rollout block fuel 4 --store s3://models    # never serve fuel 4 (pods on it move back)
    plantserve rollout rollback fuel --store s3://models --release plantserve -n plants
                                                           # block the version the fleet serves now
    plantserve rollout status --sidecars http://pod-a:8502,http://pod-b:8502
    plantserve rollout status --release plantserve -n plants   # in a cluster: pods' annotations
    plantserve rollout pin fuel 3 --store s3://models --signing-key key.pem   # a signed rollout.json

Every sidecar reads the pointer on its next poll. ``status`` asks the sidecars themselves:
given ``--sidecars`` URLs it reads each one's ``/status``; otherwise it lists the release's pods (from
inside a pod with its own token, else with your kubeconfig and the ``kubernetes`` extra) and reads the
``plantserve.io/serving`` annotation each sidecar keeps current. ``rollback`` without a version asks the
same way which version the fleet serves, and blocks that one; when it cannot tell, or the pods disagree,
it refuses and says what to give it (the store alone does not say what is served: the newest version
there may be one the sidecars rejected).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import urllib.request
from typing import Any

from serving import settings as spec
from serving.settings import SettingsError, setting
from serving.table import table
from serving.signing.flags import add_signing_arguments, signer_from_args

__all__ = ["add_arguments", "run", "RolloutSettings", "served_version", "pods_from_cluster"]

log = logging.getLogger(__name__)
_ACTIONS = ("status", "pin", "unpin", "block", "unblock", "rollback")
_PODS = "where the pods are (status, and rollback without a VERSION)"


@dataclasses.dataclass(frozen=True)
class RolloutSettings:
    store: str | None = setting(help="store URI (every action but status)")
    s3_endpoint_url: str | None = setting(help="custom S3 endpoint")
    allow_breaking_change: bool = setting(False, env="", help="pin: let this version change the serving signature")
    sidecars: tuple[str, ...] = setting((), help="sidecar base URLs, e.g. http://10.0.0.7:8502 (comma-separated)",
                                        group=_PODS)
    release: str | None = setting(help="Helm release in a cluster (selector app.kubernetes.io/instance=RELEASE)",
                                  group=_PODS)
    selector: str | None = setting(env="", help="a pod label selector instead of --release", group=_PODS)
    namespace: str | None = setting(env="POD_NAMESPACE", help="namespace of the pods", group=_PODS)
    json: bool = setting(False, env="", help="status: print JSON instead of a table")

    @property
    def pod_source(self) -> bool:
        return bool(self.sidecars or self.release or self.selector or os.environ.get("KUBERNETES_SERVICE_HOST"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=_ACTIONS)
    parser.add_argument("model", nargs="?", help="model name (all configured models for status)")
    parser.add_argument("version", nargs="?", type=int,
                        help="version (pin, block, unblock; rollback: the bad one, default: the one the pods serve)")
    spec.add_arguments(parser, RolloutSettings)
    parser.add_argument("-n", dest="namespace", help="same as --namespace")
    add_signing_arguments(parser)  # pin, unpin, block, unblock, rollback: sign rollout.json


def _store(settings: RolloutSettings):
    from serving.store import S3Options, open_store

    if not settings.store:
        raise ValueError("--store (or PLANTSERVE_STORE) is required")
    return open_store(settings.store, s3=S3Options(endpoint_url=settings.s3_endpoint_url))


def served_version(model: str, pods: list[dict[str, Any]]) -> int:
    """The stable version the pods serve for ``model``; ValueError (saying what to do) when no pod says,
    or they disagree."""
    serving = {p["pod"]: p["models"][model].get("stable") for p in pods if model in p.get("models", {})}
    versions = {v for v in serving.values() if v is not None}
    if not versions:
        unreachable = [p["pod"] for p in pods if "error" in p]
        raise ValueError(f"no pod reports which {model} version it serves"
                         + (f" ({len(unreachable)} unreachable)" if unreachable else "")
                         + ": give the version to roll back, `plantserve rollout rollback " + model + " VERSION`")
    if len(versions) > 1:
        raise ValueError(f"the pods serve different {model} versions ({', '.join(f'{p}: {v}' for p, v in sorted(serving.items()))}):"
                         " give the version to roll back")
    return versions.pop()


def _edit(args: argparse.Namespace, settings: RolloutSettings) -> int:
    from serving.store.repository import ModelRepository as Repo

    from .pointer import read_pointer, write_pointer

    signer = signer_from_args(args)  # a bad key fails before anything is read or written
    version = args.version
    if args.action in ("pin", "block", "unblock") and version is None:
        print(f"rollout {args.action} needs a VERSION", file=sys.stderr)
        return 2
    if args.action == "rollback" and version is None:
        if not settings.pod_source:
            raise ValueError("rollback without a VERSION rolls back what the fleet serves: say where the pods are "
                             "(--sidecars URLS, or --release/--selector with -n NAMESPACE), or give the VERSION")
        version = served_version(args.model, _pods(settings))
        print(f"{args.model}: the pods serve version {version}", file=sys.stderr)
    store = _store(settings)
    repo = Repo(store, args.model)
    pointer = read_pointer(store, args.model)
    if args.action == "pin":
        if version not in repo.versions():
            print(f"{args.model} version {version} is not a complete, valid version in {store.uri}: "
                  f"available: {repo.versions()}", file=sys.stderr)
            return 2
        pointer = pointer.with_pinned(version, allow_breaking=settings.allow_breaking_change)
    elif args.action == "unpin":
        pointer = pointer.with_pinned(None)
    elif args.action == "block":
        pointer = pointer.with_blocked(version)
    elif args.action == "unblock":
        pointer = pointer.with_unblocked(version)
    elif args.action == "rollback":
        pointer = dataclasses.replace(pointer.with_blocked(version), rollback={"from": version})
    written = write_pointer(store, args.model, pointer, signer=signer)
    print(written.to_json())
    return 0


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - operator-given URL
        return json.loads(response.read())


def _from_sidecars(urls: list[str]) -> list[dict[str, Any]]:
    pods = []
    for url in urls:
        try:
            status = _get_json(url.rstrip("/") + "/status")
            pods.append({"pod": url, "ready": status.get("ready"), "models": status.get("models", {})})
        except OSError as exc:
            pods.append({"pod": url, "ready": None, "error": str(exc), "models": {}})
    return pods


def _from_cluster(settings: RolloutSettings) -> list[dict[str, Any]]:
    selector = settings.selector or (f"app.kubernetes.io/instance={settings.release}" if settings.release else None)
    if not selector:
        raise ValueError("in a cluster, say which pods: --release or --selector (or use --sidecars)")
    namespace = settings.namespace or "default"
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        from .kubeapi import InClusterAPI

        return pods_from_cluster(InClusterAPI.load().list_namespaced_pod(namespace, selector))
    try:
        from kubernetes import client, config
    except ImportError as exc:
        raise ValueError("reading pods from outside the cluster needs your kubeconfig and the `kubernetes` package "
                         "(pip install 'plantserve[kubernetes]'), or use --sidecars URLs") from exc
    config.load_kube_config()
    api = client.CoreV1Api()
    return pods_from_cluster([api.api_client.sanitize_for_serialization(p)
                              for p in api.list_namespaced_pod(namespace, label_selector=selector).items])


def pods_from_cluster(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each pod (API JSON) with its readiness and the annotation its sidecar keeps current."""
    from .k8s import ANNOTATION

    result = []
    for pod in pods:
        meta, status = pod.get("metadata", {}), pod.get("status", {})
        raw = (meta.get("annotations") or {}).get(ANNOTATION)
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        entry: dict[str, Any] = {"pod": meta.get("name"), "ready": ready, "models": json.loads(raw) if raw else {}}
        if raw is None:
            entry["error"] = f"no {ANNOTATION} annotation (sidecar not started, or --kubernetes off)"
        result.append(entry)
    return result


def _pods(settings: RolloutSettings) -> list[dict[str, Any]]:
    if settings.sidecars:
        return _from_sidecars(list(settings.sidecars))
    return _from_cluster(settings)


def _status(args: argparse.Namespace, settings: RolloutSettings) -> int:
    if not settings.pod_source:
        print("rollout status needs --sidecars URLs, or --release/--selector with a kube config", file=sys.stderr)
        return 2
    pods = _pods(settings)
    pointers = {}
    if settings.store:
        from .pointer import read_pointer

        store = _store(settings)
        models = {args.model} if args.model else {m for p in pods for m in p["models"]}
        pointers = {m: json.loads(read_pointer(store, m).to_json()) for m in sorted(models)}
    if settings.json:
        print(json.dumps({"pods": pods, "pointers": pointers}, indent=2, sort_keys=True))
        return 0
    rows = []
    for pod in pods:
        if "error" in pod:
            rows.append([pod["pod"], None, None, None, None, None, f"unreachable: {pod['error']}"])
        for model, m in sorted(pod["models"].items()):
            if args.model and model != args.model:
                continue
            last = m.get("last_rollout") or {}
            note = f"{last.get('result', '')} v{last.get('version', '')}" if last else ""
            if m.get("last_error"):
                note += f" | {m['last_error'][:60]}"
            rows.append([pod["pod"], model, m.get("phase"), m.get("stable"), m.get("previous"), m.get("available"), note])
    print(table(["POD", "MODEL", "PHASE", "STABLE", "PREV", "AVAIL", "LAST ROLLOUT / ERROR"], rows))
    for model, p in pointers.items():
        print(f"pointer {model}: pinned={p['pinned']} blocked={p['blocked']} generation={p['generation']}")
    return 0


def run(args: argparse.Namespace) -> int:
    from serving.store import StoreError

    try:
        settings = spec.build(RolloutSettings, args)
        if args.action == "status":
            return _status(args, settings)
        if not args.model:
            print(f"rollout {args.action} needs a MODEL", file=sys.stderr)
            return 2
        return _edit(args, settings)
    except (ValueError, SettingsError, StoreError) as exc:
        print(f"rollout {args.action}: {exc}", file=sys.stderr)
        return 2
