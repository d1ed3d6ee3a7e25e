"""serving.signing.flags: flags, env fallbacks, lists, and early errors."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from serving.signing import SigningConfigError, TrustConfigError
from serving.signing.flags import (
    add_signing_arguments,
    add_trust_arguments,
    signer_from_args,
    signing_config,
    trust_from_args,
)
from tests.signing.versions import Keys, Pki


def _parse(argv: list[str], env: dict[str, str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_signing_arguments(parser, env=env)
    add_trust_arguments(parser, env=env)
    return parser.parse_args(argv)


def test_env_fallbacks_and_lists(keys: Keys, pki: Pki) -> None:
    env = {"PLANTSERVE_SIGNING_KEY": str(pki.key), "PLANTSERVE_SIGNING_CERT": str(pki.cert),
           "PLANTSERVE_SIGNING_CHAIN": str(pki.chain), "PLANTSERVE_TRUSTED_KEYS": f"{keys.pub},{keys.other_pub}",
           "PLANTSERVE_TRUSTED_CA": str(pki.ca)}
    args = _parse([], env)
    config = signing_config(args)
    assert (config.key, config.certificate, config.chain) == (pki.key, pki.cert, (pki.chain,))
    assert signer_from_args(args).certificate is not None
    trust = trust_from_args(args)
    assert [k.path for k in trust.keys] == [keys.pub, keys.other_pub] and trust.ca_path == pki.ca
    # a flag wins over the env
    assert signing_config(_parse(["--signing-key", str(keys.key)], {})).certificate is None


def test_no_key_means_unsigned_and_half_a_config_is_an_error(keys: Keys, pki: Pki) -> None:
    assert signer_from_args(_parse([], {})) is None
    with pytest.raises(ValueError, match="need --signing-key"):
        signing_config(_parse(["--signing-cert", str(pki.cert)], {}))
    with pytest.raises(SigningConfigError, match="cannot read the signing key"):
        signer_from_args(_parse(["--signing-key", "/nonexistent.pem"], {}))
    with pytest.raises(TrustConfigError):
        trust_from_args(_parse(["--trusted-keys", str(Path("/nonexistent.pub"))], {}))
