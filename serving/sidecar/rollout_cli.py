"""``plantserve rollout``: fleet decisions through the pointer ``<model>/rollout.json`` in the store.

::

    plantserve rollout pin fuel 3 --store s3://models      # every pod serves fuel 3
    plantserve rollout unpin fuel --store s3://models      # back to "newest good version"
    plantserve rollout block fuel 4 --store s3://models    # never serve fuel 4 (pods on it move back)
    plantserve rollout rollback fuel --store s3://models   # block the version the fleet is on now
    plantserve rollout status --sidecars http://pod-a:8502,http://pod-b:8502
    plantserve rollout status --release plantserve -n plants   # in a cluster: pods' annotations
    plantserve rollout pin fuel 3 --store s3://models --signing-key key.pem   # a signed rollout.json

Every sidecar reads the pointer on its next poll. ``status`` asks the sidecars themselves:
given ``--sidecars`` URLs it reads each one's ``/status``; otherwise, in a cluster, it lists the
release's pods and reads the ``plantserve.io/serving`` annotation each sidecar keeps current.
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

from serving.signing.flags import add_signing_arguments, signer_from_args

__all__ = ["add_arguments", "run"]

log = logging.getLogger(__name__)
_ACTIONS = ("status", "pin", "unpin", "block", "unblock", "rollback")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=_ACTIONS)
    parser.add_argument("model", nargs="?", help="model name (all configured models for status)")
    parser.add_argument("version", nargs="?", type=int, help="version (pin, block, unblock; rollback: the bad one)")
    parser.add_argument("--store", default=os.environ.get("PLANTSERVE_STORE"), help="store URI [PLANTSERVE_STORE]")
    parser.add_argument("--s3-endpoint-url", default=os.environ.get("PLANTSERVE_S3_ENDPOINT_URL"),
                        help="custom S3 endpoint [PLANTSERVE_S3_ENDPOINT_URL]")
    parser.add_argument("--allow-breaking-change", action="store_true",
                        help="pin: let this version change the serving signature")
    parser.add_argument("--sidecars", default=os.environ.get("PLANTSERVE_SIDECARS"),
                        help="status: comma-separated sidecar base URLs, e.g. http://10.0.0.7:8502 [PLANTSERVE_SIDECARS]")
    parser.add_argument("--release", default=os.environ.get("PLANTSERVE_RELEASE"),
                        help="status in a cluster: Helm release (selector app.kubernetes.io/instance=RELEASE)")
    parser.add_argument("--selector", default=None, help="status in a cluster: a pod label selector instead")
    parser.add_argument("-n", "--namespace", default=os.environ.get("POD_NAMESPACE"), help="namespace of the pods")
    parser.add_argument("--json", action="store_true", help="status: print JSON instead of a table")
    add_signing_arguments(parser)  # pin, unpin, block, unblock, rollback: sign rollout.json


def _store(args: argparse.Namespace):
    from serving.store import S3Options, open_store

    if not args.store:
        raise ValueError("--store (or PLANTSERVE_STORE) is required")
    return open_store(args.store, s3=S3Options(endpoint_url=args.s3_endpoint_url))


def _edit(args: argparse.Namespace) -> int:
    from serving.store.repository import ModelRepository as Repo

    from .pointer import read_pointer, write_pointer

    signer = signer_from_args(args)  # a bad key fails before anything is read or written
    store = _store(args)
    repo = Repo(store, args.model)
    pointer = read_pointer(store, args.model)
    version = args.version
    if args.action in ("pin", "block", "unblock") and version is None:
        print(f"rollout {args.action} needs a VERSION", file=sys.stderr)
        return 2
    if args.action == "pin":
        if version not in repo.versions():
            print(f"{args.model} version {version} is not a complete, valid version in {store.uri}: "
                  f"available: {repo.versions()}", file=sys.stderr)
            return 2
        pointer = pointer.with_pinned(version, allow_breaking=args.allow_breaking_change)
    elif args.action == "unpin":
        pointer = pointer.with_pinned(None)
    elif args.action == "block":
        pointer = pointer.with_blocked(version)
    elif args.action == "unblock":
        pointer = pointer.with_unblocked(version)
    elif args.action == "rollback":
        if version is None:
            eligible = [v for v in repo.versions() if pointer.eligible(v)]
            version = pointer.pinned if pointer.pinned is not None else (eligible[-1] if eligible else None)
        if version is None:
            print(f"{args.model}: no version to roll back from", file=sys.stderr)
            return 2
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


def _from_cluster(args: argparse.Namespace) -> list[dict[str, Any]]:
    from kubernetes import client, config

    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    selector = args.selector or (f"app.kubernetes.io/instance={args.release}" if args.release else None)
    if not selector:
        raise ValueError("rollout status in a cluster needs --release or --selector (or use --sidecars)")
    return pods_from_cluster(client.CoreV1Api(), args.namespace or "default", selector)


def pods_from_cluster(api: Any, namespace: str, selector: str) -> list[dict[str, Any]]:
    """Each pod of the selection with its readiness and the annotation its sidecar keeps current."""
    from .k8s import ANNOTATION

    result = []
    for pod in api.list_namespaced_pod(namespace, label_selector=selector).items:
        raw = (pod.metadata.annotations or {}).get(ANNOTATION)
        ready = any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))
        entry: dict[str, Any] = {"pod": pod.metadata.name, "ready": ready, "models": json.loads(raw) if raw else {}}
        if raw is None:
            entry["error"] = f"no {ANNOTATION} annotation (sidecar not started, or --kubernetes off)"
        result.append(entry)
    return result


def _status(args: argparse.Namespace) -> int:
    if args.sidecars:
        pods = _from_sidecars([u for u in args.sidecars.split(",") if u.strip()])
    elif os.environ.get("KUBERNETES_SERVICE_HOST") or args.release or args.selector:
        pods = _from_cluster(args)
    else:
        print("rollout status needs --sidecars URLs, or --release/--selector with a kube config", file=sys.stderr)
        return 2
    pointers = {}
    if args.store:
        from .pointer import read_pointer

        store = _store(args)
        models = {args.model} if args.model else {m for p in pods for m in p["models"]}
        pointers = {m: json.loads(read_pointer(store, m).to_json()) for m in sorted(models)}
    if args.json:
        print(json.dumps({"pods": pods, "pointers": pointers}, indent=2, sort_keys=True))
        return 0
    print(f"{'POD':40} {'MODEL':10} {'STABLE':>6} {'PREV':>5} {'AVAIL':>5}  LAST ROLLOUT / ERROR")
    for pod in pods:
        if "error" in pod:
            print(f"{pod['pod']:40} {'-':10} {'-':>6} {'-':>5} {'-':>5}  unreachable: {pod['error']}")
        for model, m in sorted(pod["models"].items()):
            if args.model and model != args.model:
                continue
            last = m.get("last_rollout") or {}
            note = f"{last.get('result', '')} v{last.get('version', '')}" if last else ""
            if m.get("last_error"):
                note += f" | {m['last_error'][:60]}"
            print(f"{pod['pod']:40} {model:10} {str(m.get('stable')):>6} {str(m.get('previous')):>5} "
                  f"{str(m.get('available')):>5}  {note}")
    for model, p in pointers.items():
        print(f"pointer {model}: pinned={p['pinned']} blocked={p['blocked']} generation={p['generation']}")
    return 0


def run(args: argparse.Namespace) -> int:
    from serving.store import StoreError

    try:
        if args.action == "status":
            return _status(args)
        if not args.model:
            print(f"rollout {args.action} needs a MODEL", file=sys.stderr)
            return 2
        return _edit(args)
    except (ValueError, StoreError) as exc:
        print(f"rollout {args.action}: {exc}", file=sys.stderr)
        return 2
