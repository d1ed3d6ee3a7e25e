"""``tensorflow.ProfilerService`` on the gRPC port (``--enable_profiler``, on by default), backed by
TensorFlow's own profiler service.

TF Serving registers tsl's ``ProfilerServiceImpl`` on its gRPC server (``server.cc``). The same
implementation ships in the ``tensorflow`` wheel, but only as a server of its own
(``_pywrap_profiler.start_server(port)``, which listens on ``[::]:port``). So that server is started
on a free port of this process, and every ``/tensorflow.ProfilerService/*`` call on the gRPC port is
forwarded to it as raw bytes: TensorFlow parses the request, profiles this process for the requested
time and writes the trace where the request says, exactly as in TF Serving. Nothing is parsed or
re-encoded here.

The differences, both from TensorFlow offering no bind address for that server:

- it listens on a second port, on all interfaces; ``--enable_profiler=false`` closes it;
- a server bound to one address (``PLANTSERVE_SERVE_HOST``, e.g. loopback) does not open it, so that
  nothing of the process is reachable elsewhere: its profiler calls answer UNAVAILABLE.

>>> ProfilerService(None).service(type("D", (), {"method": "/tensorflow.serving.PredictionService/Predict"})())
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import socket
import sys
from typing import Any

import grpc

from serving.server import tfc

__all__ = ["ProfilerService", "SERVICE", "start_tensorflow_profiler", "ALL_INTERFACES"]

log = logging.getLogger(__name__)
SERVICE = "tensorflow.ProfilerService"
_PREFIX = f"/{SERVICE}/"
ALL_INTERFACES = ("0.0.0.0", "::", "")


def _raw(data: bytes) -> bytes:
    return data


def _load_pywrap_profiler() -> Any:
    """TensorFlow's ``_pywrap_profiler`` extension, loaded without importing the ``tensorflow`` package.

    It is registered under its own full name, so that a later ``import tensorflow`` in the same process
    finds it instead of loading (and registering its types) a second time."""
    name = "tensorflow.python.profiler.internal._pywrap_profiler"
    if name in sys.modules:
        return sys.modules[name]
    tfc.library()
    path = tfc.tensorflow_dir() / "python" / "profiler" / "internal" / "_pywrap_profiler.so"
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, str(path), loader=loader)
    if spec is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[name] = module
    return module


def _free_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.bind(("::", 0))
        return s.getsockname()[1]


def start_tensorflow_profiler() -> str:
    """Start TensorFlow's profiler server (all interfaces, a free port); returns ``localhost:PORT``."""
    port = _free_port()
    _load_pywrap_profiler().start_server(port)
    log.info("Profiler service is enabled: TensorFlow's profiler server listens on [::]:%s", port)
    return f"localhost:{port}"


class ProfilerService(grpc.GenericRpcHandler):
    """Forwards ``tensorflow.ProfilerService`` calls to TensorFlow's profiler server at ``backend``
    (``host:port``); with no backend every call answers UNAVAILABLE with ``reason``."""

    def __init__(self, backend: str | None, reason: str = "") -> None:
        self.backend, self.reason = backend, reason
        self._channel = grpc.insecure_channel(backend, options=[
            ("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]) if backend else None

    def service(self, handler_call_details) -> grpc.RpcMethodHandler | None:
        method = handler_call_details.method
        if not method.startswith(_PREFIX):
            return None
        return grpc.unary_unary_rpc_method_handler(lambda request, context: self._forward(method, request, context),
                                                   request_deserializer=_raw, response_serializer=_raw)

    def _forward(self, method: str, request: bytes, context: grpc.ServicerContext) -> bytes:
        if self._channel is None:
            context.abort(grpc.StatusCode.UNAVAILABLE, self.reason)
        call = self._channel.unary_unary(method, request_serializer=_raw, response_deserializer=_raw)
        try:
            return call(request, timeout=context.time_remaining())
        except grpc.RpcError as exc:
            context.abort(exc.code(), exc.details() or "")
        return b""

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
