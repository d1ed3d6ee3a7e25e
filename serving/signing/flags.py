"""The signing and trust settings of ``plantserve train``, ``rollout`` and ``verify``, declared once
(flag, ``PLANTSERVE_*`` env, default, help) with :mod:`serving.settings`. The sidecar declares the
same trust flags in its own settings with the help texts below.

List-valued settings take commas and may repeat; a flag wins over its env variable.

Example::

    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_trust_arguments(p)
    >>> trust_settings(p.parse_args(["--trusted-keys", "a.pub,b.pub", "--trusted-keys", "keys/"]), env={}).trusted_keys
    (PosixPath('a.pub'), PosixPath('b.pub'), PosixPath('keys'))
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Mapping

from serving import settings as spec
from serving.settings import SettingsError, setting

from .signer import Signer, SigningConfig, load_signer
from .trust import Trust, load_trust

__all__ = ["SigningSettings", "TrustSettings", "add_signing_arguments", "add_trust_arguments", "signing_config",
           "signer_from_args", "trust_settings", "trust_from_args", "TRUSTED_KEYS_HELP", "TRUSTED_CA_HELP",
           "TRUSTED_IDENTITY_HELP"]

_SIGNING = "signing (OpenSSF model-signing format, offline)"
_TRUST = "trust anchors (any of them makes a signature required)"

TRUSTED_KEYS_HELP = "PEM public keys (files, or directories such as a mounted ConfigMap) that model.sig must verify with"
TRUSTED_CA_HELP = "PEM CA bundle that the signing certificate must chain to (certificate mode)"
TRUSTED_IDENTITY_HELP = ("with --trusted-ca: the identity the signing certificate must carry (a subjectAltName "
                         "email/URI/DNS name, or its subject CN)")


@dataclasses.dataclass(frozen=True)
class SigningSettings:
    """How to sign what is published: a key (key mode), plus its certificate and chain (certificate mode)."""

    signing_key: Path | None = setting(help="PEM EC private key (P-256/384/521) to sign with", group=_SIGNING)
    signing_key_password_file: Path | None = setting(help="file holding the key's password", group=_SIGNING)
    signing_cert: Path | None = setting(help="certificate mode: the key's PEM leaf certificate, issued by the "
                                             "plant's CA", group=_SIGNING)
    signing_chain: tuple[Path, ...] = setting((), help="certificate mode: PEM intermediates/root up to the plant's "
                                                       "CA", group=_SIGNING)

    def validate(self) -> None:
        if self.signing_key is None and (self.signing_cert or self.signing_key_password_file or self.signing_chain):
            raise SettingsError("--signing-cert, --signing-chain and --signing-key-password-file need --signing-key "
                                "(or PLANTSERVE_SIGNING_KEY)")

    @property
    def config(self) -> SigningConfig | None:
        """The signer's config; None when no key is given (publishing unsigned)."""
        if self.signing_key is None:
            return None
        return SigningConfig(key=self.signing_key, password_file=self.signing_key_password_file,
                             certificate=self.signing_cert, chain=self.signing_chain)


@dataclasses.dataclass(frozen=True)
class TrustSettings:
    """What a signature must verify against; nothing configured means nothing is required."""

    trusted_keys: tuple[Path, ...] = setting((), help=TRUSTED_KEYS_HELP, group=_TRUST)
    trusted_ca: Path | None = setting(help=TRUSTED_CA_HELP, group=_TRUST)
    trusted_identity: str | None = setting(help=TRUSTED_IDENTITY_HELP, group=_TRUST)

    def load(self) -> Trust:
        """Load every anchor now (a TrustConfigError names the bad file)."""
        return load_trust(list(self.trusted_keys), self.trusted_ca, self.trusted_identity)


def add_signing_arguments(parser: argparse.ArgumentParser) -> None:
    spec.add_arguments(parser, SigningSettings)


def add_trust_arguments(parser: argparse.ArgumentParser) -> None:
    spec.add_arguments(parser, TrustSettings)


def signing_config(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> SigningConfig | None:
    """The config the flags (over the env) describe; None when no key is given. SettingsError on half a config."""
    return spec.build(SigningSettings, args, env).config


def signer_from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Signer | None:
    """Load and check the signer now (a SigningConfigError names the bad file)."""
    config = signing_config(args, env)
    return load_signer(config) if config else None


def trust_settings(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> TrustSettings:
    return spec.build(TrustSettings, args, env)


def trust_from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Trust:
    """Load every anchor the flags (over the env) name (a TrustConfigError names the bad file)."""
    return trust_settings(args, env).load()
