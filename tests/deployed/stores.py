"""The cluster around a rendered pod: its model store on loopback (moto, behind a TLS or GCS front where
the rendering asks for one), the Secrets it expects to exist, and what the platform injects.

The store is found from the rendered sidecar: ``--store``, ``--s3-endpoint-url`` or ``AWS_ENDPOINT_URL``.
A store with no endpoint is AWS S3 or Google Cloud Storage themselves: the test points the SDK's own
endpoint variable at the local store (``AWS_ENDPOINT_URL``, ``STORAGE_EMULATOR_HOST``), which is what
reaching them by DNS means here. A container without store keys gets them injected, as an identity
webhook (IRSA, workload identity) would.
"""
from __future__ import annotations

import dataclasses
import shutil
import urllib.parse
from pathlib import Path

import boto3

from serving.store.manifest import MANIFEST_NAME, Manifest
from tests.deployed.kubelet import Cluster
from tests.storefront import StoreFront
from tests.tls import Pem, issue, make_ca

__all__ = ["StoreSite", "build_cluster", "TlsSecret", "sidecar_arg"]


def sidecar_arg(container: dict, flag: str) -> str | None:
    for arg in container.get("args", []):
        if arg.startswith(f"--{flag}="):
            return arg.split("=", 1)[1]
    return None


def _env_value(container: dict, name: str) -> str | None:
    for entry in container.get("env", []):
        if entry["name"] == name and "value" in entry:
            return str(entry["value"])
    return None


@dataclasses.dataclass
class TlsSecret:
    """The throwaway PKI behind a kubernetes.io/tls Secret: the CA, and a client pair it signed."""

    ca: Pem
    server: Pem
    client: Pem
    server_name: str

    def secret(self) -> dict[str, bytes]:
        return {"tls.crt": self.server.cert, "tls.key": self.server.key, "ca.crt": self.ca.cert}


def tls_secret(server_name: str) -> TlsSecret:
    ca_pem, ca = make_ca("plant CA")
    server = issue(ca, server_name, server=True, names=[server_name, "localhost"], client_auth=True)
    client = issue(ca, "plant-line-7", server=False)
    return TlsSecret(ca_pem, server, client, server_name)


@dataclasses.dataclass
class StoreSite:
    """Where the pod's store is and how this test reaches it (``s3`` is a boto3 client on moto)."""

    uri: str
    bucket: str
    prefix: str
    s3: object
    fronts: list[StoreFront]

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def seed(self, local_store: Path, model: str, version: int) -> None:
        root = local_store / model / str(version)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            self.s3.upload_file(str(path), self.bucket, self.key(f"{model}/{version}/{path.relative_to(root)}"))

    def publish_copy(self, local_store: Path, model: str, source: int, version: int, tmp: Path) -> None:
        """A new version with the same SavedModel; its manifest written last, as training does."""
        staged = tmp / f"{model}-{version}"
        shutil.copytree(local_store / model / str(source), staged)
        manifest = Manifest.from_json((staged / MANIFEST_NAME).read_text())
        (staged / MANIFEST_NAME).write_text(dataclasses.replace(manifest, version=version).to_json())
        for path in sorted((p for p in staged.rglob("*") if p.is_file()), key=lambda p: p.name == MANIFEST_NAME):
            self.s3.upload_file(str(path), self.bucket, self.key(f"{model}/{version}/{path.relative_to(staged)}"))

    def close(self) -> None:
        for front in self.fronts:
            front.close()


def build_cluster(pod_spec: dict, rendering, moto_endpoint: str, root: Path, server_tls: TlsSecret | None
                  ) -> tuple[Cluster, StoreSite]:
    """The Secrets, hosts and injected env the pod needs, and its store seeded on moto."""
    sidecar = next(c for c in pod_spec.get("initContainers", []) if c["name"] == "sidecar")
    uri = sidecar_arg(sidecar, "store")
    assert uri, "the sidecar has no --store"
    scheme, _, rest = uri.partition("://")
    bucket, _, prefix = rest.partition("/")
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, aws_access_key_id="testing",
                      aws_secret_access_key="testing", region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    cluster = Cluster()
    fronts: list[StoreFront] = []
    endpoint = sidecar_arg(sidecar, "s3-endpoint-url") or _env_value(sidecar, "AWS_ENDPOINT_URL")
    if endpoint:
        parsed = urllib.parse.urlsplit(endpoint)
        hostport = f"{parsed.hostname}:{parsed.port or (443 if parsed.scheme == 'https' else 80)}"
        cert = None
        if parsed.scheme == "https":
            store_pki, store_ca = make_ca("store CA")
            leaf = issue(store_ca, parsed.hostname, server=True, names=[parsed.hostname, "localhost"])
            cert = (leaf.cert, leaf.key)
            (root / "store-ca.pem").write_bytes(store_pki.cert)
            cluster.env["AWS_CA_BUNDLE"] = str(root / "store-ca.pem")  # the node's trust store
        front = StoreFront(moto_endpoint, cert=cert, gcs=scheme == "gs")
        fronts.append(front)
        cluster.hosts[f"{parsed.scheme}://{parsed.netloc}"] = front.url
        cluster.hosts[f"{parsed.scheme}://{hostport}"] = front.url
    elif scheme == "gs":
        front = StoreFront(moto_endpoint, gcs=True)
        fronts.append(front)
        cluster.env["STORAGE_EMULATOR_HOST"] = front.url
    else:
        cluster.env["AWS_ENDPOINT_URL"] = moto_endpoint
    env_names = {e["name"] for e in sidecar.get("env", [])}
    if "AWS_ACCESS_KEY_ID" not in env_names:  # an identity webhook's job in a cluster
        cluster.env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    cluster.env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    cluster.secrets.update(_existing_secrets(pod_spec, rendering, server_tls))
    cluster.config_maps["kube-root-ca.crt"] = {"ca.crt": make_ca("kubernetes")[0].cert}
    return cluster, StoreSite(uri, bucket, prefix.strip("/"), s3, fronts)


def _existing_secrets(pod_spec: dict, rendering, server_tls: TlsSecret | None) -> dict[str, dict[str, bytes]]:
    """Secrets the pod references that the rendering does not create: store keys get moto's
    credentials, a mounted TLS Secret gets the throwaway PKI."""
    wanted: dict[str, set[str]] = {}
    mounted: set[str] = set()
    credential_files: dict[str, str] = {}  # Secret -> key of an AWS shared-credentials file
    for c in [*pod_spec.get("initContainers", []), *pod_spec.get("containers", [])]:
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                wanted.setdefault(ref["name"], set()).add(ref["key"])
    for v in pod_spec.get("volumes", []):
        if "secret" in v:
            items = v["secret"].get("items") or []
            if any(i["path"] == "credentials" for i in items):
                credential_files[v["secret"]["secretName"]] = items[0]["key"]
                continue
            mounted.add(v["secret"]["secretName"])
        for source in v.get("projected", {}).get("sources", []):
            if "secret" in source:
                mounted.add(source["secret"]["name"])
    out: dict[str, dict[str, bytes]] = {}
    for name, keys in wanted.items():
        if rendering.secret_data(name) is None:
            out[name] = {k: b"testing" for k in keys}
    for name, key in credential_files.items():
        if rendering.secret_data(name) is None:
            out[name] = {key: b"[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n"}
    for name in mounted:
        if rendering.secret_data(name) is None:
            if server_tls is None:
                raise AssertionError(f"Secret {name} is mounted but the test has no material for it")
            out[name] = {**out.get(name, {}), **server_tls.secret()}
    return out
