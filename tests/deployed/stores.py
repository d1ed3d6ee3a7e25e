"""The cluster around a rendered pod: its model store on loopback (moto, behind a TLS or GCS front where
the rendering asks for one), the Secrets it expects to exist, and what the platform injects.

The store is found from the rendered sidecar: ``--store``, ``--s3-endpoint-url`` or ``AWS_ENDPOINT_URL``.
A store with no endpoint is AWS S3 or Google Cloud Storage themselves: the test points the SDK's own
endpoint variable at the local store (``AWS_ENDPOINT_URL``, ``STORAGE_EMULATOR_HOST``), which is what
reaching them by DNS means here. A container without store keys gets them injected, as an identity
webhook (IRSA, workload identity) would.

Signed models: when the rendered sidecar has trust anchors (``--trusted-keys``, ``--trusted-ca``,
``--pointer-trusted-keys``), the ConfigMap or Secret mounted there gets a throwaway public key (or CA)
as fixture, and every version this test seeds or publishes is signed with the matching private key
(certificate mode with a leaf of that CA, for ``--trusted-identity`` when given), as training would.
"""
from __future__ import annotations

import dataclasses
import shutil
import urllib.parse
from pathlib import Path

import boto3

from serving.signing import SigningConfig
from serving.store.manifest import MANIFEST_NAME, Manifest
from serving.store.repository import SIGNATURE_NAME
from tests.deployed.kubelet import Cluster
from tests.storefront import StoreFront
from tests.tls import Pem, issue, issue_signing, make_ca, write_key_pair

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
    #: Where versions are staged (the trained store is never written to).
    work: Path
    #: Signs every version when the sidecar verifies signatures (None: versions go up unsigned).
    signing: SigningConfig | None = None

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def seed(self, local_store: Path, model: str, version: int) -> None:
        self._upload(self._stage(local_store / model / str(version), f"{model}-{version}-seed"), model, version)

    def publish_copy(self, local_store: Path, model: str, source: int, version: int, tmp: Path) -> None:
        """A new version with the same SavedModel; its manifest written last, as training does."""
        staged = self._stage(local_store / model / str(source), f"{model}-{version}")
        manifest = Manifest.from_json((staged / MANIFEST_NAME).read_text())
        (staged / MANIFEST_NAME).write_text(dataclasses.replace(manifest, version=version).to_json())
        self._upload(staged, model, version)

    def _stage(self, source: Path, name: str) -> Path:
        staged = self.work / name
        shutil.copytree(source, staged, ignore=shutil.ignore_patterns(SIGNATURE_NAME))
        return staged

    def _upload(self, staged: Path, model: str, version: int) -> None:
        """Every file, then model.sig (signed over the staged copy, manifest included), the manifest last."""
        if self.signing is not None:
            from serving.signing import load_signer

            signed = load_signer(self.signing).sign_version(staged, f"{model}/{version}")
            (staged / SIGNATURE_NAME).write_bytes(signed.bundle)
        order = {SIGNATURE_NAME: 1, MANIFEST_NAME: 2}
        for path in sorted((p for p in staged.rglob("*") if p.is_file()), key=lambda p: order.get(p.name, 0)):
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
    signing = _signing_fixtures(sidecar, pod_spec, cluster, root / "signing")
    cluster.secrets.update(_existing_secrets(pod_spec, rendering, server_tls, provided=set(cluster.secrets)))
    cluster.config_maps["kube-root-ca.crt"] = {"ca.crt": make_ca("kubernetes")[0].cert}
    (root / "staged").mkdir(parents=True, exist_ok=True)
    return cluster, StoreSite(uri, bucket, prefix.strip("/"), s3, fronts, root / "staged", signing)


def _mounted_source(sidecar: dict, pod_spec: dict, path: str) -> tuple[str, str, str]:
    """(``configMap`` or ``secret``, its name, the file's key or "") of the volume a flag's path lies in."""
    for mount in sidecar.get("volumeMounts", []):
        base = mount["mountPath"].rstrip("/")
        if path == base or path.startswith(base + "/"):
            volume = next(v for v in pod_spec["volumes"] if v["name"] == mount["name"])
            key = path[len(base):].strip("/")
            if "configMap" in volume:
                return "configMap", volume["configMap"]["name"], key
            if "secret" in volume:
                return "secret", volume["secret"]["secretName"], key
            raise AssertionError(f"{path} is mounted from volume {mount['name']}, neither a ConfigMap nor a Secret")
    raise AssertionError(f"the sidecar reads {path}, which no volume of the pod provides")


def _provide(cluster: Cluster, source: tuple[str, str, str], files: dict[str, bytes]) -> None:
    kind, name, key = source
    if key:  # the flag names one file of the ConfigMap or Secret
        files = {key: next(iter(files.values()))}
    (cluster.config_maps if kind == "configMap" else cluster.secrets)[name] = files


def _signing_fixtures(sidecar: dict, pod_spec: dict, cluster: Cluster, tmp: Path) -> SigningConfig | None:
    """Trust material for the sidecar's anchors, as the ConfigMaps and Secrets the chart expects to exist;
    the config that signs versions the way those anchors accept."""
    keys, ca = sidecar_arg(sidecar, "trusted-keys"), sidecar_arg(sidecar, "trusted-ca")
    pointer = sidecar_arg(sidecar, "pointer-trusted-keys")
    if not (keys or ca or pointer):
        return None
    tmp.mkdir(parents=True, exist_ok=True)
    if pointer:
        _, operator = write_key_pair(tmp, "operator")
        _provide(cluster, _mounted_source(sidecar, pod_spec, pointer), {"operator.pub": operator.read_bytes()})
    if keys:
        private, public = write_key_pair(tmp, "line-3")
        _provide(cluster, _mounted_source(sidecar, pod_spec, keys), {"line-3.pub": public.read_bytes()})
        return SigningConfig(key=private)
    if ca:
        ca_pem, plant_ca = make_ca("Plant CA")
        _provide(cluster, _mounted_source(sidecar, pod_spec, ca), {"ca.crt": ca_pem.cert})
        leaf = issue_signing(plant_ca, "training line 3", identity=sidecar_arg(sidecar, "trusted-identity"))
        (tmp / "leaf.crt").write_bytes(leaf.cert)
        (tmp / "leaf.key").write_bytes(leaf.key)
        return SigningConfig(key=tmp / "leaf.key", certificate=tmp / "leaf.crt")
    return None


def _existing_secrets(pod_spec: dict, rendering, server_tls: TlsSecret | None,
                      provided: set[str] = frozenset()) -> dict[str, dict[str, bytes]]:
    """Secrets the pod references that the rendering does not create (and ``provided`` does not hold):
    store keys get moto's credentials, a mounted TLS Secret gets the throwaway PKI."""
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
    for name in mounted - provided:
        if rendering.secret_data(name) is None:
            if server_tls is None:
                raise AssertionError(f"Secret {name} is mounted but the test has no material for it")
            out[name] = {**out.get(name, {}), **server_tls.secret()}
    return out
