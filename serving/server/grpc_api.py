"""The gRPC front end: PredictionService and ModelService (serving.protocol.services), the optional
standard health service, TLS/mTLS from an ``SSLConfig``, and TF Serving's channel settings.

TF Serving binds ``0.0.0.0:<port>``, accepts messages up to 2 GiB and takes extra channel arguments from
``--grpc_channel_arguments=k=v,...`` (integers when they parse, strings otherwise).
"""
from __future__ import annotations

import logging
import os
import time
from concurrent import futures
from typing import Callable

import grpc

from serving.protocol import messages, services
from serving.server.inference import Inference
from serving.server.status import Code, ServingError

__all__ = ["build_grpc_server", "parse_channel_arguments", "PredictionServicer", "ModelServicer"]

log = logging.getLogger(__name__)
MAX_MESSAGE = 2**31 - 1


def _deadline(context: grpc.ServicerContext) -> float | None:
    remaining = context.time_remaining()
    return None if remaining is None else time.monotonic() + remaining


def _fail(context: grpc.ServicerContext, exc: ServingError, response_cls):
    context.set_code(exc.code.grpc)
    context.set_details(exc.message)
    return response_cls()


class PredictionServicer:
    def __init__(self, inference: Inference) -> None:
        self._inference = inference
        self._metrics = inference.metrics

    def _measured(self, api: str, run: Callable, request, context, response_cls):
        start = time.perf_counter()
        model = request.model_spec.name
        try:
            response = run(request, _deadline(context))
        except ServingError as exc:
            self._metrics.request_count.inc(model, exc.code.name)
            return _fail(context, exc, response_cls)
        except Exception as exc:  # noqa: BLE001 - never crash on a request
            log.exception("%s failed", api)
            self._metrics.request_count.inc(model, Code.INTERNAL.name)
            return _fail(context, ServingError(Code.INTERNAL, str(exc)), response_cls)
        self._metrics.request_latency.observe(model, api, "GRPC", value=(time.perf_counter() - start) * 1e6)
        self._metrics.request_count.inc(model, "OK")
        return response

    def Predict(self, request, context):  # noqa: N802 - gRPC method names
        return self._measured("Predict", self._inference.run_predict, request, context, messages.PredictResponse)

    def Classify(self, request, context):  # noqa: N802
        return self._measured("Classify", self._inference.run_classify, request, context,
                              messages.ClassificationResponse)

    def Regress(self, request, context):  # noqa: N802
        return self._measured("Regress", self._inference.run_regress, request, context,
                              messages.RegressionResponse)

    def MultiInference(self, request, context):  # noqa: N802
        try:
            return self._inference.run_multi_inference(request, _deadline(context))
        except ServingError as exc:
            return _fail(context, exc, messages.MultiInferenceResponse)

    def GetModelMetadata(self, request, context):  # noqa: N802
        try:
            return self._inference.run_metadata(request)
        except ServingError as exc:
            return _fail(context, exc, messages.GetModelMetadataResponse)


class ModelServicer:
    def __init__(self, inference: Inference, reload_config: Callable[[object, float | None], None]) -> None:
        self._inference = inference
        self._reload = reload_config

    def GetModelStatus(self, request, context):  # noqa: N802
        try:
            return self._inference.run_status(request)
        except ServingError as exc:
            return _fail(context, exc, messages.GetModelStatusResponse)

    def HandleReloadConfigRequest(self, request, context):  # noqa: N802
        response = messages.ReloadConfigResponse()
        try:
            if request.config.WhichOneof("config") != "model_config_list":
                raise ServingError(Code.INVALID_ARGUMENT, "ServerModelConfig type not supported by "
                                   "HandleReloadConfigRequest. Only ModelConfigList is currently supported")
            remaining = context.time_remaining()
            self._reload(request.config.model_config_list, remaining)
        except ServingError as exc:
            log.error("ReloadConfig failed: %s", exc.message)
            response.status.error_code = int(exc.code)
            response.status.error_message = exc.message
            context.set_code(exc.code.grpc)
            context.set_details(exc.message)
        return response


def _health_handler() -> grpc.GenericRpcHandler:
    """``grpc.health.v1.Health`` without the extra package: always SERVING, as TF Serving's is."""
    serving = b"\x08\x01"  # HealthCheckResponse{status: SERVING}

    def check(request: bytes, context) -> bytes:
        return serving

    def watch(request: bytes, context):
        yield serving
        while context.is_active():
            time.sleep(1.0)

    ident = lambda b: b  # noqa: E731 - raw bytes in and out
    return grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
        "Check": grpc.unary_unary_rpc_method_handler(check, ident, ident),
        "Watch": grpc.unary_stream_rpc_method_handler(watch, ident, ident),
    })


def parse_channel_arguments(text: str) -> list[tuple[str, int | str]]:
    out: list[tuple[str, int | str]] = []
    for item in filter(None, text.split(",")):
        key, eq, value = item.partition("=")
        if not eq:
            log.warning("ignoring gRPC channel argument without a value: %s", item)
            continue
        try:
            out.append((key, int(value)))
        except ValueError:
            out.append((key, value))
    return out


def build_grpc_server(inference: Inference, reload_config, port: int, *, credentials: grpc.ServerCredentials | None,
                      channel_arguments: str = "", max_threads: int = 0, health: bool = False,
                      host: str = "0.0.0.0", socket_path: str = "",
                      profiler: grpc.GenericRpcHandler | None = None) -> tuple[grpc.Server, int]:
    """The server and its TCP port (0 when ``port`` is 0: ``socket_path`` only). ``socket_path`` adds a
    ``unix:PATH`` listener with the same credentials (``server.cc``); ``profiler`` is served beside
    the two TF Serving services (``--enable_profiler``)."""
    options = [("grpc.max_receive_message_length", MAX_MESSAGE), ("grpc.max_send_message_length", MAX_MESSAGE),
               ("grpc.so_reuseport", 0)]
    options += parse_channel_arguments(channel_arguments)
    # Few handler threads: more only fight over the GIL (measured: 8 beat 64 by 20% at 8 clients on 2 cores).
    workers = max_threads or max(8, 4 * (os.cpu_count() or 1))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc"),
                         options=options, maximum_concurrent_rpcs=None)
    services.add_servicer(server, services.PREDICTION_SERVICE, PredictionServicer(inference))
    services.add_servicer(server, services.MODEL_SERVICE, ModelServicer(inference, reload_config))
    if health:
        server.add_generic_rpc_handlers((_health_handler(),))
    if profiler is not None:
        server.add_generic_rpc_handlers((profiler,))
    bound = 0
    tcp = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    addresses = ([tcp] if port else []) + ([f"unix:{socket_path}"] if socket_path else [])
    for address in addresses:
        got = (server.add_secure_port(address, credentials) if credentials is not None
               else server.add_insecure_port(address))
        if not got:
            raise OSError(f"cannot bind {address}")
        if not address.startswith("unix:"):
            bound = got
    return server, bound


def ssl_credentials(ssl_config) -> grpc.ServerCredentials:
    """``BuildServerCredentialsFromSSLConfigFile``: PEM contents inline; ``client_verify`` means mTLS."""
    pair = [(ssl_config.server_key.encode(), ssl_config.server_cert.encode())]
    root = ssl_config.custom_ca.encode() or None
    if ssl_config.client_verify and root is None:
        raise ValueError("ssl_config_file: client_verify needs custom_ca (the CA that signs client certificates)")
    return grpc.ssl_server_credentials(pair, root_certificates=root, require_client_auth=bool(ssl_config.client_verify))

