"""``plantserve sidecar``: sync, verify, roll out and roll back versions next to a server.

Run it as a native sidecar (an init container with ``restartPolicy: Always``) with a startup
probe on ``/startupz``: it becomes true once every model's stable version is verified on disk
and the server's model config is written, so the server container starts after it.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import threading

from .settings import Settings, SettingsError, add_arguments as _add_settings

__all__ = ["add_arguments", "run"]

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _add_settings(parser)


def _reporter(settings: Settings):
    """Kubernetes Events and the pod annotation with --kubernetes; off (with a warning) when the pod gives
    no name, namespace or token."""
    from .k8s import KubeReporter, NullReporter
    from .kubeapi import ConfigError

    if not settings.kubernetes:
        return NullReporter()
    pod, namespace = os.environ.get("POD_NAME"), os.environ.get("POD_NAMESPACE")
    if not pod or not namespace:
        log.warning("--kubernetes is on but POD_NAME/POD_NAMESPACE are not set (use the downward API): "
                    "Kubernetes events and annotations are off")
        return NullReporter()
    try:
        return KubeReporter(pod, namespace)
    except ConfigError as exc:
        log.warning("--kubernetes is on but %s: Kubernetes events and annotations are off", exc)
        return NullReporter()


def s3_options(settings: Settings):
    """Ranged GETs of --s3-part-size-bytes, --s3-max-concurrency per file, for
    --download-concurrency files at once, over a connection pool big enough for all of them."""
    from serving.store import S3Options

    return S3Options(
        endpoint_url=settings.s3_endpoint_url,
        max_concurrency=settings.s3_max_concurrency,
        multipart_threshold_bytes=settings.s3_part_size_bytes,
        multipart_chunk_bytes=settings.s3_part_size_bytes,
        max_pool_connections=settings.download_concurrency * settings.s3_max_concurrency + 4,
    )


def server_credentials(settings: Settings):
    """TLS credentials for the server's gRPC port (None: plaintext). Raises SettingsError when a PEM
    file cannot be read."""
    if not settings.server_tls:
        return None
    import grpc

    def read(path, flag: str) -> bytes | None:
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError as exc:
            raise SettingsError(f"{flag}: cannot read {path}: {exc.strerror}") from exc

    return grpc.ssl_channel_credentials(
        root_certificates=read(settings.server_tls_ca_file, "--server-tls-ca-file"),
        private_key=read(settings.server_tls_key_file, "--server-tls-key-file"),
        certificate_chain=read(settings.server_tls_cert_file, "--server-tls-cert-file"))


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_args(args)
        credentials = server_credentials(settings)
    except SettingsError as exc:
        log.error("%s", exc)
        return 2

    from prometheus_client import CollectorRegistry

    from serving.store import open_store

    from .agent import Agent
    from .http import handler_for, serve_http
    from .metrics import SidecarMetrics
    from .tfserving import ServerClient

    try:
        store = open_store(settings.store, s3=s3_options(settings))
    except ValueError as exc:
        log.error("--store: %s", exc)
        return 2
    registry = CollectorRegistry()
    metrics = SidecarMetrics(registry)
    reporter = _reporter(settings)
    client = ServerClient(settings.server_grpc, settings.rpc_timeout_seconds, credentials,
                          settings.server_tls_server_name)
    agent = Agent(settings, store, client, metrics, reporter)
    try:
        http = serve_http(settings.http_host, settings.http_port,
                          handler_for(agent.status, lambda: agent.started, lambda: agent.ready,
                                      lambda: agent.healthy, registry))
    except OSError as exc:
        log.error("cannot listen on %s:%s (--http-port): %s", settings.http_host, settings.http_port, exc)
        return 2
    log.info("sidecar for %s: store %s, volume %s, server %s (%s), http :%s", ",".join(settings.models),
             store.uri, settings.model_base_path, settings.server_grpc,
             "TLS" if settings.server_tls else "plaintext", settings.http_port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    agent.start()
    stop.wait()
    log.info("stopping")
    agent.stop()
    http.shutdown()
    client.close()
    return 0
