"""The gRPC channel a :class:`PredictClient` keeps: load balancing, retries, keepalive, TLS.

- ``round_robin`` over every address the resolver returns, so a ``dns:///`` target naming a
  headless Service spreads requests across pods instead of pinning to one (linkerd2#2636).
- Retries in the service config for ``UNAVAILABLE`` only: Predict, Classify, Regress and the
  metadata/status reads are idempotent, and UNAVAILABLE means the call did not run or the
  pod is going away. INVALID_ARGUMENT and every other code are returned at once.
- The retry buffer is raised to the max message size, or a big image request could not be
  replayed (gRPC's default buffer is 256 KiB).
- Keepalive pings only while calls are active, so idle clients never trip a server's
  ping policy (GOAWAY ``too_many_pings``).

>>> import json
>>> cfg = json.loads(service_config(ClientSettings(target="localhost:8500")))
>>> cfg["methodConfig"][0]["retryPolicy"]["retryableStatusCodes"]
['UNAVAILABLE']
"""
from __future__ import annotations

import json
import logging

import grpc

from serving.client.settings import ClientSettings

__all__ = ["service_config", "channel_options", "credentials", "open_channel", "SERVICES"]

log = logging.getLogger(__name__)

SERVICES = ("tensorflow.serving.PredictionService", "tensorflow.serving.ModelService")


def service_config(settings: ClientSettings) -> str:
    """The JSON service config: LB policy plus the UNAVAILABLE-only retry policy."""
    method: dict[str, object] = {"name": [{"service": s} for s in SERVICES]}
    if settings.retry_attempts >= 2:  # gRPC rejects a policy with fewer than 2 attempts
        method["retryPolicy"] = {
            "maxAttempts": settings.retry_attempts,
            "initialBackoff": f"{settings.retry_initial_backoff_seconds:.3f}s",
            "maxBackoff": f"{settings.retry_max_backoff_seconds:.3f}s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }
    return json.dumps({"loadBalancingConfig": [{settings.load_balancing: {}}], "methodConfig": [method]})


def channel_options(settings: ClientSettings) -> list[tuple[str, object]]:
    options: list[tuple[str, object]] = [
        ("grpc.service_config", service_config(settings)),
        # Our config, not one published in DNS TXT records.
        ("grpc.service_config_disable_resolution", 1),
        ("grpc.enable_retries", 1),
        ("grpc.per_rpc_retry_buffer_size", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.keepalive_time_ms", int(settings.keepalive_seconds * 1000)),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 0),
    ]
    if settings.server_name_override:
        options.append(("grpc.ssl_target_name_override", settings.server_name_override))
    return options


def credentials(settings: ClientSettings) -> grpc.ChannelCredentials:
    """TLS credentials from PEM files: ``ca_cert`` (else the system roots), plus the client pair for mTLS."""
    def read(path) -> bytes | None:
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError as exc:
            raise FileNotFoundError(f"cannot read TLS file {path}: {exc.strerror}; check --ca-cert/--client-cert/"
                                    "--client-key") from exc

    return grpc.ssl_channel_credentials(root_certificates=read(settings.ca_cert),
                                        private_key=read(settings.client_key),
                                        certificate_chain=read(settings.client_cert))


def open_channel(settings: ClientSettings) -> grpc.Channel:
    """A persistent channel; connection happens lazily on the first call."""
    options = channel_options(settings)
    if settings.uses_tls:
        log.debug("opening TLS channel to %s (mTLS: %s)", settings.target, settings.client_cert is not None)
        return grpc.secure_channel(settings.target, credentials(settings), options=options)
    log.debug("opening plaintext channel to %s", settings.target)
    return grpc.insecure_channel(settings.target, options=options)
