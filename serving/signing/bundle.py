"""The signature file as data: a Sigstore bundle (JSON) around a DSSE envelope, read with the
standard library alone, so that verifying needs ``cryptography`` and nothing else.

What is read, and from where (public formats, checked against ``model_signing`` 1.1 both ways):

- the bundle: ``mediaType`` ``application/vnd.dev.sigstore.bundle.v0.3+json`` (v0.1 and v0.2 are
  read the same way), ``verificationMaterial`` with exactly one of ``publicKey`` (``hint``: the key
  id), ``x509CertificateChain`` (``certificates[].rawBytes``: base64 DER, leaf first) or
  ``certificate`` (a keyless Sigstore leaf), and ``dsseEnvelope`` (or ``messageSignature``);
- the DSSE envelope: ``payload`` (base64), ``payloadType``, ``signatures[].sig`` (base64), signed
  over the pre-authentication encoding ``PAE`` of DSSE v1.

Example::

    >>> pae(b"{}")
    b'DSSEv1 28 application/vnd.in-toto+json 2 {}'
    >>> try:
    ...     parse_bundle(b"[]")
    ... except SignatureError as exc:
    ...     exc.reason
    'malformed'
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from typing import Any

from .errors import SignatureError

__all__ = ["Bundle", "Envelope", "PAYLOAD_TYPE", "parse_bundle", "pae"]

PAYLOAD_TYPE = "application/vnd.in-toto+json"
_MEDIA_PREFIX = "application/vnd.dev.sigstore.bundle"


@dataclasses.dataclass(frozen=True)
class Envelope:
    payload: bytes
    payload_type: str
    #: Every signature of the envelope (model-signing writes one; the first is the one checked).
    signatures: tuple[bytes, ...]


@dataclasses.dataclass(frozen=True)
class Bundle:
    """``key_hint`` is set (possibly None) in key mode, ``certificates`` (DER, leaf first) in certificate mode."""

    envelope: Envelope | None
    #: "key", "certificate" or "keyless".
    mode: str
    key_hint: str | None = None
    certificates: tuple[bytes, ...] = ()


def pae(payload: bytes, payload_type: str = PAYLOAD_TYPE) -> bytes:
    """DSSE v1 pre-authentication encoding: what the envelope's signature is computed over."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"{what} is not valid base64: {exc}") from exc


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


def _envelope(data: dict[str, Any]) -> Envelope | None:
    raw = data.get("dsseEnvelope")
    if raw is None:
        if "messageSignature" in data:
            return None
        raise ValueError("neither dsseEnvelope nor messageSignature")
    raw = _object(raw, "dsseEnvelope")
    signatures = raw.get("signatures", [])
    if not isinstance(signatures, list):
        raise ValueError("dsseEnvelope.signatures is not a list")
    return Envelope(_b64(raw.get("payload"), "dsseEnvelope.payload"), str(raw.get("payloadType", "")),
                    tuple(_b64(_object(s, "a signature").get("sig"), "a signature's sig") for s in signatures))


def _material(data: dict[str, Any]) -> tuple[str, str | None, tuple[bytes, ...]]:
    material = _object(data.get("verificationMaterial"), "verificationMaterial")
    if "publicKey" in material:
        hint = _object(material["publicKey"], "verificationMaterial.publicKey").get("hint")
        if hint is not None and not isinstance(hint, str):
            raise ValueError("publicKey.hint is not a string")
        return "key", hint or None, ()
    if "x509CertificateChain" in material:
        chain = _object(material["x509CertificateChain"], "x509CertificateChain").get("certificates")
        if not isinstance(chain, list) or not chain:
            raise ValueError("x509CertificateChain.certificates is empty")
        return "certificate", None, tuple(_b64(_object(c, "a certificate").get("rawBytes"), "a certificate's "
                                                                                           "rawBytes") for c in chain)
    if "certificate" in material:
        return "keyless", None, ()
    raise ValueError("verificationMaterial has no publicKey, x509CertificateChain or certificate")


def parse_bundle(data: bytes) -> Bundle:
    """The bundle in ``data``, or SignatureError("malformed") naming what is wrong."""
    try:
        parsed = _object(json.loads(data), "the bundle")
        media = parsed.get("mediaType")
        if not isinstance(media, str) or not media.startswith(_MEDIA_PREFIX):
            raise ValueError(f"mediaType {media!r} is not a Sigstore bundle")
        mode, hint, certificates = _material(parsed)
        return Bundle(_envelope(parsed), mode, hint, certificates)
    except (ValueError, UnicodeDecodeError) as exc:  # json.JSONDecodeError is a ValueError
        raise SignatureError("malformed", f"the signature is not a model-signing Sigstore bundle: {exc}") from exc
