"""Signing in the OpenSSF model-signing format (the ``model-signing`` reference library).

A version's ``model.sig`` is a Sigstore bundle (media type ``...bundle.v0.3+json``) whose DSSE
envelope wraps an in-toto statement (predicate ``https://model_signing/signature/v1.0``) listing
the sha256 of every file of the version directory, ``manifest.json`` included and ``model.sig``
itself excluded, exactly as ``model_signing sign key DIR --signature DIR/model.sig`` would write it.
A detached signature of one document (``rollout.json.sig``) is the same format for a one-file model.

Two modes, no transparency log and no network either way:

- key: an EC private key (PEM, optionally encrypted, the password in a file);
- certificate: the same key plus its leaf certificate and the chain up to the plant's CA; the
  bundle carries the chain, and verifiers check it against their trusted CA.

Example::

    >>> import tempfile
    >>> from pathlib import Path
    >>> from cryptography.hazmat.primitives import serialization
    >>> from cryptography.hazmat.primitives.asymmetric import ec
    >>> tmp = Path(tempfile.mkdtemp())
    >>> _ = (tmp / "key.pem").write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
    ...     serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    >>> signer = load_signer(SigningConfig(key=tmp / "key.pem"))
    >>> b'"dsseEnvelope"' in signer.sign_bytes("rollout.json", b"{}")
    True
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import importlib.util
import logging
from pathlib import Path

from cryptography import x509

from serving.store.repository import SIGNATURE_NAME

from .errors import SigningConfigError
from .keys import key_fingerprint, load_certificates, load_private_key, read_password, usable_for_signing

__all__ = ["SigningConfig", "Signer", "SignedVersion", "load_signer"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SigningConfig:
    #: PEM EC private key (``--signing-key``, ``PLANTSERVE_SIGNING_KEY``).
    key: Path
    #: File holding the key's password (a mounted Secret); None for an unencrypted key.
    password_file: Path | None = None
    #: Certificate mode: the leaf certificate of ``key`` (PEM).
    certificate: Path | None = None
    #: Certificate mode: intermediate and root certificates up to the plant's CA (PEM files).
    chain: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if self.chain and self.certificate is None:
            raise SigningConfigError("--signing-chain needs --signing-cert (certificate mode)")


@dataclasses.dataclass(frozen=True)
class SignedVersion:
    #: The bytes of ``model.sig``.
    bundle: bytes
    #: What the statement covers: relative path -> sha256 hex.
    files: dict[str, str]


class Signer:
    """Signs version directories and single documents with one loaded key (and certificate)."""

    def __init__(self, library_signer, fingerprint: str, certificate: x509.Certificate | None) -> None:
        self._signer = library_signer
        #: sha256 of the signing key's DER SubjectPublicKeyInfo.
        self.fingerprint = fingerprint
        self.certificate = certificate

    def describe(self) -> str:
        if self.certificate is not None:
            return (f"certificate {self.certificate.subject.rfc4514_string()} "
                    f"(issuer {self.certificate.issuer.rfc4514_string()})")
        return f"key sha256:{self.fingerprint}"

    def _sign(self, lib_manifest) -> bytes:
        from model_signing._signing import signing

        return self._signer.sign(signing.Payload(lib_manifest)).bundle.to_json().encode()

    def sign_version(self, version_dir: Path, name: str) -> SignedVersion:
        """Hash every file under ``version_dir`` except ``model.sig`` and sign the statement.

        ``name`` is the statement's informative subject name (``fuel/3``). Nothing is written.
        """
        from model_signing import hashing, manifest

        config = hashing.Config().use_file_serialization(hashing_algorithm="sha256", allow_symlinks=False)
        config.set_ignored_paths(paths=[SIGNATURE_NAME], ignore_git_paths=False)
        hashed = config.hash(Path(version_dir))
        serialization = manifest.SerializationType.from_args(hashed.serialization_type)
        descriptors = list(hashed.resource_descriptors())
        named = manifest.Manifest(name, [serialization.new_item(d.identifier, d.digest) for d in descriptors],
                                  serialization)
        files = {d.identifier: d.digest.digest_hex for d in descriptors}
        log.info("signing %s: %d files with %s", name, len(files), self.describe())
        return SignedVersion(self._sign(named), files)

    def sign_bytes(self, name: str, data: bytes) -> bytes:
        """A detached signature of one document, as ``model_signing sign key NAME`` would write it."""
        from model_signing import manifest
        from model_signing._hashing import hashing

        serialization = manifest.SerializationType.from_args(
            {"method": "files", "hash_type": "sha256", "allow_symlinks": False})
        item = serialization.new_item(".", hashing.Digest("sha256", hashlib.sha256(data).digest()))
        return self._sign(manifest.Manifest(name, [item], serialization))


def _library_signer(private_key, certificate: x509.Certificate | None, chain: list[x509.Certificate]):
    """model-signing's signers, given the key we loaded (its own loaders take no password in
    certificate mode). Pinned to model-signing 1.1.x, whose signers keep these three fields."""
    from model_signing._signing import sign_certificate, sign_ec_key

    if certificate is None:
        signer = sign_ec_key.Signer.__new__(sign_ec_key.Signer)
    else:
        signer = sign_certificate.Signer.__new__(sign_certificate.Signer)
        signer._signing_certificate = certificate
        signer._trust_chain = chain
    signer._private_key = private_key
    return signer


def _require_library() -> None:
    """Signing runs on the reference library; verifying does not (the sidecar image lacks it)."""
    if importlib.util.find_spec("model_signing") is None:
        raise SigningConfigError("signing needs the model-signing library, which this installation lacks: install "
                                 "plantserve with the `signing` extra (pip install 'plantserve[signing]'); "
                                 "verifying needs only `cryptography`")


def load_signer(config: SigningConfig, now: datetime.datetime | None = None) -> Signer:
    """Load and check everything before any work: a bad key fails a training run at start, not at publish."""
    _require_library()
    key = load_private_key(config.key, read_password(config.password_file))
    certificate, chain = None, []
    if config.certificate is not None:
        leaf = load_certificates(config.certificate, "the signing certificate", SigningConfigError)
        certificate = leaf[0]
        chain = leaf[1:] + [c for path in config.chain
                            for c in load_certificates(path, "the signing chain", SigningConfigError)]
        if certificate.public_key() != key.public_key():
            raise SigningConfigError(f"the certificate {config.certificate} is not for the key {config.key}")
        moment = now or datetime.datetime.now(datetime.timezone.utc)
        if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
            raise SigningConfigError(
                f"the signing certificate {config.certificate} is valid from {certificate.not_valid_before_utc} "
                f"to {certificate.not_valid_after_utc}, not now: verifiers would refuse it; renew it")
        if not usable_for_signing(certificate):
            raise SigningConfigError(f"the signing certificate {config.certificate} allows neither digitalSignature "
                                     "(KeyUsage) nor codeSigning (ExtendedKeyUsage)")
    return Signer(_library_signer(key, certificate, chain), key_fingerprint(key.public_key()), certificate)
