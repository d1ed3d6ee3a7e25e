"""Start-up and shutdown of ``plantserve serve``, in TF Serving's order.

1. Parse the flags and read every config file (:mod:`~serving.server.startup`), before TensorFlow is
   loaded; any error: ``Failed to start server. Error: ...`` on stdout, exit 255.
2. Load TensorFlow's C library, apply the model config and wait until every model's newest aspired
   version is AVAILABLE or failed; a model that failed to load: exit 255. A missing base path: keep
   waiting, ports stay closed.
3. Open gRPC (TCP and, with ``--grpc_socket_path``, ``unix:PATH``), then REST when ``--rest_api_port``
   is set, then serve until SIGTERM/SIGINT.
4. On SIGTERM: stop accepting, finish requests in flight, exit 0. (TF Serving itself has no handler.)
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
import time

from serving.protocol.messages import ModelServerConfig
from serving.protocol.textproto import ConfigFileError, read_text_file
from serving.server import flags as flags_mod
from serving.server import tfc
from serving.server.batching import BatchScheduler
from serving.server.flags import ServerSettings
from serving.server.inference import Inference
from serving.server.manager import LoadSettings, ModelManager
from serving.server.metrics import ServingMetrics
from serving.server.monitor import StateMonitor
from serving.server.servable import Servable, load_servable
from serving.server.sharing import LoadedVersions
from serving.server.source import FileSystemSource
from serving.server.startup import StartupError, StartupFiles, read_startup_files, session_threads
from serving.server.status import ServingError
from serving.server.warmup import replay_warmup
from serving.settings import SettingsError

__all__ = ["ModelServer", "StartupError", "serve", "VERSION"]

log = logging.getLogger(__name__)
VERSION = "2.21.0-plantserve"


class ModelServer:
    """The whole server, built from one ``ServerSettings`` and the files it names (read with
    ``read_startup_files`` when not given). ``start()`` returns once the ports are open."""

    def __init__(self, settings: ServerSettings, files: StartupFiles | None = None, host: str | None = None) -> None:
        self.settings, self.host = settings, host or settings.host
        self.files = files or read_startup_files(settings)
        self.config = self.files.model_config
        self.metrics_path = self.files.metrics_path
        self.metrics = ServingMetrics()
        self.monitor = StateMonitor()
        self._stop = threading.Event()
        self.grpc_server = None
        self.grpc_port: int | None = None
        self.rest = None
        self.profiler = None
        load_settings = LoadSettings(settings.max_num_load_retries, settings.load_retry_interval_micros / 1e6,
                                     settings.allow_version_labels_for_unavailable_models)
        self.manager = ModelManager(self._load, load_settings, self.monitor, on_config=self._config_applied)
        self.inference = Inference(self.manager, self.monitor, self.metrics,
                                   settings.enable_serialization_as_tensor_content, settings.max_request_elements,
                                   settings.enable_signature_method_name_check)
        self.source = FileSystemSource(self.manager, settings.file_system_poll_wait_seconds)
        batching = self.files.batching
        self._batcher = BatchScheduler(batching, self.metrics) if batching else None
        self._loaded = LoadedVersions()
        self._session_config = tfc.session_config(*session_threads(settings))

    # ----- loading --------------------------------------------------------------------------------
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
            servable = load_servable(name, version, path, self.settings.tags, self._session_config)
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

    # ----- start-up ---------------------------------------------------------------------------------
    def start(self) -> None:
        s = self.settings
        try:
            tfc.library()
        except (OSError, ImportError) as exc:
            raise StartupError(f"INTERNAL: cannot load TensorFlow's C library: {exc}") from exc
        self.source.start()
        if self.config.WhichOneof("config") == "model_config_list":
            try:
                self.manager.apply_config(self.config.model_config_list)
            except ServingError as exc:
                raise StartupError(f"{exc.code.name}: {exc.message}") from exc
        self._start_grpc()
        if s.rest_api_port and s.rest_api_port != s.grpc_port:
            self._start_rest()
        elif s.rest_api_port:
            log.error("server_options.http_port cannot be same as grpc_port. Please use a different port for "
                      "HTTP/REST API. Skipped exporting HTTP/REST API.")
        if s.model_config_file and s.model_config_file_poll_wait_seconds > 0:
            threading.Thread(target=self._poll_config_file, name="config-poll", daemon=True).start()

    def _start_grpc(self) -> None:
        from serving.server.grpc_api import build_grpc_server, ssl_credentials

        s = self.settings
        if s.enable_profiler:
            self.profiler = self._profiler()
        try:
            creds = ssl_credentials(self.files.ssl) if self.files.ssl is not None else None
            self.grpc_server, self.grpc_port = build_grpc_server(
                self.inference, self.reload_config, s.grpc_port, credentials=creds,
                channel_arguments=s.grpc_channel_arguments, max_threads=s.grpc_max_threads,
                health=s.enable_grpc_healthcheck_service, host=self.host, socket_path=s.grpc_socket_path,
                profiler=self.profiler)
        except (OSError, ValueError, RuntimeError) as exc:
            raise StartupError(f"INVALID_ARGUMENT: Failed to BuildAndStart gRPC server: {exc}") from exc
        self.grpc_server.start()
        if s.grpc_port:
            log.info("Running gRPC ModelServer at %s:%s ...", self.host, self.grpc_port)
        if s.grpc_socket_path:
            log.info("Running gRPC ModelServer at UNIX socket %s ...", s.grpc_socket_path)

    def _profiler(self):
        from serving.server.profiler import ALL_INTERFACES, ProfilerService, start_tensorflow_profiler

        if self.host not in ALL_INTERFACES:
            return ProfilerService(None, "The profiler service is off: TensorFlow's profiler server listens on all "
                                   f"interfaces, and this server is bound to {self.host} ({flags_mod.HOST_ENV})")
        try:
            return ProfilerService(start_tensorflow_profiler())
        except (OSError, ImportError, AttributeError, RuntimeError) as exc:
            log.error("Profiler service unavailable: %s", exc)
            return ProfilerService(None, f"The profiler service is off: {exc}")

    def _start_rest(self) -> None:
        from serving.server.rest import RestApi
        from serving.server.rest_server import RestLimits, RestServer

        s = self.settings
        limits = RestLimits(max_body_bytes=s.rest_api_max_body_bytes, num_threads=max(s.rest_api_num_threads, 1))
        api = RestApi(self.inference, s.rest_api_timeout_in_ms, self.metrics_path, cors=s.rest_api_enable_cors_support)
        try:
            self.rest = RestServer(s.rest_api_port, api, limits, host=self.host)
        except OSError as exc:
            log.error("Failed to start HTTP Server at localhost:%s: %s", s.rest_api_port, exc)
            return
        self.rest.start()
        log.info("Exporting HTTP/REST API at:localhost:%s ...", self.rest.port)

    def reload_config(self, config_list, timeout: float | None) -> None:
        self.manager.apply_config(config_list, wait_timeout=timeout)

    def _poll_config_file(self) -> None:
        while not self._stop.wait(self.settings.model_config_file_poll_wait_seconds):
            try:
                config = read_text_file(self.settings.model_config_file, ModelServerConfig)
                self.manager.apply_config(config.model_config_list)
            except ConfigFileError as exc:
                log.error("PollFilesystemAndReloadConfig failed to ReloadConfig: %s%s", exc,
                          f" ({exc.parse_error})" if exc.parse_error else "")
            except ServingError as exc:
                log.error("PollFilesystemAndReloadConfig failed to ReloadConfig: %s", exc)

    # ----- shutdown ---------------------------------------------------------------------------------
    def stop(self, grace: float = 10.0) -> None:
        self._stop.set()
        if self.rest is not None:
            self.rest.stop(grace)
        if self.grpc_server is not None:
            self.grpc_server.stop(grace).wait(grace + 1)
        if self.profiler is not None:
            self.profiler.close()
        self.source.stop()
        self.manager.stop()


class _Terminate(Exception):
    pass


def serve(argv: list[str]) -> int:
    """The ``plantserve serve`` process: parse flags, start, wait for SIGTERM. Returns the exit code."""
    try:
        parsed = flags_mod.parse(argv)
    except SettingsError as exc:  # a FlagError (TF's text), or a bad PLANTSERVE_SERVE_HOST-style env value
        print(exc, file=sys.stderr, flush=True)
        print(flags_mod.usage(), flush=True)
        return 255
    if parsed.help_requested:
        print(flags_mod.usage())
        return 0
    for arg in parsed.unknown[:1]:
        print(f"unknown argument: {arg}\n{flags_mod.usage()}", flush=True)
    settings = parsed.settings
    if settings.version:
        print(f"TensorFlow ModelServer: {VERSION}\nTensorFlow Library: {tfc.version()}")
        return 0
    for name in parsed.ignored:
        log.warning("--%s is accepted for compatibility and has no effect in plantserve serve", name)
    stop = threading.Event()
    server: ModelServer | None = None

    def on_signal(signum, _frame) -> None:
        log.info("received signal %s, shutting down", signum)
        if not stop.is_set():
            stop.set()
            if server is None or server.grpc_server is None:
                raise _Terminate()  # still starting (e.g. waiting for a missing base path): just leave
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
