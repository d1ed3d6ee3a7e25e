"""A throwaway CA, server and client certificates for TLS tests (``cryptography``, in memory), shared by every suite."""
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


def _builder(subject: str, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer).public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1)))


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
