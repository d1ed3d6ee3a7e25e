"""The sidecar's one frozen settings object, built once from flags and ``PLANTSERVE_*`` env.

Every flag ``--some-name`` has the env equivalent ``PLANTSERVE_SOME_NAME``; a flag given on
the command line wins over the env, the env wins over the default.

Example::

    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> s = Settings.from_args(p.parse_args(["--store", "/tmp/s", "--models", "fuel",
    ...     "--model-base-path", "/tmp/m"]), env={})
    >>> s.models, s.poll_interval_seconds
    (('fuel',), 10.0)
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import re
from pathlib import Path
from typing import Any, Callable, Mapping

__all__ = ["Settings", "SettingsError", "add_arguments", "ENV_PREFIX"]

ENV_PREFIX = "PLANTSERVE_"
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class SettingsError(ValueError):
    """A flag or env value is wrong; the message names the flag and the env variable."""


def _bool(text: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {text!r}")


# (flag, type, default, help). Order is the order shown in --help.
_FLAGS: list[tuple[str, Callable[[str], Any], Any, str]] = [
    ("store", str, None, "store URI: a directory, file://PATH or s3://BUCKET[/PREFIX]"),
    ("models", str, None, "comma-separated model names to sync and serve, e.g. fuel,defect"),
    ("model-base-path", str, None, "local volume shared with the server; model M lives in DIR/M/<version>"),
    ("model-config-file", str, None, "where to write the server's ModelServerConfig text before it starts "
                                     "(default DIR/models.config)"),
    ("server-grpc", str, "localhost:8500", "the server's gRPC address"),
    ("server-tls-ca-file", str, None, "PEM CA that signed the server's gRPC certificate: the sidecar dials the "
                                      "server over TLS (the server runs with --ssl_config_file); unset = plaintext"),
    ("server-tls-server-name", str, None, "name in the server's certificate when it differs from the host in "
                                          "--server-grpc (for example the Service's DNS name)"),
    ("server-tls-cert-file", str, None, "PEM client certificate for mTLS (the server's client_verify); with "
                                        "--server-tls-key-file"),
    ("server-tls-key-file", str, None, "PEM private key of --server-tls-cert-file"),
    ("server-rest", str, "http://localhost:8501", "the server's REST base URL (for its Prometheus metrics)"),
    ("server-metrics-path", str, "/monitoring/prometheus/metrics", "path of the server's Prometheus page"),
    ("http-port", int, 8502, "port of /metrics, /readyz, /healthz, /startupz, /status"),
    ("http-host", str, "0.0.0.0", "address the sidecar's HTTP endpoints bind"),
    ("poll-interval-seconds", float, 10.0, "how often the store and the pointer are read"),
    ("rollback-window-seconds", float, 600.0, "how long the previous version stays loaded after a promotion"),
    ("keep-versions", int, 2, "versions kept on disk per model (the stable one always included)"),
    ("s3-endpoint-url", str, None, "custom S3 endpoint (MinIO, a test server); default: the AWS chain"),
    ("s3-max-concurrency", int, 4, "parallel ranged GETs per large file"),
    ("s3-part-size-bytes", int, 32 * 1024 * 1024, "size of each ranged GET (files above it are split)"),
    ("download-concurrency", int, 4, "files downloaded at once"),
    ("download-rate-limit-bytes-per-second", int, 0, "cap on download bandwidth per model, 0 = none"),
    ("disk-headroom-bytes", int, 64 * 1024 * 1024, "free space kept on the volume beyond a version's size"),
    ("kubernetes", _bool, False, "record Events and a pod annotation (needs POD_NAME/POD_NAMESPACE)"),
    ("latency-p99-ratio", float, 1.5, "a candidate passes when its p99 <= stable p99 x this ..."),
    ("latency-slack-ms", float, 2.0, "... or when its p99 <= stable p99 + this"),
    ("latency-probe-requests", int, 60, "requests per version in the interleaved latency probe"),
    ("rollback-error-ratio", float, 0.05, "automatic rollback when the error ratio after promotion exceeds this"),
    ("rollback-p99-ms", float, 0.0, "automatic rollback when the p99 after promotion exceeds this (0 = off)"),
    ("rollback-min-requests", int, 20, "requests seen after a promotion before automatic rollback may judge"),
    ("rpc-timeout-seconds", float, 10.0, "deadline of status and predict calls to the server"),
    ("load-timeout-seconds", float, 300.0, "deadline for a version to become AVAILABLE"),
]


@dataclasses.dataclass(frozen=True)
class Settings:
    store: str
    models: tuple[str, ...]
    model_base_path: Path
    model_config_file: Path
    server_grpc: str = "localhost:8500"
    server_tls_ca_file: Path | None = None
    server_tls_server_name: str | None = None
    server_tls_cert_file: Path | None = None
    server_tls_key_file: Path | None = None
    server_rest: str = "http://localhost:8501"
    server_metrics_path: str = "/monitoring/prometheus/metrics"
    http_port: int = 8502
    http_host: str = "0.0.0.0"
    poll_interval_seconds: float = 10.0
    rollback_window_seconds: float = 600.0
    keep_versions: int = 2
    s3_endpoint_url: str | None = None
    s3_max_concurrency: int = 4
    s3_part_size_bytes: int = 32 * 1024 * 1024
    download_concurrency: int = 4
    download_rate_limit_bytes_per_second: int = 0
    disk_headroom_bytes: int = 64 * 1024 * 1024
    kubernetes: bool = False
    latency_p99_ratio: float = 1.5
    latency_slack_ms: float = 2.0
    latency_probe_requests: int = 60
    rollback_error_ratio: float = 0.05
    rollback_p99_ms: float = 0.0
    rollback_min_requests: int = 20
    rpc_timeout_seconds: float = 10.0
    load_timeout_seconds: float = 300.0

    @property
    def server_tls(self) -> bool:
        return self.server_tls_ca_file is not None

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for flag, kind, default, _help in _FLAGS:
            attr = flag.replace("-", "_")
            env_key = ENV_PREFIX + attr.upper()
            raw = getattr(args, attr, None)
            source = f"--{flag}"
            if raw is None and env.get(env_key) not in (None, ""):
                raw, source = env[env_key], env_key
            if raw is None:
                values[attr] = default
                continue
            try:
                values[attr] = kind(raw)
            except ValueError as exc:
                raise SettingsError(f"{source} (or {env_key}): {exc}") from exc
        return cls._validated(values)

    @classmethod
    def _validated(cls, v: dict[str, Any]) -> "Settings":
        for key in ("store", "models", "model_base_path"):
            if not v.get(key):
                raise SettingsError(f"--{key.replace('_', '-')} (or {ENV_PREFIX}{key.upper()}) is required")
        models = tuple(m.strip() for m in str(v["models"]).split(",") if m.strip())
        for m in models:
            if not _MODEL_NAME.match(m) or "__" in m:
                raise SettingsError(f"--models (or {ENV_PREFIX}MODELS): invalid model name {m!r}")
        if len(set(models)) != len(models):
            raise SettingsError(f"--models (or {ENV_PREFIX}MODELS): a model is listed twice: {models}")
        positive = ("poll_interval_seconds", "http_port", "keep_versions", "download_concurrency",
                    "s3_max_concurrency", "s3_part_size_bytes", "latency_p99_ratio", "latency_probe_requests", "rpc_timeout_seconds",
                    "load_timeout_seconds")
        for key in positive:
            if v[key] <= 0:
                raise SettingsError(f"--{key.replace('_', '-')} (or {ENV_PREFIX}{key.upper()}) must be > 0")
        for key in ("rollback_window_seconds", "latency_slack_ms", "rollback_error_ratio", "rollback_p99_ms",
                    "rollback_min_requests", "download_rate_limit_bytes_per_second", "disk_headroom_bytes"):
            if v[key] < 0:
                raise SettingsError(f"--{key.replace('_', '-')} (or {ENV_PREFIX}{key.upper()}) must be >= 0")
        tls = {k: Path(v[k]) for k in ("server_tls_ca_file", "server_tls_cert_file", "server_tls_key_file")
               if v.get(k)}
        if ("server_tls_cert_file" in tls) != ("server_tls_key_file" in tls):
            raise SettingsError("--server-tls-cert-file and --server-tls-key-file (or PLANTSERVE_SERVER_TLS_CERT_FILE "
                                "and PLANTSERVE_SERVER_TLS_KEY_FILE) go together: give both for mTLS, or neither")
        if tls and "server_tls_ca_file" not in tls:
            raise SettingsError("--server-tls-cert-file/--server-tls-key-file need --server-tls-ca-file (or "
                                "PLANTSERVE_SERVER_TLS_CA_FILE): the CA that signed the server's certificate")
        if v.get("server_tls_server_name") and "server_tls_ca_file" not in tls:
            raise SettingsError("--server-tls-server-name (or PLANTSERVE_SERVER_TLS_SERVER_NAME) needs "
                                "--server-tls-ca-file: it only applies to a TLS connection")
        base = Path(v["model_base_path"]).resolve()
        config = Path(v["model_config_file"]).resolve() if v.get("model_config_file") else base / "models.config"
        return cls(**{**v, **tls, "models": models, "model_base_path": base, "model_config_file": config,
                      "server_rest": str(v["server_rest"]).rstrip("/")})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags default to None so that Settings.from_args can tell "not given" from a value."""
    for flag, kind, default, help_text in _FLAGS:
        env_key = ENV_PREFIX + flag.replace("-", "_").upper()
        shown = "" if default is None else f" (default {default})"
        if kind is _bool:  # `--kubernetes` alone means true; `--kubernetes=false` is accepted too
            parser.add_argument(f"--{flag}", default=None, nargs="?", const="true", type=str,
                                help=f"{help_text}{shown} [{env_key}]")
        else:
            parser.add_argument(f"--{flag}", default=None, type=kind, help=f"{help_text}{shown} [{env_key}]")
