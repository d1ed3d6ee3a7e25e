"""Check a bundle's signature against the trust anchors and read its statement, offline, with
``cryptography`` alone (the bundle is parsed by ``bundle.py``).

The order is fixed: parse the bundle, find the signer (a trusted key named by the bundle's key
hint, or a certificate chain checked against the trusted CA), verify the DSSE signature over the
pre-authentication encoding of the payload, and only then read the now-authenticated in-toto
statement into ``path -> sha256``. Comparing that with files on disk is the caller's step
(``verify.py``).

The statement is in-toto Statement v1 with model-signing's predicate
(``https://model_signing/signature/v1.0``): one subject (the model's name, and the sha256 over
the raw bytes of every resource digest in the listed order), ``predicate.serialization``
(``method: files``, ``hash_type: sha256``) and ``predicate.resources`` (name, algorithm, digest).
The ECDSA hash follows the curve (P-256: SHA-256, P-384: SHA-384, P-521: SHA-512), as Sigstore's
specs and model-signing have it.

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
import hashlib
import json
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from .bundle import PAYLOAD_TYPE, Bundle, pae, parse_bundle
from .errors import SignatureError
from .info import SignerInfo
from .keys import key_fingerprint
from .trust import Trust, certificate_identities

__all__ = ["verify_statement", "parse_bundle", "read_statement"]

_STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
_PREDICATE_TYPE = "https://model_signing/signature/v1.0"
_CURVE_HASHES = {256: hashes.SHA256, 384: hashes.SHA384, 521: hashes.SHA512}


def _dsse_verifies(public_key: object, bundle: Bundle) -> bool:
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.key_size not in _CURVE_HASHES:
        raise SignatureError("unsupported_format", f"signed with a {type(public_key).__name__}: "
                                                   "model signing uses EC keys on P-256, P-384 or P-521")
    assert bundle.envelope is not None
    algorithm = ec.ECDSA(_CURVE_HASHES[public_key.curve.key_size]())
    try:
        public_key.verify(bundle.envelope.signatures[0], pae(bundle.envelope.payload), algorithm)
    except InvalidSignature:
        return False
    return True


def _key_signer(bundle: Bundle, trust: Trust) -> SignerInfo:
    hint = bundle.key_hint
    candidates = trust.keys_for_hint(hint)
    if not candidates:
        trusted = ", ".join(k.fingerprint[:16] for k in trust.keys) or "none (only a CA is trusted)"
        raise SignatureError("unknown_key", f"signed by an untrusted key (model-signing key id {hint}); "
                                            f"trusted key fingerprints: {trusted}")
    for key in candidates:
        if _dsse_verifies(key.public_key, bundle):
            return SignerInfo(method="key", key_fingerprint=key.fingerprint, trusted_key=key.path)
    if hint is None:
        raise SignatureError("unknown_key", "an old bundle without a key id, and no trusted key verifies it")
    raise SignatureError("bad_signature", f"the DSSE signature does not verify with the trusted key "
                                          f"{candidates[0].path} that the bundle names")


def _certificate_signer(bundle: Bundle, trust: Trust, now: datetime.datetime | None) -> SignerInfo:
    try:
        certs = [x509.load_der_x509_certificate(der) for der in bundle.certificates]
    except ValueError as exc:
        raise SignatureError("malformed", f"the bundle's certificate chain does not parse: {exc}") from exc
    leaf = certs[0]
    trust.check_chain(leaf, certs[1:], now)
    if not _dsse_verifies(leaf.public_key(), bundle):
        raise SignatureError("bad_signature", f"the DSSE signature does not verify with the certificate "
                                              f"{leaf.subject.rfc4514_string()}")
    return SignerInfo(method="certificate", key_fingerprint=key_fingerprint(leaf.public_key()),  # type: ignore[arg-type]
                      subject=leaf.subject.rfc4514_string(), issuer=leaf.issuer.rfc4514_string(),
                      not_before=leaf.not_valid_before_utc, not_after=leaf.not_valid_after_utc,
                      identities=tuple(certificate_identities(leaf)))


def _field(data: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(data, dict) or not isinstance(data.get(key), kind):
        raise ValueError(f"{where}.{key} is missing or not a {kind.__name__}")
    return data[key]


def read_statement(payload: bytes) -> tuple[str, str, dict[str, str]]:
    """(subject name, root digest, path -> sha256) of an authenticated in-toto payload."""
    try:
        data: Any = json.loads(payload)
        if _field(data, "_type", str, "statement") != _STATEMENT_TYPE:
            raise ValueError(f"statement type {data['_type']!r} is not {_STATEMENT_TYPE}")
        if _field(data, "predicateType", str, "statement") != _PREDICATE_TYPE:
            raise ValueError(f"predicate type {data['predicateType']!r} is not {_PREDICATE_TYPE}")
        subjects = _field(data, "subject", list, "statement")
        if len(subjects) != 1:
            raise ValueError(f"{len(subjects)} subjects, not one")
        name = _field(subjects[0], "name", str, "subject")
        root = _field(_field(subjects[0], "digest", dict, "subject"), "sha256", str, "subject.digest")
        predicate = _field(data, "predicate", dict, "statement")
        serialization = _field(predicate, "serialization", dict, "predicate")
        resources = _field(predicate, "resources", list, "predicate")
    except (ValueError, UnicodeDecodeError) as exc:
        raise SignatureError("malformed", f"the signed statement is not a model-signing statement: {exc}") from exc
    if serialization.get("method") != "files" or serialization.get("hash_type") != "sha256":
        raise SignatureError("unsupported_format", f"the statement hashes with {serialization}: only per-file "
                                                   "sha256 (model_signing's default) is checked here")
    files: dict[str, str] = {}
    hasher = hashlib.sha256()
    try:
        for resource in resources:
            path = _field(resource, "name", str, "resource")
            digest = _field(resource, "digest", str, "resource").lower()
            if _field(resource, "algorithm", str, "resource") != "sha256" or len(digest) != 64:
                raise ValueError(f"{path}: not a sha256 digest")
            if path in files:
                raise ValueError(f"{path} is listed twice")
            hasher.update(bytes.fromhex(digest))
            files[path] = digest
    except ValueError as exc:
        raise SignatureError("malformed", f"the signed statement lists a bad resource: {exc}") from exc
    if hasher.hexdigest() != root.lower():
        raise SignatureError("malformed", f"the statement is inconsistent: its root digest {root} is not the "
                                          f"sha256 of its resources' digests ({hasher.hexdigest()})")
    return name, root, files


def verify_statement(bundle_bytes: bytes, trust: Trust, now: datetime.datetime | None = None) -> SignerInfo:
    """Who signed ``bundle_bytes`` (checked against ``trust``) and the files its statement lists."""
    bundle = parse_bundle(bundle_bytes)
    if bundle.mode == "keyless":
        raise SignatureError("unsupported_format", "a keyless Sigstore bundle needs the public transparency "
                                                   "log: sign with a key or the plant's CA instead")
    if bundle.envelope is None:
        raise SignatureError("unsupported_format", "the bundle signs a message digest, not a DSSE statement")
    if not bundle.envelope.signatures:
        raise SignatureError("malformed", "the DSSE envelope carries no signature")
    if bundle.mode == "key":
        info = _key_signer(bundle, trust)
    else:
        info = _certificate_signer(bundle, trust, now)
    if bundle.envelope.payload_type != PAYLOAD_TYPE:
        raise SignatureError("malformed", f"DSSE payload type {bundle.envelope.payload_type!r} is not {PAYLOAD_TYPE}")
    name, root, files = read_statement(bundle.envelope.payload)
    return dataclasses.replace(info, statement_name=name, root_digest=root, files=files)
