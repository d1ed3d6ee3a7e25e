"""Small synthetic versions (SavedModel-shaped files and a real manifest) and throwaway signing PKI
for the signing tests: signing checks bytes and paths, so no TensorFlow is needed here."""
from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from serving.signing import SigningConfig, load_signer, sign_staged
from serving.store.manifest import Manifest, PrimaryMetric, file_entries
from serving.store.repository import SIGNATURE_NAME
from tests.tls import issue_intermediate, issue_signing, make_ca, write_key_pair

#: The files of a fuel-like SavedModel export.
FILES = {
    "saved_model.pb": b"\x08\x01graph" * 50,
    "fingerprint.pb": b"fp" * 8,
    "variables/variables.index": b"index" * 10,
    "variables/variables.data-00000-of-00001": bytes(range(256)) * 40,
    "assets.extra/tf_serving_warmup_requests": b"warmup" * 20,
}
IDENTITY = "trainer@plant.example"


def make_version(root: Path, model: str = "fuel", version: int = 1) -> tuple[Path, Manifest]:
    """A staged version dir (no manifest.json yet) and its manifest."""
    for rel, data in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    manifest = Manifest(model=model, version=version, files=file_entries(root), signatures={}, metrics={"mae": 1.5},
                        primary_metric=PrimaryMetric("mae", "min", 1.5), data_fingerprint="sha256:tests")
    return root, manifest


def sign_dir(root: Path, manifest: Manifest, config: SigningConfig) -> Path:
    """Write manifest.json and model.sig into ``root``, as a downloaded signed version looks."""
    (root / SIGNATURE_NAME).write_bytes(sign_staged(root, manifest, load_signer(config)))
    return root


@dataclasses.dataclass
class Keys:
    key: Path
    pub: Path
    other_key: Path
    other_pub: Path


def make_keys(tmp: Path) -> Keys:
    key, pub = write_key_pair(tmp, "line-3")
    other_key, other_pub = write_key_pair(tmp, "intruder")
    return Keys(key, pub, other_key, other_pub)


@dataclasses.dataclass
class Pki:
    ca: Path              # the plant's root CA (the trust bundle)
    other_ca: Path        # somebody else's CA
    chain: Path           # the issuing CA under the root, shipped beside the leaf
    cert: Path            # leaf of the issuing CA, for IDENTITY
    key: Path
    expired_cert: Path    # same CA, expired an hour ago
    expired_key: Path
    foreign_cert: Path    # leaf of other_ca
    foreign_key: Path


def make_pki(tmp: Path) -> Pki:
    root_pem, root = make_ca("Plant Root CA")
    issuing_pem, issuing = issue_intermediate(root, "Plant Issuing CA")
    other_pem, other = make_ca("Other Root CA")
    hour = datetime.timedelta(hours=1)
    leaves = {
        "leaf": issue_signing(issuing, "training line 3", identity=IDENTITY),
        "expired": issue_signing(issuing, "training line 3 (old)", identity=IDENTITY, valid=(-48 * hour, -hour)),
        "foreign": issue_signing(other, "training elsewhere", identity=IDENTITY),
    }
    files = {"ca.pem": root_pem.cert, "other-ca.pem": other_pem.cert, "issuing.pem": issuing_pem.cert}
    for name, pem in leaves.items():
        files[f"{name}.crt"], files[f"{name}.key"] = pem.cert, pem.key
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    return Pki(tmp / "ca.pem", tmp / "other-ca.pem", tmp / "issuing.pem", tmp / "leaf.crt", tmp / "leaf.key",
               tmp / "expired.crt", tmp / "expired.key", tmp / "foreign.crt", tmp / "foreign.key")
