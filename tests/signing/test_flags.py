"""serving.signing.flags: flags, env fallbacks, lists, and early errors."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from serving.signing import SigningConfigError, TrustConfigError
from serving.signing import flags
from serving.signing.flags import add_signing_arguments, add_trust_arguments
from tests.signing.versions import Keys, Pki


class _Parsed:
    """Parsed flags with the env they are built against."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        parser = argparse.ArgumentParser()
        add_signing_arguments(parser)
        add_trust_arguments(parser)
        self.args, self.env = parser.parse_args(argv), env


def signing_config(parsed: _Parsed):
    return flags.signing_config(parsed.args, parsed.env)


def signer_from_args(parsed: _Parsed):
    return flags.signer_from_args(parsed.args, parsed.env)


def trust_from_args(parsed: _Parsed):
    return flags.trust_from_args(parsed.args, parsed.env)


_parse = _Parsed


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


def test_settings_are_declared_once_and_read_at_build_time_not_parser_build_time(keys: Keys) -> None:
    parser = argparse.ArgumentParser()
    add_trust_arguments(parser)
    args = parser.parse_args([])  # the env is read when the settings are built, not when the flags are added
    assert flags.trust_settings(args, {"PLANTSERVE_TRUSTED_KEYS": str(keys.pub)}).trusted_keys == (keys.pub,)
    assert flags.trust_settings(args, {}).trusted_keys == ()
    assert "PLANTSERVE_TRUSTED_KEYS" in parser.format_help() and flags.TRUSTED_KEYS_HELP[:20] in parser.format_help()


def test_sidecar_uses_the_same_trust_declarations() -> None:
    from serving import settings as spec
    from serving.sidecar.settings import Settings

    ours = {s.name: s for s in spec.specs(flags.TrustSettings)}
    sidecar = {s.name: s for s in spec.specs(Settings)}
    for name, declared in ours.items():
        assert (sidecar[name].flag, sidecar[name].env, sidecar[name].help) == (declared.flag, declared.env, declared.help)
