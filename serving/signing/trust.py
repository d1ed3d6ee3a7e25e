"""Trust anchors: which signers a verifier accepts, offline.

- ``--trusted-keys``: PEM public keys, files or directories of files (a mounted ConfigMap);
- ``--trusted-ca``: a PEM CA bundle (the plant's root, or an issuing CA: the chain may stop at
  any certificate of the bundle), optionally with ``--trusted-identity``, which the leaf
  certificate must carry as a subjectAltName (email, URI, DNS) or as its subject common name.

Certificates are checked at the time of verification: every certificate of the path must be
valid *now* (there is no trusted timestamp to check an older signing time against). The path is
built and checked with ``cryptography`` alone (``chain.py``): no OpenSSL bindings, no
``model_signing`` on the verifying side.

Example::

    >>> Trust().configured
    False
"""
from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .chain import check_path
from .errors import SignatureError, TrustConfigError
from .keys import key_fingerprint, key_hint, load_certificates, load_public_keys, usable_for_signing

__all__ = ["Trust", "TrustedKey", "load_trust", "certificate_identities"]

@dataclasses.dataclass(frozen=True)
class TrustedKey:
    path: Path
    public_key: ec.EllipticCurvePublicKey
    #: sha256 of the DER SubjectPublicKeyInfo (what people compare).
    fingerprint: str
    #: sha256 of the PEM SubjectPublicKeyInfo (what model-signing bundles name the key by).
    hint: str


@dataclasses.dataclass(frozen=True)
class Trust:
    keys: tuple[TrustedKey, ...] = ()
    ca_certificates: tuple[x509.Certificate, ...] = ()
    ca_path: Path | None = None
    identity: str | None = None

    @property
    def configured(self) -> bool:
        """Any anchor at all: then every version (and pointer) must carry a valid signature."""
        return bool(self.keys or self.ca_certificates)

    def describe(self) -> str:
        parts = [f"{len(self.keys)} trusted key(s)"] if self.keys else []
        if self.ca_certificates:
            parts.append(f"CA bundle {self.ca_path}" + (f" for identity {self.identity!r}" if self.identity else ""))
        return ", ".join(parts) or "no trust anchor"

    def keys_for_hint(self, hint: str | None) -> list[TrustedKey]:
        """The trusted keys a bundle's key hint names (all of them for an old bundle without a hint)."""
        return [k for k in self.keys if hint is None or k.hint == hint]

    def check_chain(self, leaf: x509.Certificate, chain: list[x509.Certificate],
                    now: datetime.datetime | None = None) -> None:
        """Raise SignatureError unless ``leaf`` chains to the trusted CA, valid now, usable and named right."""
        if not self.ca_certificates:
            raise SignatureError("untrusted_certificate",
                                 f"signed with the certificate {leaf.subject.rfc4514_string()} but no CA is trusted "
                                 "(--trusted-ca)")
        moment = now or datetime.datetime.now(datetime.timezone.utc)
        check_path(leaf, chain, list(self.ca_certificates), moment)
        if not usable_for_signing(leaf):
            raise SignatureError("untrusted_certificate",
                                 f"the certificate {leaf.subject.rfc4514_string()} may not sign "
                                 "(no digitalSignature KeyUsage, no codeSigning ExtendedKeyUsage)")
        if self.identity is not None and self.identity not in certificate_identities(leaf):
            raise SignatureError("identity_mismatch",
                                 f"the certificate {leaf.subject.rfc4514_string()} is not for {self.identity!r} "
                                 f"(it names {', '.join(certificate_identities(leaf)) or 'nothing'})")


def certificate_identities(cert: x509.Certificate) -> list[str]:
    """subjectAltName emails, URIs and DNS names, then the subject common names."""
    found: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        for kind in (x509.RFC822Name, x509.UniformResourceIdentifier, x509.DNSName):
            found.extend(san.get_values_for_type(kind))
    except x509.ExtensionNotFound:
        pass
    found.extend(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME))
    return found


def load_trust(trusted_keys: list[Path] | None = None, trusted_ca: Path | None = None,
               identity: str | None = None) -> Trust:
    """Load every anchor now, so a bad file is a start-up error that names it."""
    if identity and trusted_ca is None:
        raise TrustConfigError("--trusted-identity needs --trusted-ca (it names a certificate's owner)")
    keys = tuple(TrustedKey(path, key, key_fingerprint(key), key_hint(key))
                 for path, key in load_public_keys(list(trusted_keys or [])))
    cas: tuple[x509.Certificate, ...] = ()
    if trusted_ca is not None:
        cas = tuple(load_certificates(trusted_ca, "the trusted CA bundle", TrustConfigError))
    return Trust(keys, cas, trusted_ca, identity or None)
