"""Who signed, and what: the result of a successful verification.

Example::

    >>> info = SignerInfo(method="key", key_fingerprint="ab" * 32, files={"saved_model.pb": "0" * 64})
    >>> info.describe()
    'key sha256:abababababababab…'
"""
from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Any, Mapping

__all__ = ["SignerInfo"]


@dataclasses.dataclass(frozen=True)
class SignerInfo:
    #: "key" or "certificate".
    method: str
    #: sha256 of the signing key's DER SubjectPublicKeyInfo, hex.
    key_fingerprint: str
    #: Key mode: the trusted key file that matched.
    trusted_key: Path | None = None
    #: Certificate mode: the leaf's subject and issuer (RFC 4514), validity and identities.
    subject: str | None = None
    issuer: str | None = None
    not_before: datetime.datetime | None = None
    not_after: datetime.datetime | None = None
    identities: tuple[str, ...] = ()
    #: The statement's subject: its (informative) name and the sha256 over every file digest.
    statement_name: str = ""
    root_digest: str = ""
    #: What the signature covers: relative path -> sha256 hex.
    files: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def describe(self) -> str:
        """One line for logs and ``/status``."""
        if self.method == "certificate":
            until = f", valid until {self.not_after:%Y-%m-%d}" if self.not_after else ""
            return f"certificate {self.subject} (issuer {self.issuer}{until})"
        source = f" ({self.trusted_key})" if self.trusted_key else ""
        return f"key sha256:{self.key_fingerprint[:16]}…{source}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for ``plantserve verify --json`` and the sidecar's ``/status``."""
        data = dataclasses.asdict(self)
        data["trusted_key"] = str(self.trusted_key) if self.trusted_key else None
        for name in ("not_before", "not_after"):
            value = getattr(self, name)
            data[name] = value.isoformat() if value else None
        data["identities"] = list(self.identities)
        data["files"] = dict(sorted(self.files.items()))
        return data
