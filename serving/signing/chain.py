"""Certificate path validation with ``cryptography`` alone: does a leaf chain to a trusted CA, now?

The rules (RFC 5280's, as far as an offline plant PKI needs them):

- a path runs from the leaf through the bundle's intermediates to a certificate of the trusted
  bundle; it may stop at *any* certificate of that bundle (an issuing CA alone is a valid anchor,
  OpenSSL's ``PARTIAL_CHAIN``);
- each link is checked with ``verify_directly_issued_by`` (the issuer's name and its signature);
- every issuer is a CA: basicConstraints ``ca=TRUE``, keyUsage ``keyCertSign`` when keyUsage is
  present, and its ``pathLenConstraint`` not exceeded;
- every certificate of the path, the anchor included, is valid at ``now``.

A failure is a ``SignatureError``: ``expired_certificate`` for a certificate of the path outside
its validity window, ``untrusted_certificate`` for anything else.

Example::

    >>> import datetime
    >>> try:
    ...     check_path(None, [], [], datetime.datetime.now(datetime.timezone.utc))
    ... except SignatureError as exc:
    ...     exc.reason
    'untrusted_certificate'
"""
from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from .errors import SignatureError

__all__ = ["check_path", "check_validity"]

#: Longest path tried (leaf, intermediates, anchor): plant PKIs are two or three deep.
_MAX_DEPTH = 8


def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def check_validity(cert: x509.Certificate, now: datetime.datetime) -> None:
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise SignatureError("expired_certificate",
                             f"the certificate {_name(cert)} is valid from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} "
                             f"to {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, not now")


def _ca_problem(issuer: x509.Certificate, below: int) -> str | None:
    """Why ``issuer`` may not issue a certificate with ``below`` CA certificates under it, or None."""
    try:
        constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return "it is not a CA (no basicConstraints)"
    if not constraints.ca:
        return "it is not a CA (basicConstraints CA:FALSE)"
    if constraints.path_length is not None and below > constraints.path_length:
        return f"its pathLenConstraint {constraints.path_length} allows fewer CAs below it"
    try:
        if not issuer.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign:
            return "its keyUsage lacks keyCertSign"
    except x509.ExtensionNotFound:
        pass
    return None


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):  # another name, another key, an unsupported algorithm
        return False
    return True


def check_path(leaf: x509.Certificate | None, intermediates: list[x509.Certificate],
               anchors: list[x509.Certificate], now: datetime.datetime) -> list[x509.Certificate]:
    """The validated path, leaf first and anchor last; SignatureError when there is none."""
    if leaf is None or not anchors:
        raise SignatureError("untrusted_certificate", "no certificate, or no trusted CA to check it against")
    path = [leaf]
    problems: list[str] = []
    while len(path) <= _MAX_DEPTH:
        current = path[-1]
        check_validity(current, now)
        if current in anchors:  # certificates compare by their DER bytes
            return path
        issuer = _find_issuer(current, [*anchors, *intermediates], path, problems)
        if issuer is None:
            break
        path.append(issuer)
    detail = "; ".join(problems) or f"no issuer of {_name(path[-1])} (issuer {path[-1].issuer.rfc4514_string()}) " \
                                    "among the bundle's chain and the trusted CAs"
    raise SignatureError("untrusted_certificate", f"the certificate {_name(leaf)} does not chain to a trusted CA: "
                                                  f"{detail}")


def _find_issuer(current: x509.Certificate, candidates: list[x509.Certificate], path: list[x509.Certificate],
                 problems: list[str]) -> x509.Certificate | None:
    """The first candidate (anchors first) that signed ``current`` and may issue at this depth."""
    below = len(path) - 1  # CA certificates already on the path under the issuer (the leaf does not count)
    for candidate in candidates:
        if candidate in path or candidate.subject != current.issuer or not _issued_by(current, candidate):
            continue
        problem = _ca_problem(candidate, below)
        if problem is None:
            return candidate
        problems.append(f"{_name(candidate)} signed {_name(current)} but {problem}")
    return None

