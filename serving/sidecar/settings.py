"""The sidecar's one frozen settings object, declared once (flag, ``PLANTSERVE_*`` env, default, help,
check) with :mod:`serving.settings` and built once in ``cli.run``.

Example::

    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> s = Settings.from_args(p.parse_args(["--store", "/tmp/s", "--models", "fuel",
    ...     "--model-base-path", "/tmp/m"]), env={})
    >>> s.models, s.poll_interval_seconds, str(s.model_config_file)
    (('fuel',), 10.0, '/tmp/m/models.config')
"""
from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path
from typing import Mapping

from serving import settings as spec
from serving.settings import SettingsError, non_negative, positive, setting
from serving.signing.flags import TRUSTED_CA_HELP, TRUSTED_IDENTITY_HELP, TRUSTED_KEYS_HELP

__all__ = ["Settings", "SettingsError", "add_arguments"]

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TLS = "TLS to the server's gRPC port"
_GATES = "rollout gates"
_SIGNING = ("signed models (OpenSSF model signing, offline): any anchor makes a valid signature required, checked "
            "before a version is renamed into place or loaded, and on the stable version at start-up")


def _model_names(models: tuple[str, ...] | None) -> str | None:
    for m in models or ():
        if not _MODEL_NAME.match(m) or "__" in m:
            return f"invalid model name {m!r} (letters, digits, '.', '_' and '-'; no '__')"
    if models and len(set(models)) != len(models):
        return f"a model is listed twice: {','.join(models)}"
    return None


@dataclasses.dataclass(frozen=True)
class Settings:
    store: str = setting(help="store URI: a directory, file://PATH, s3://BUCKET[/PREFIX] or gs://BUCKET[/PREFIX]",
                         required=True)
    models: tuple[str, ...] = setting((), help="model names to sync and serve, e.g. fuel,defect", required=True,
                                      check=_model_names)
    model_base_path: Path = setting(help="local volume shared with the server; model M lives in DIR/M/<version>",
                                    required=True)
    model_config_file: Path | None = setting(help="where to write the server's ModelServerConfig text before it "
                                                  "starts (default DIR/models.config)")
    server_grpc: str = setting("localhost:8500", help="the server's gRPC address")
    server_tls_ca_file: Path | None = setting(
        help="PEM CA that signed the server's gRPC certificate: the sidecar dials the server over TLS (the server "
             "runs with --ssl_config_file); unset = plaintext", group=_TLS)
    server_tls_server_name: str | None = setting(
        help="name in the server's certificate when it differs from the host in --server-grpc (for example the "
             "Service's DNS name)", group=_TLS)
    server_tls_cert_file: Path | None = setting(help="PEM client certificate for mTLS (the server's client_verify); "
                                                     "with --server-tls-key-file", group=_TLS)
    server_tls_key_file: Path | None = setting(help="PEM private key of --server-tls-cert-file", group=_TLS)
    server_rest: str = setting("http://localhost:8501", help="the server's REST base URL (for its Prometheus metrics)")
    server_metrics_path: str = setting("/monitoring/prometheus/metrics", help="path of the server's Prometheus page")
    server_allows_unavailable_labels: bool = setting(
        False, help="the server runs with --allow_version_labels_for_unavailable_models: the start-up config then "
                    "carries the labels, so a restarted server answers `stable` from its first request (without "
                    "it, the pod stays unready until the labels are applied again)")
    http_port: int = setting(8502, help="port of /metrics, /readyz, /healthz, /startupz, /status", check=positive)
    http_host: str = setting("0.0.0.0", help="address the sidecar's HTTP endpoints bind")
    poll_interval_seconds: float = setting(10.0, help="how often the store and the pointer are read", check=positive)
    rollback_window_seconds: float = setting(600.0, help="how long the previous version stays loaded after a "
                                                         "promotion", check=non_negative)
    keep_versions: int = setting(2, help="versions kept on disk per model (the stable one always included)",
                                 check=positive)
    s3_endpoint_url: str | None = setting(help="custom S3 endpoint (MinIO, a test server); default: the AWS chain")
    s3_max_concurrency: int = setting(4, help="parallel ranged GETs per large file", check=positive)
    s3_part_size_bytes: int = setting(32 * 1024 * 1024, help="size of each ranged GET (files above it are split)",
                                      check=positive)
    download_concurrency: int = setting(4, help="files downloaded at once", check=positive)
    download_rate_limit_bytes_per_second: int = setting(0, help="cap on download bandwidth per model, 0 = none",
                                                        check=non_negative)
    disk_headroom_bytes: int = setting(64 * 1024 * 1024, help="free space kept on the volume beyond a version's size",
                                       check=non_negative)
    kubernetes: bool = setting(False, help="record Events and a pod annotation (needs POD_NAME/POD_NAMESPACE)")
    latency_p99_ratio: float = setting(1.5, help="a candidate passes when its p99 <= stable p99 x this ...",
                                       check=positive, group=_GATES)
    latency_slack_ms: float = setting(2.0, help="... or when its p99 <= stable p99 + this", check=non_negative,
                                      group=_GATES)
    latency_probe_requests: int = setting(60, help="requests per version in the interleaved latency probe",
                                          check=positive, group=_GATES)
    rollback_error_ratio: float = setting(0.05, help="automatic rollback when the ratio of server-side errors after "
                                                     "promotion exceeds this", check=non_negative, group=_GATES)
    rollback_p99_ms: float = setting(0.0, help="automatic rollback when the p99 after promotion exceeds this "
                                               "(0 = off)", check=non_negative, group=_GATES)
    rollback_min_requests: int = setting(20, help="requests seen after a promotion before automatic rollback may "
                                                  "judge", check=non_negative, group=_GATES)
    trusted_keys: tuple[Path, ...] = setting((), help=TRUSTED_KEYS_HELP, group=_SIGNING)
    trusted_ca: Path | None = setting(help=TRUSTED_CA_HELP, group=_SIGNING)
    trusted_identity: str | None = setting(help=TRUSTED_IDENTITY_HELP, group=_SIGNING)
    pointer_trusted_keys: tuple[Path, ...] = setting(
        (), help="PEM public keys that the fleet pointer's rollout.json.sig must verify with: an unsigned or "
                 "wrongly signed pointer, an older signed one (replay) or a deleted one is ignored and the last "
                 "good pointer kept", group=_SIGNING)
    pointer_trusted_ca: Path | None = setting(help="PEM CA bundle that the pointer's signing certificate must "
                                                   "chain to", group=_SIGNING)
    pointer_trusted_identity: str | None = setting(help="with --pointer-trusted-ca: the identity the pointer's "
                                                        "signing certificate must carry", group=_SIGNING)
    rpc_timeout_seconds: float = setting(10.0, help="deadline of status and predict calls to the server",
                                         check=positive)
    load_timeout_seconds: float = setting(300.0, help="deadline for a version to become AVAILABLE", check=positive)

    def __post_init__(self) -> None:
        base = Path(self.model_base_path).resolve() if self.model_base_path else self.model_base_path
        object.__setattr__(self, "model_base_path", base)
        if self.model_config_file is None and base is not None:
            object.__setattr__(self, "model_config_file", base / "models.config")
        elif self.model_config_file is not None:
            object.__setattr__(self, "model_config_file", Path(self.model_config_file).resolve())
        object.__setattr__(self, "server_rest", str(self.server_rest).rstrip("/"))

    def validate(self) -> None:
        self._load_trust()
        tls = {"cert": self.server_tls_cert_file, "key": self.server_tls_key_file}
        if (tls["cert"] is None) != (tls["key"] is None):
            raise SettingsError("--server-tls-cert-file and --server-tls-key-file (or PLANTSERVE_SERVER_TLS_CERT_FILE "
                                "and PLANTSERVE_SERVER_TLS_KEY_FILE) go together: give both for mTLS, or neither")
        if tls["cert"] is not None and self.server_tls_ca_file is None:
            raise SettingsError("--server-tls-cert-file/--server-tls-key-file need --server-tls-ca-file (or "
                                "PLANTSERVE_SERVER_TLS_CA_FILE): the CA that signed the server's certificate")
        if self.server_tls_server_name and self.server_tls_ca_file is None:
            raise SettingsError("--server-tls-server-name (or PLANTSERVE_SERVER_TLS_SERVER_NAME) needs "
                                "--server-tls-ca-file: it only applies to a TLS connection")

    def _load_trust(self) -> None:
        """Load every anchor now, so a bad file stops the sidecar at start-up with the flag named."""
        from serving.signing import TrustConfigError, load_trust

        for prefix, flag in (("", "--"), ("pointer_", "--pointer-")):
            try:
                trust = load_trust(list(getattr(self, f"{prefix}trusted_keys")), getattr(self, f"{prefix}trusted_ca"),
                                   getattr(self, f"{prefix}trusted_identity"))
            except TrustConfigError as exc:
                names = f"{flag}trusted-keys/{flag}trusted-ca/{flag}trusted-identity"
                raise SettingsError(f"{names}: {exc}".replace("--trusted-", f"{flag}trusted-")) from exc
            object.__setattr__(self, f"_{prefix}trust", trust)

    @property
    def trust(self):
        """The versions' trust anchors (``serving.signing.Trust``), loaded by ``validate``."""
        if "_trust" not in self.__dict__:
            self._load_trust()
        return self.__dict__["_trust"]

    @property
    def pointer_trust(self):
        """The fleet pointer's trust anchors (``serving.signing.Trust``), loaded by ``validate``."""
        if "_pointer_trust" not in self.__dict__:
            self._load_trust()
        return self.__dict__["_pointer_trust"]

    @property
    def server_tls(self) -> bool:
        return self.server_tls_ca_file is not None

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: Mapping[str, str] | None = None) -> "Settings":
        return spec.build(cls, args, env)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    spec.add_arguments(parser, Settings)
