"""A throwaway CA, server and client certificates for TLS tests, and signing keys and code-signing
certificates for the signing tests (``cryptography``, in memory), shared by every suite."""
from __future__ import annotations

import dataclasses
import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclasses.dataclass
class Pem:
    cert: bytes
    key: bytes


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _builder(subject: str, issuer: x509.Name, public_key, valid: tuple[datetime.timedelta, datetime.timedelta] | None = None
             ) -> x509.CertificateBuilder:
    """Valid from ``now + valid[0]`` to ``now + valid[1]`` (default: 5 minutes ago to a day ahead)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = valid or (-datetime.timedelta(minutes=5), datetime.timedelta(days=1))
    return (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer).public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now + start).not_valid_after(now + end))


def make_ca(name: str = "plantserve test CA") -> tuple[Pem, object]:
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (_builder(name, subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return Pem(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)), (cert, key)


def issue(ca: tuple[object, object], name: str, *, server: bool, names: list[str] | None = None,
          client_auth: bool = False) -> Pem:
    """A leaf certificate. Server certificates name ``names`` (default localhost) and 127.0.0.1;
    ``client_auth`` adds the client usage to a server certificate (one Secret for both ends of mTLS)."""
    ca_cert, ca_key = ca
    key = _key()
    usages = [ExtendedKeyUsageOID.SERVER_AUTH] if server else [ExtendedKeyUsageOID.CLIENT_AUTH]
    if server and client_auth:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (_builder(name, ca_cert.subject, key.public_key())
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False))
    if server:
        sans = [x509.DNSName(n) for n in (names or ["localhost"])]
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [*sans, x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return Pem(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))


@dataclasses.dataclass
class TlsFiles:
    ca: Pem
    server: Pem
    client: Pem
    ca_path: Path
    client_cert_path: Path
    client_key_path: Path


def make_tls(tmp: Path) -> TlsFiles:
    ca_pem, ca = make_ca()
    server = issue(ca, "localhost", server=True)
    client = issue(ca, "plant-line-7", server=False)
    paths = {"ca.pem": ca_pem.cert, "client.pem": client.cert, "client.key": client.key}
    for name, data in paths.items():
        (tmp / name).write_bytes(data)
    return TlsFiles(ca_pem, server, client, tmp / "ca.pem", tmp / "client.pem", tmp / "client.key")


# -- signing -------------------------------------------------------------------------------------
def _pem_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def write_key_pair(tmp: Path, name: str, password: bytes | None = None, curve=None) -> tuple[Path, Path]:
    """``NAME.pem`` (PKCS#8, encrypted when ``password`` is given) and ``NAME.pub`` under ``tmp``."""
    key = ec.generate_private_key(curve or ec.SECP256R1())
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    private, public = tmp / f"{name}.pem", tmp / f"{name}.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    public.write_bytes(_pem_public(key))
    return private, public


def issue_signing(ca: tuple[object, object], name: str, *, identity: str | None = None,
                  valid: tuple[datetime.timedelta, datetime.timedelta] | None = None,
                  usage: bool = True) -> Pem:
    """A code-signing leaf (digitalSignature, codeSigning; ``identity`` as an email SAN)."""
    ca_cert, ca_key = ca
    key = _key()
    builder = (_builder(name, ca_cert.subject, key.public_key(), valid)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    if usage:
        builder = (builder.add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                                         critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False))
    if identity:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(identity)]), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return Pem(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))


def issue_intermediate(ca: tuple[object, object], name: str) -> tuple[Pem, tuple[object, object]]:
    """An issuing CA under ``ca``, as a plant's PKI would have."""
    ca_cert, ca_key = ca
    key = _key()
    cert = (_builder(name, ca_cert.subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(ca_key, hashes.SHA256()))
    return Pem(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)), (cert, key)
