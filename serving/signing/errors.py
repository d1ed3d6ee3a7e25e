"""Signing errors: one class per side, each with a machine-readable ``reason``.

``SignatureError`` is a refusal (the version or pointer is not to be trusted); its ``reason`` is
one of ``REASONS``, stable for logs, ``/status`` and metric labels. ``SigningConfigError`` and
``TrustConfigError`` are bad input (a key that does not load, a wrong password, a CA bundle that
is not PEM): the operator fixes the flag the message names.

Example::

    >>> err = SignatureError("unsigned", "fuel/3 has no model.sig")
    >>> err.reason, str(err)
    ('unsigned', 'fuel/3 has no model.sig')
"""
from __future__ import annotations

__all__ = [
    "REASONS",
    "SignatureError",
    "SigningConfigError",
    "TrustConfigError",
]

#: Every reason a signature can be refused for, with what it means.
REASONS: dict[str, str] = {
    "unsigned": "no signature file (model.sig, rollout.json.sig) although a trust anchor is configured",
    "malformed": "the signature file is not a Sigstore bundle with a DSSE envelope around an in-toto statement",
    "unsupported_format": "a bundle this verifier does not check (keyless Sigstore, shard or non-sha256 hashing)",
    "unknown_key": "signed by a key none of the trusted keys matches (or a key, when only a CA is trusted)",
    "bad_signature": "the DSSE signature does not verify with the named key or certificate",
    "untrusted_certificate": "the certificate chain does not lead to the trusted CA, or the leaf may not sign",
    "expired_certificate": "a certificate of the chain is expired or not yet valid now",
    "identity_mismatch": "the certificate does not carry the required identity",
    "tampered": "the files differ from the signed statement: extra, missing or changed (manifest.json included)",
}


class SignatureError(ValueError):
    """A signature check failed; nothing it covers may be used.

    ``kind`` is the coarse label (``reason="signature"`` of ``plantserve_rollout_total``);
    ``reason`` is the precise one from ``REASONS``.
    """

    kind = "signature"

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown signature failure reason {reason!r}")
        super().__init__(message)
        self.reason = reason


class SigningConfigError(ValueError):
    """The signing key, its password or its certificates cannot be used; nothing was signed."""


class TrustConfigError(ValueError):
    """A trusted key, CA bundle or identity flag is unusable."""
