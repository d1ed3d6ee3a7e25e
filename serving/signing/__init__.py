"""Signed models and pointers in the OpenSSF model-signing format, offline.

Every published version carries ``<model>/<version>/model.sig``: a Sigstore bundle whose DSSE
envelope wraps an in-toto statement of the sha256 of every file of the version, manifest.json
included, written by the ``model-signing`` reference library, so ``model_signing verify key``
checks our versions and we check versions it signed. Keys or an in-house CA only: no
transparency log, no network.

The two sides have different needs. Signing (training, ``plantserve rollout --signing-key``) runs
on ``model-signing`` (the ``signing`` extra). Verifying (the sidecar, ``plantserve verify``) needs
``cryptography`` alone: the bundle, the DSSE envelope and the in-toto statement are read by
``bundle.py`` and ``statement.py``, certificate paths checked by ``chain.py``, so the sidecar image
carries neither ``model_signing`` nor sigstore, pydantic or pyOpenSSL.

- ``load_signer(SigningConfig(...))`` then ``sign_staged`` (publish) or ``Signer.sign_bytes`` (pointer);
- ``load_trust(...)`` then ``verify_version`` (a downloaded version) or ``verify_bytes`` (a pointer);
- every refusal is a ``SignatureError`` with a machine-readable ``reason`` (see ``REASONS``).

Example::

    >>> from serving.signing import load_trust
    >>> load_trust().configured
    False
"""
from __future__ import annotations

from .errors import REASONS, SignatureError, SigningConfigError, TrustConfigError
from .info import SignerInfo
from .publish import sign_staged
from .signer import SignedVersion, Signer, SigningConfig, load_signer
from .trust import Trust, TrustedKey, load_trust
from .verify import directory_files, manifest_digests, verify_bytes, verify_version

__all__ = [
    "REASONS",
    "SignatureError",
    "SigningConfigError",
    "TrustConfigError",
    "SignerInfo",
    "SignedVersion",
    "Signer",
    "SigningConfig",
    "Trust",
    "TrustedKey",
    "load_signer",
    "load_trust",
    "sign_staged",
    "verify_version",
    "verify_bytes",
    "manifest_digests",
    "directory_files",
]
