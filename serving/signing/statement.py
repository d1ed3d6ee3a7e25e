"""Check a bundle's signature against the trust anchors and read its statement, offline.

The order is fixed: parse the bundle, find the signer (a trusted key named by the bundle's key
hint, or a certificate chain checked against the trusted CA), verify the DSSE signature over the
pre-authentication encoding of the payload, and only then read the now-authenticated in-toto
statement into ``path -> sha256``. Comparing that with files on disk is the caller's step
(``verify.py``).

Example::

    >>> try:
    ...     verify_statement(b"not json", Trust())
    ... except SignatureError as exc:
    ...     exc.reason
    'malformed'
"""
from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from .errors import SignatureError
from .info import SignerInfo
from .keys import key_fingerprint
from .trust import Trust, certificate_identities

__all__ = ["verify_statement", "parse_bundle"]

_PAYLOAD_TYPE = "application/vnd.in-toto+json"
_STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


def parse_bundle(data: bytes):
    """The Sigstore bundle in ``data`` (model-signing's JSON), or SignatureError("malformed")."""
    from sigstore_models.bundle import v1 as bundle_v1

    try:
        parsed = json.loads(data)
        material = parsed["verificationMaterial"]
        # model-signing's reader accepts bundles written before tlogEntries and the key hint existed.
        material.setdefault("tlogEntries", [])
        if isinstance(material.get("publicKey"), dict):
            material["publicKey"].setdefault("hint", None)
            for legacy in ("rawBytes", "keyDetails"):
                material["publicKey"].pop(legacy, None)
        return bundle_v1.Bundle.from_dict(parsed)
    except (ValueError, KeyError, TypeError) as exc:  # JSON, missing fields, pydantic validation
        raise SignatureError("malformed", f"the signature is not a model-signing Sigstore bundle: {exc}") from exc


def _dsse_verifies(public_key: object, envelope) -> bool:
    from model_signing._signing import sign_ec_key, sign_sigstore_pb

    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise SignatureError("unsupported_format", f"signed with a {type(public_key).__name__}: "
                                                   "model signing uses EC keys")
    try:
        public_key.verify(envelope.signatures[0].sig, sign_sigstore_pb.pae(envelope.payload),
                          ec.ECDSA(sign_ec_key.get_ec_key_hash(public_key)))
    except InvalidSignature:
        return False
    return True


def _key_signer(bundle, trust: Trust) -> SignerInfo:
    hint = bundle.verification_material.public_key.hint
    candidates = trust.keys_for_hint(hint)
    if not candidates:
        trusted = ", ".join(k.fingerprint[:16] for k in trust.keys) or "none (only a CA is trusted)"
        raise SignatureError("unknown_key", f"signed by an untrusted key (model-signing key id {hint}); "
                                            f"trusted key fingerprints: {trusted}")
    for key in candidates:
        if _dsse_verifies(key.public_key, bundle.dsse_envelope):
            return SignerInfo(method="key", key_fingerprint=key.fingerprint, trusted_key=key.path)
    if hint is None:
        raise SignatureError("unknown_key", "an old bundle without a key id, and no trusted key verifies it")
    raise SignatureError("bad_signature", f"the DSSE signature does not verify with the trusted key "
                                          f"{candidates[0].path} that the bundle names")


def _certificate_signer(bundle, trust: Trust, now: datetime.datetime | None) -> SignerInfo:
    try:
        certs = [x509.load_der_x509_certificate(c.raw_bytes)
                 for c in bundle.verification_material.x509_certificate_chain.certificates]
    except ValueError as exc:
        raise SignatureError("malformed", f"the bundle's certificate chain does not parse: {exc}") from exc
    if not certs:
        raise SignatureError("malformed", "the bundle's certificate chain is empty")
    leaf = certs[0]
    trust.check_chain(leaf, certs[1:], now)
    if not _dsse_verifies(leaf.public_key(), bundle.dsse_envelope):
        raise SignatureError("bad_signature", f"the DSSE signature does not verify with the certificate "
                                              f"{leaf.subject.rfc4514_string()}")
    return SignerInfo(method="certificate", key_fingerprint=key_fingerprint(leaf.public_key()),  # type: ignore[arg-type]
                      subject=leaf.subject.rfc4514_string(), issuer=leaf.issuer.rfc4514_string(),
                      not_before=leaf.not_valid_before_utc, not_after=leaf.not_valid_after_utc,
                      identities=tuple(certificate_identities(leaf)))


def _statement(payload: bytes) -> tuple[str, str, dict[str, str]]:
    """(subject name, root digest, path -> sha256) of an authenticated payload."""
    from model_signing._signing import signing

    try:
        data: dict[str, Any] = json.loads(payload)
        if data.get("_type") != _STATEMENT_TYPE:
            raise ValueError(f"statement type {data.get('_type')!r} is not {_STATEMENT_TYPE}")
        manifest = signing.dsse_payload_to_manifest(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise SignatureError("malformed", f"the signed statement is not a model-signing statement: {exc}") from exc
    serialization = manifest.serialization_type
    if serialization.get("method") != "files" or serialization.get("hash_type") != "sha256":
        raise SignatureError("unsupported_format", f"the statement hashes with {serialization}: only per-file "
                                                   "sha256 (model_signing's default) is checked here")
    files = {d.identifier: d.digest.digest_hex for d in manifest.resource_descriptors()}
    root = data["subject"][0]["digest"]["sha256"]
    return manifest.model_name, root, files


def verify_statement(bundle_bytes: bytes, trust: Trust, now: datetime.datetime | None = None) -> SignerInfo:
    """Who signed ``bundle_bytes`` (checked against ``trust``) and the files its statement lists."""
    bundle = parse_bundle(bundle_bytes)
    envelope = bundle.dsse_envelope
    if envelope is None:
        raise SignatureError("unsupported_format", "the bundle signs a message digest, not a DSSE statement")
    if not envelope.signatures:
        raise SignatureError("malformed", "the DSSE envelope carries no signature")
    material = bundle.verification_material
    if material.public_key is not None:
        info = _key_signer(bundle, trust)
    elif material.x509_certificate_chain is not None:
        info = _certificate_signer(bundle, trust, now)
    else:
        raise SignatureError("unsupported_format", "a keyless Sigstore bundle needs the public transparency "
                                                   "log: sign with a key or the plant's CA instead")
    if envelope.payload_type != _PAYLOAD_TYPE:
        raise SignatureError("malformed", f"DSSE payload type {envelope.payload_type!r} is not {_PAYLOAD_TYPE}")
    name, root, files = _statement(envelope.payload)
    return dataclasses.replace(info, statement_name=name, root_digest=root, files=files)
