"""Start-up and shutdown of ``plantserve serve``, in TF Serving's order.

1. Read the config files (model config, batching, SSL, monitoring); any error: ``Failed to start server``,
   exit 255.
2. Apply the model config and wait until every model's newest aspired version is AVAILABLE or failed;
   a model that failed to load: exit 255. A missing base path: keep waiting, ports stay closed.
3. Open gRPC (and REST when ``--rest_api_port`` is set), then serve until SIGTERM/SIGINT.
4. On SIGTERM: stop accepting, finish requests in flight, exit 0. (TF Serving itself has no handler.)
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
import time

from serving.protocol.messages import BatchingParameters, ModelServerConfig, MonitoringConfig, SSLConfig
from serving.protocol.textproto import ConfigFileError, read_text_file
from serving.server import flags as flags_mod
from serving.server.batching import BatchScheduler, options_from_proto
from serving.server.config import single_model_config
from serving.server.flags import ServerSettings
from serving.server.inference import Inference
from serving.server.manager import LoadSettings, ModelManager
from serving.server.metrics import ServingMetrics
from serving.server.monitor import StateMonitor
from serving.server.servable import Servable, load_servable
from serving.server.sharing import LoadedVersions
from serving.server.source import FileSystemSource
from serving.server.status import ServingError
from serving.server.warmup import replay_warmup

__all__ = ["ModelServer", "StartupError", "serve"]

log = logging.getLogger(__name__)
DEFAULT_METRICS_PATH = "/monitoring/prometheus/metrics"
VERSION = "2.21.0-plantserve"


class StartupError(RuntimeError):
    """``Failed to start server. Error: ...``; the process exits 255."""


class ModelServer:
    """The whole server, built from one ``ServerSettings``. ``start()`` returns once the ports are open."""

    def __init__(self, settings: ServerSettings, host: str | None = None) -> None:
        self.settings, self.host = settings, host or settings.host
        self.metrics = ServingMetrics()
        self.monitor = StateMonitor()
        self._stop = threading.Event()
        self.grpc_server = None
        self.grpc_port: int | None = None
        self.rest = None
        self._read_files()
        load_settings = LoadSettings(settings.max_num_load_retries, settings.load_retry_interval_micros / 1e6,
                                     settings.allow_version_labels_for_unavailable_models)
        self.manager = ModelManager(self._load, load_settings, self.monitor, on_config=self._config_applied)
        self.inference = Inference(self.manager, self.monitor, self.metrics,
                                   settings.enable_serialization_as_tensor_content)
        self.source = FileSystemSource(self.manager, settings.file_system_poll_wait_seconds)
        self._batcher = BatchScheduler(self._batching, self.metrics) if self._batching else None
        self._loaded = LoadedVersions()

    # ----- start-up ---------------------------------------------------------------------------------
    def _read_files(self) -> None:
        s = self.settings
        if s.grpc_port == 0:
            raise StartupError("INVALID_ARGUMENT: server_options.grpc_port is not set.")
        if not s.model_base_path and not s.model_config_file:
            raise StartupError("INVALID_ARGUMENT: Both server_options.model_base_path and "
                               "server_options.model_config_file are empty!")
        try:
            self.config = (read_text_file(s.model_config_file, ModelServerConfig)
                           if s.model_config_file else single_model_config(s.model_name, s.model_base_path))
            self._batching = None
            if s.enable_batching:
                params = (read_text_file(s.batching_parameters_file, BatchingParameters)
                          if s.batching_parameters_file else BatchingParameters())
                self._batching = options_from_proto(params)
            elif s.batching_parameters_file:
                raise StartupError("INVALID_ARGUMENT: server_options.batching_parameters_file is set without "
                                   "setting server_options.enable_batching to true.")
            self.ssl = read_text_file(s.ssl_config_file, SSLConfig) if s.ssl_config_file else None
            monitoring = (read_text_file(s.monitoring_config_file, MonitoringConfig)
                          if s.monitoring_config_file else None)
        except (ConfigFileError, ValueError) as exc:
            raise StartupError(str(exc)) from exc
        self.metrics_path = None
        if monitoring is not None and monitoring.prometheus_config.enable:
            self.metrics_path = monitoring.prometheus_config.path or DEFAULT_METRICS_PATH

    def _config_applied(self) -> None:
        self.source.poll_now()

    def _load(self, name: str, version: int, path: str) -> Servable:
        servable, shared = self._loaded.get_or_load(path, self.settings.tags, name, version,
                                                    lambda: self._load_copy(name, version, path))
        if shared:
            self.metrics.load_attempt_count.inc(path, "success")
            log.info("Version %s of model %s shares the copy already loaded from %s", version, name, path)
        return servable

    def _load_copy(self, name: str, version: int, path: str) -> Servable:
        start = time.perf_counter()
        try:
            servable = load_servable(name, version, path, self.settings.tags)
        except ServingError:
            self.metrics.load_attempt_count.inc(path, "fail")
            raise
        self.metrics.load_attempt_count.inc(path, "success")
        self.metrics.load_latency.inc(path, amount=int((time.perf_counter() - start) * 1e6))
        if self._batcher is not None:
            for signature in servable.signatures.values():
                signature.call = self._batcher.wrap(signature)
        if self.settings.enable_model_warmup:
            replay_warmup(self.inference, self.metrics, servable, self.settings.num_request_iterations_for_warmup)
        return servable

    def start(self) -> None:
        s = self.settings
        _configure_threads(s)
        self.source.start()
        if self.config.WhichOneof("config") == "model_config_list":
            try:
                self.manager.apply_config(self.config.model_config_list)
            except ServingError as exc:
                raise StartupError(f"{exc.code.name}: {exc.message}") from exc
        from serving.server.grpc_api import build_grpc_server, ssl_credentials
        try:
            creds = ssl_credentials(self.ssl) if self.ssl is not None else None
            self.grpc_server, self.grpc_port = build_grpc_server(
                self.inference, self.reload_config, s.grpc_port, credentials=creds,
                channel_arguments=s.grpc_channel_arguments, max_threads=s.grpc_max_threads,
                health=s.enable_grpc_healthcheck_service, host=self.host)
        except (OSError, ValueError, RuntimeError) as exc:
            raise StartupError(f"INVALID_ARGUMENT: Failed to BuildAndStart gRPC server: {exc}") from exc
        self.grpc_server.start()
        log.info("Running gRPC ModelServer at %s:%s ...", self.host, self.grpc_port)
        if s.rest_api_port and s.rest_api_port != s.grpc_port:
            from serving.server.rest import RestApi, RestServer
            try:
                self.rest = RestServer(s.rest_api_port, RestApi(self.inference, s.rest_api_timeout_in_ms),
                                       self.metrics_path, host=self.host, cors=s.rest_api_enable_cors_support)
            except OSError as exc:
                log.error("Failed to start HTTP Server at localhost:%s: %s", s.rest_api_port, exc)
            else:
                self.rest.start()
                log.info("Exporting HTTP/REST API at:localhost:%s ...", self.rest.port)
        elif s.rest_api_port:
            log.error("server_options.http_port cannot be same as grpc_port. Please use a different port for "
                      "HTTP/REST API. Skipped exporting HTTP/REST API.")
        if s.model_config_file and s.model_config_file_poll_wait_seconds > 0:
            threading.Thread(target=self._poll_config_file, name="config-poll", daemon=True).start()

    def reload_config(self, config_list, timeout: float | None) -> None:
        self.manager.apply_config(config_list, wait_timeout=timeout)

    def _poll_config_file(self) -> None:
        while not self._stop.wait(self.settings.model_config_file_poll_wait_seconds):
            try:
                config = read_text_file(self.settings.model_config_file, ModelServerConfig)
                self.manager.apply_config(config.model_config_list)
            except (ConfigFileError, ServingError) as exc:
                log.error("PollFilesystemAndReloadConfig failed to ReloadConfig: %s", exc)

    # ----- shutdown ---------------------------------------------------------------------------------
    def stop(self, grace: float = 10.0) -> None:
        self._stop.set()
        if self.grpc_server is not None:
            self.grpc_server.stop(grace).wait(grace + 1)
        if self.rest is not None:
            self.rest.stop(grace)
        self.source.stop()
        self.manager.stop()


def _configure_threads(s: ServerSettings) -> None:
    import tensorflow as tf

    intra = s.tensorflow_intra_op_parallelism or s.tensorflow_session_parallelism
    # Python's stand-in runs each signature inline in the calling thread when the inter-op pool has one
    # thread: 40% less latency and more throughput than TF's auto setting on a small CPU.
    inter = s.tensorflow_inter_op_parallelism or s.tensorflow_session_parallelism or 1
    try:
        if intra:
            tf.config.threading.set_intra_op_parallelism_threads(int(intra))
        if inter:
            tf.config.threading.set_inter_op_parallelism_threads(int(inter))
    except RuntimeError as exc:  # already initialised (in-process use)
        log.warning("cannot set TensorFlow thread pools: %s", exc)


class _Terminate(Exception):
    pass


def serve(argv: list[str]) -> int:
    """The ``plantserve serve`` process: parse flags, start, wait for SIGTERM. Returns the exit code."""
    try:
        parsed = flags_mod.parse(argv)
    except flags_mod.FlagError as exc:
        print(exc, file=sys.stderr)
        print(flags_mod.usage(), file=sys.stderr)
        return 255
    if parsed.help_requested:
        print(flags_mod.usage())
        return 0
    for arg in parsed.unknown[:1]:
        print(f"unknown argument: {arg}\n{flags_mod.usage()}", flush=True)
    settings = parsed.settings
    if settings.version:
        import tensorflow as tf
        print(f"TensorFlow ModelServer: {VERSION}\nTensorFlow Library: {tf.__version__}")
        return 0
    for name in settings.ignored:
        log.warning("--%s is accepted for compatibility and has no effect in plantserve serve", name)
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        log.info("received signal %s, shutting down", signum)
        if not stop.is_set():
            stop.set()
            if server is None or server.grpc_server is None:
                raise _Terminate()  # still starting (e.g. waiting for a missing base path): just leave
    server = None
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server = ModelServer(settings)
        server.start()
    except StartupError as exc:
        print(f"Failed to start server. Error: {exc}", flush=True)
        return 255
    except _Terminate:
        return 0
    while not stop.wait(1.0):
        pass
    server.stop()
    log.info("server stopped")
    return 0
