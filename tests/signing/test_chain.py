"""serving.signing.chain: path building and checking with cryptography alone, against hand-made PKIs
(an anchor in the middle, CA:FALSE issuers, keyUsage without keyCertSign, pathLen, expired anchors)."""
from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from serving.signing import SignatureError
from serving.signing.chain import check_path

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def _cert(name: str, issuer=None, *, ca: bool | None = True, path_length: int | None = None,
          cert_sign: bool | None = None, valid=(-DAY, DAY)):
    """(certificate, key); ``issuer`` (certificate, key) or None for self-signed; ``ca=None``: no basicConstraints."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_cert, issuer_key = issuer if issuer else (None, key)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer_cert.subject if issuer_cert else subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(NOW + valid[0])
               .not_valid_after(NOW + valid[1]))
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None),
                                        critical=True)
    if cert_sign is not None:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, cert_sign, False, False,
                                                      False), critical=True)
    return builder.sign(issuer_key, hashes.SHA256()), key


def _reason(leaf, intermediates, anchors, now=NOW) -> str:
    with pytest.raises(SignatureError) as info:
        check_path(leaf, intermediates, anchors, now)
    assert str(info.value)
    return info.value.reason


def test_paths_to_the_root_or_to_any_anchor_of_the_bundle() -> None:
    root = _cert("root")
    issuing = _cert("issuing", root, path_length=0)
    leaf, _ = _cert("leaf", issuing, ca=False)
    assert check_path(leaf, [issuing[0]], [root[0]], NOW) == [leaf, issuing[0], root[0]]
    assert check_path(leaf, [], [issuing[0]], NOW) == [leaf, issuing[0]]  # the issuing CA alone is trusted
    assert check_path(leaf, [issuing[0]], [issuing[0], root[0]], NOW) == [leaf, issuing[0]]
    assert _reason(leaf, [], [root[0]]) == "untrusted_certificate"  # the issuing CA is missing
    assert _reason(leaf, [issuing[0]], [_cert("root")[0]]) == "untrusted_certificate"  # same name, other key


def test_an_issuer_must_be_a_ca_allowed_to_sign_certificates() -> None:
    root = _cert("root")
    for broken in (_cert("issuing", root, ca=False), _cert("issuing", root, ca=None),
                   _cert("issuing", root, cert_sign=False)):
        leaf, _ = _cert("leaf", broken, ca=False)
        assert _reason(leaf, [broken[0]], [root[0]]) == "untrusted_certificate"
    good = _cert("issuing", root, cert_sign=True)
    assert check_path(_cert("leaf", good, ca=False)[0], [good[0]], [root[0]], NOW)[-1] == root[0]


def test_path_length_constraints() -> None:
    root = _cert("root", path_length=0)
    issuing = _cert("issuing", root)
    leaf, _ = _cert("leaf", issuing, ca=False)
    with pytest.raises(SignatureError, match="pathLenConstraint 0"):
        check_path(leaf, [issuing[0]], [root[0]], NOW)
    assert check_path(issuing[0], [], [root[0]], NOW) == [issuing[0], root[0]]


def test_every_certificate_of_the_path_is_valid_now() -> None:
    old_root = _cert("root", valid=(-3 * DAY, -DAY))
    leaf, _ = _cert("leaf", old_root, ca=False)
    assert _reason(leaf, [], [old_root[0]]) == "expired_certificate"
    root = _cert("root", valid=(-DAY, 3 * DAY))
    future = _cert("leaf", root, ca=False, valid=(DAY, 2 * DAY))[0]
    assert _reason(future, [], [root[0]]) == "expired_certificate"
    assert check_path(future, [], [root[0]], NOW + 1.5 * DAY)


def test_no_leaf_or_no_anchor() -> None:
    assert _reason(None, [], [_cert("root")[0]]) == "untrusted_certificate"
    assert _reason(_cert("self")[0], [], []) == "untrusted_certificate"
