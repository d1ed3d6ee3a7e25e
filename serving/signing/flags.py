"""The signing and trust flags, shared by ``plantserve train``, ``rollout``, ``verify`` (and the sidecar).

Each flag has its ``PLANTSERVE_*`` env equivalent; list-valued ones take commas and may repeat.

Example::

    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_trust_arguments(p, env={})
    >>> trust_paths(p.parse_args(["--trusted-keys", "a.pub,b.pub", "--trusted-keys", "keys/"]))
    [PosixPath('a.pub'), PosixPath('b.pub'), PosixPath('keys')]
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Mapping

from .signer import Signer, SigningConfig, load_signer
from .trust import Trust, load_trust

__all__ = ["add_signing_arguments", "add_trust_arguments", "signing_config", "signer_from_args",
           "trust_paths", "trust_from_args"]


def _env_list(value: str | None) -> list[str]:
    return [value] if value else []


def add_signing_arguments(parser: argparse.ArgumentParser, env: Mapping[str, str] | None = None) -> None:
    env = os.environ if env is None else env
    group = parser.add_argument_group("signing (OpenSSF model-signing format, offline)")
    group.add_argument("--signing-key", type=Path, default=env.get("PLANTSERVE_SIGNING_KEY"),
                       help="PEM EC private key (P-256/384/521) to sign with [PLANTSERVE_SIGNING_KEY]")
    group.add_argument("--signing-key-password-file", type=Path,
                       default=env.get("PLANTSERVE_SIGNING_KEY_PASSWORD_FILE"),
                       help="file holding the key's password [PLANTSERVE_SIGNING_KEY_PASSWORD_FILE]")
    group.add_argument("--signing-cert", type=Path, default=env.get("PLANTSERVE_SIGNING_CERT"),
                       help="certificate mode: the key's PEM leaf certificate, issued by the plant's CA "
                            "[PLANTSERVE_SIGNING_CERT]")
    group.add_argument("--signing-chain", action="append", default=_env_list(env.get("PLANTSERVE_SIGNING_CHAIN")),
                       help="certificate mode: PEM intermediates/root up to the plant's CA (comma-separated, "
                            "repeatable) [PLANTSERVE_SIGNING_CHAIN]")


def signing_config(args: argparse.Namespace) -> SigningConfig | None:
    """The config the flags describe; None when no key is given (publishing unsigned)."""
    chain = tuple(Path(p) for value in (args.signing_chain or []) for p in str(value).split(",") if p.strip())
    if args.signing_key is None:
        if args.signing_cert or args.signing_key_password_file or chain:
            raise ValueError("--signing-cert, --signing-chain and --signing-key-password-file need --signing-key")
        return None
    return SigningConfig(key=Path(args.signing_key), password_file=args.signing_key_password_file,
                         certificate=args.signing_cert, chain=chain)


def signer_from_args(args: argparse.Namespace) -> Signer | None:
    """Load and check the signer now (a SigningConfigError names the bad file)."""
    config = signing_config(args)
    return load_signer(config) if config else None


def add_trust_arguments(parser: argparse.ArgumentParser, env: Mapping[str, str] | None = None) -> None:
    env = os.environ if env is None else env
    group = parser.add_argument_group("trust anchors (any of them makes a signature required)")
    group.add_argument("--trusted-keys", action="append", default=_env_list(env.get("PLANTSERVE_TRUSTED_KEYS")),
                       help="PEM public keys: files or directories, comma-separated, repeatable "
                            "[PLANTSERVE_TRUSTED_KEYS]")
    group.add_argument("--trusted-ca", type=Path, default=env.get("PLANTSERVE_TRUSTED_CA"),
                       help="PEM CA bundle that signing certificates must chain to [PLANTSERVE_TRUSTED_CA]")
    group.add_argument("--trusted-identity", default=env.get("PLANTSERVE_TRUSTED_IDENTITY"),
                       help="with --trusted-ca: the identity the signing certificate must carry (a "
                            "subjectAltName email/URI/DNS name, or its subject CN) [PLANTSERVE_TRUSTED_IDENTITY]")


def trust_paths(args: argparse.Namespace) -> list[Path]:
    return [Path(p.strip()) for value in (args.trusted_keys or []) for p in str(value).split(",") if p.strip()]


def trust_from_args(args: argparse.Namespace) -> Trust:
    """Load every anchor now (a TrustConfigError names the bad file)."""
    return load_trust(trust_paths(args), args.trusted_ca, args.trusted_identity)
