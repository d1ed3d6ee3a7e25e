"""PEM loading and fingerprints: private keys (with an optional password file), public keys,
certificates. Only EC keys on P-256, P-384 and P-521 sign in the OpenSSF model-signing format.

Example::

    >>> from cryptography.hazmat.primitives.asymmetric import ec
    >>> key = ec.generate_private_key(ec.SECP256R1())
    >>> len(key_fingerprint(key.public_key()))
    64
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from .errors import SigningConfigError, TrustConfigError

__all__ = [
    "CURVES",
    "key_fingerprint",
    "key_hint",
    "load_private_key",
    "load_public_keys",
    "load_certificates",
    "read_password",
    "usable_for_signing",
]

#: The curves model-signing accepts (Sigstore's protobuf-specs list).
CURVES = ("secp256r1", "secp384r1", "secp521r1")


def _spki(public_key: ec.EllipticCurvePublicKey, encoding: serialization.Encoding) -> bytes:
    return public_key.public_bytes(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_fingerprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """sha256 of the DER SubjectPublicKeyInfo, hex: ``openssl pkey -pubin -in pub.pem -outform DER | sha256sum``."""
    return hashlib.sha256(_spki(public_key, serialization.Encoding.DER)).hexdigest()


def key_hint(public_key: ec.EllipticCurvePublicKey) -> str:
    """The key id model-signing puts in a bundle: sha256 of the PEM SubjectPublicKeyInfo, hex."""
    return hashlib.sha256(_spki(public_key, serialization.Encoding.PEM)).hexdigest()


def read_password(path: Path | None) -> bytes | None:
    """The key password from a file (a mounted Secret), without its trailing newline."""
    if path is None:
        return None
    try:
        return Path(path).read_bytes().rstrip(b"\r\n")
    except OSError as exc:
        raise SigningConfigError(f"cannot read --signing-key-password-file {path}: {exc.strerror}") from exc


def _supported(public_key: object, what: str, error: type[ValueError]) -> ec.EllipticCurvePublicKey:
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name not in CURVES:
        kind = getattr(getattr(public_key, "curve", None), "name", type(public_key).__name__)
        raise error(f"{what} is a {kind} key: model signing needs an EC key on P-256, P-384 or P-521 "
                    "(openssl ecparam -name prime256v1 -genkey -noout -out signing-key.pem)")
    return public_key


def load_private_key(path: Path, password: bytes | None = None) -> ec.EllipticCurvePrivateKey:
    """The EC private key in PEM file ``path``; a wrong or missing password is a SigningConfigError."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningConfigError(f"cannot read the signing key {path}: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(data, password)
    except TypeError as exc:  # encrypted without a password, or a password for a plain key
        hint = "set --signing-key-password-file" if password is None else "drop --signing-key-password-file"
        raise SigningConfigError(f"the signing key {path} {exc}: {hint}") from exc
    except ValueError as exc:
        raise SigningConfigError(f"the signing key {path} is not a PEM private key, or the password is wrong "
                                 f"({exc})") from exc
    _supported(key.public_key(), f"the signing key {path}", SigningConfigError)
    return key  # type: ignore[return-value]


def _key_files(path: Path) -> list[Path]:
    """A file, or every visible regular file of a directory (a mounted ConfigMap's keys)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if not p.name.startswith(".") and p.is_file())
    return [path]


def load_public_keys(paths: list[Path]) -> list[tuple[Path, ec.EllipticCurvePublicKey]]:
    """Every PEM public key in ``paths`` (files, or directories of files), with the file it came from."""
    keys = []
    for given in paths:
        files = _key_files(Path(given))
        if not files:
            raise TrustConfigError(f"--trusted-keys {given}: the directory holds no key files")
        for path in files:
            try:
                public_key = serialization.load_pem_public_key(path.read_bytes())
            except OSError as exc:
                raise TrustConfigError(f"cannot read the trusted key {path}: {exc.strerror}") from exc
            except ValueError as exc:
                raise TrustConfigError(f"the trusted key {path} is not a PEM public key "
                                       f"(openssl ec -in signing-key.pem -pubout -out signing-key.pub)") from exc
            keys.append((path, _supported(public_key, f"the trusted key {path}", TrustConfigError)))
    return keys


def load_certificates(path: Path, what: str, error: type[ValueError]) -> list[x509.Certificate]:
    """All PEM certificates in ``path`` (a bundle); none is an error naming ``what``."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from exc
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise error(f"{what} {path} holds no PEM certificate ({exc})") from exc
    return certs


def usable_for_signing(cert: x509.Certificate) -> bool:
    """model-signing's rule: KeyUsage digitalSignature, or ExtendedKeyUsage codeSigning."""
    try:
        if cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature:
            return True
    except x509.ExtensionNotFound:
        pass
    try:
        return ExtendedKeyUsageOID.CODE_SIGNING in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
