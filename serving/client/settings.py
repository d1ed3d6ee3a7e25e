"""The client's one frozen settings object, and the model reference it addresses.

The default version label is ``stable``: in a plantserve fleet the sidecar keeps that label on
the verified version, so plant systems never reach an unverified "latest". TF Serving refuses a
label that is not assigned (INVALID_ARGUMENT), so against a server without labels pass
``default_label=None`` (or ``--latest`` on the CLI, or ``PLANTSERVE_CLIENT_DEFAULT_LABEL=``)
to address the newest available version.

>>> s = ClientSettings(target="dns:///plantserve-grpc:8500", timeout_seconds=2.0)
>>> s.model_ref("fuel")
ModelRef(name='fuel', version=None, label='stable', signature='serving_default')
>>> s.model_ref("fuel", version=3).label is None
True
>>> s.model_ref("fuel", label=LATEST).label is None
True
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

from serving.settings import setting

__all__ = ["ClientSettings", "ModelRef", "DEFAULT_LABEL", "DEFAULT_SIGNATURE", "LATEST"]

DEFAULT_LABEL = "stable"
#: Pass ``label=LATEST`` to address the newest available version despite a default label.
LATEST = ""
DEFAULT_SIGNATURE = "serving_default"
_MIB = 1024 * 1024
_TLS = "TLS (gRPC)"


@dataclasses.dataclass(frozen=True)
class ModelRef:
    """What one request addresses: a model, at most one of version and label, a signature."""

    name: str
    version: int | None = None
    label: str | None = None
    signature: str = DEFAULT_SIGNATURE

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("model name is empty; pass the model's name, e.g. 'fuel'")
        if self.version is not None and self.label is not None:
            raise ValueError(f"{self.name}: give a version ({self.version}) or a label ({self.label!r}), not both")


@dataclasses.dataclass(frozen=True)
class ClientSettings:
    """Everything a client needs; build once (from flags in the CLI, ``serving.settings.build``, flags over
    ``PLANTSERVE_CLIENT_*`` env over defaults) and pass down.

    ``target`` is a gRPC target (``dns:///host:8500``, ``host:8500``, ``ipv4:a:p,b:p``) for
    :class:`PredictClient`, or a base URL (``http://host:8501``) for :class:`RestClient`.
    TLS fields are PEM file paths; ``client_cert``/``client_key`` together enable mTLS.
    """

    ENV_PREFIX: ClassVar[str] = "PLANTSERVE_CLIENT_"

    target: str = setting(help="gRPC target (host:8500, dns:///svc:8500, ipv4:a:p,b:p) or REST base URL "
                               "(http://host:8501)", required=True)
    timeout_seconds: float = setting(10.0, help="per-call deadline")
    default_label: str | None = setting(
        DEFAULT_LABEL, flag="", empty=None,
        help="the version label a request addresses when it names no version or label; empty: the newest version")
    max_message_bytes: int = setting(64 * _MIB, help="largest gRPC message sent or received")
    keepalive_seconds: float = setting(30.0, help="gRPC keepalive ping interval")
    retry_attempts: int = setting(5, help="gRPC attempts per call on UNAVAILABLE (1-5, as gRPC caps it)")
    retry_initial_backoff_seconds: float = setting(0.05, help="first retry backoff")
    retry_max_backoff_seconds: float = setting(2.0, help="longest retry backoff")
    load_balancing: str = setting("round_robin", choices=("round_robin", "pick_first"),
                                  help="gRPC load balancing over the target's addresses")
    tls: bool = setting(False, group=_TLS, help="TLS with the system roots")
    ca_cert: Path | None = setting(group=_TLS, help="PEM CA bundle that signed the server's certificate")
    client_cert: Path | None = setting(group=_TLS, help="PEM client certificate (mTLS, with --client-key)")
    client_key: Path | None = setting(group=_TLS, help="PEM client key (mTLS)")
    server_name_override: str | None = setting(flag="--server-name", group=_TLS,
                                               help="expected name in the server certificate, if not the target's host")

    def __post_init__(self) -> None:
        checks = {
            "target": bool(self.target),
            "timeout_seconds": self.timeout_seconds > 0,
            "max_message_bytes": self.max_message_bytes > 0,
            "keepalive_seconds": self.keepalive_seconds > 0,
            "retry_attempts": 1 <= self.retry_attempts <= 5,
            "retry_initial_backoff_seconds": self.retry_initial_backoff_seconds > 0,
            "retry_max_backoff_seconds": self.retry_max_backoff_seconds >= self.retry_initial_backoff_seconds,
            "load_balancing": self.load_balancing in ("round_robin", "pick_first"),
            "client_cert/client_key": (self.client_cert is None) == (self.client_key is None),
        }
        bad = [key for key, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid client settings: {', '.join(bad)} "
                             "(retry_attempts is 1-5 as gRPC caps it; mTLS needs both cert and key)")

    @property
    def uses_tls(self) -> bool:
        return self.tls or self.ca_cert is not None or self.client_cert is not None

    def model_ref(self, name: str, *, version: int | None = None, label: str | None = None,
                  signature: str | None = None) -> ModelRef:
        """An explicit version or label wins; otherwise the default label (if any).
        ``label=LATEST`` (the empty string) asks for no label at all."""
        if version is None and label is None:
            label = self.default_label
        elif label == LATEST:
            label = None
        return ModelRef(name, version, label, signature or DEFAULT_SIGNATURE)
