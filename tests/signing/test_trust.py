"""serving.signing.trust: loading anchors, and the certificate checks in the order a reason is given."""
from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509

from serving.signing import SignatureError, TrustConfigError, load_trust
from serving.signing.trust import certificate_identities
from tests.signing.versions import IDENTITY, Keys, Pki
from tests.tls import issue_signing, make_ca


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _reason(trust, leaf, chain, now=None) -> str:
    with pytest.raises(SignatureError) as info:
        trust.check_chain(leaf, chain, now)
    return info.value.reason


def test_configured_and_described(keys: Keys, pki: Pki) -> None:
    assert not load_trust().configured
    trust = load_trust([keys.pub, keys.other_pub], trusted_ca=pki.ca, identity=IDENTITY)
    assert trust.configured and len(trust.keys) == 2
    assert trust.describe() == f"2 trusted key(s), CA bundle {pki.ca} for identity {IDENTITY!r}"
    assert trust.keys_for_hint(trust.keys[1].hint) == [trust.keys[1]]
    assert trust.keys_for_hint(None) == list(trust.keys)  # an old bundle without a key id: try them all


def test_identity_needs_a_ca(keys: Keys) -> None:
    with pytest.raises(TrustConfigError, match="--trusted-identity needs --trusted-ca"):
        load_trust([keys.pub], identity=IDENTITY)


def test_chain_checks(pki: Pki) -> None:
    trust = load_trust(trusted_ca=pki.ca)
    leaf, issuing = _cert(pki.cert), _cert(pki.chain)
    trust.check_chain(leaf, [issuing])
    assert _reason(trust, leaf, []) == "untrusted_certificate"  # the issuing CA is missing from the bundle
    assert _reason(trust, _cert(pki.expired_cert), [issuing]) == "expired_certificate"
    assert _reason(trust, _cert(pki.foreign_cert), []) == "untrusted_certificate"
    tomorrow = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
    assert _reason(trust, leaf, [issuing], now=tomorrow) == "expired_certificate"
    assert _reason(load_trust(), leaf, [issuing]) == "untrusted_certificate"  # no CA trusted at all


def test_a_leaf_that_may_not_sign_is_untrusted(tmp_path: Path) -> None:
    ca_pem, ca = make_ca("Plant CA")
    (tmp_path / "ca.pem").write_bytes(ca_pem.cert)
    plain = x509.load_pem_x509_certificate(issue_signing(ca, "no usage", usage=False).cert)
    assert _reason(load_trust(trusted_ca=tmp_path / "ca.pem"), plain, []) == "untrusted_certificate"


def test_identities_are_sans_then_common_name(pki: Pki) -> None:
    assert certificate_identities(_cert(pki.cert)) == [IDENTITY, "training line 3"]
    trust = load_trust(trusted_ca=pki.ca, identity="someone@else.example")
    assert _reason(trust, _cert(pki.cert), [_cert(pki.chain)]) == "identity_mismatch"
