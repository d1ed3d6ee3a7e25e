"""``tensorflow.ProfilerService`` on the gRPC port (``--enable_profiler``, on by default), backed by
TensorFlow's own profiler service.

TF Serving registers tsl's ``ProfilerServiceImpl`` on its gRPC server (``server.cc``). The same
implementation ships in the ``tensorflow`` wheel, but only as a server of its own
(``_pywrap_profiler.start_server(port)``, listening on ``[::]:port``). So the first call to any
``/tensorflow.ProfilerService/*`` method starts that server on a free port of this process, and every
call is forwarded to it as raw bytes: TensorFlow parses the request, profiles this process for the
requested time and writes the trace where the request says, exactly as in TF Serving. Nothing is
parsed or re-encoded here.

The one visible difference: after the first profile request, TensorFlow's profiler server also
listens on that second port (on all interfaces; TensorFlow offers no way to bind it elsewhere).
``--enable_profiler=false`` turns the service off, and the port with it.

>>> ProfilerService().service(type("D", (), {"method": "/tensorflow.serving.PredictionService/Predict"})()) is None
True
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import socket
import threading
from typing import Any

import grpc

from serving.server import tfc

__all__ = ["ProfilerService", "SERVICE"]

log = logging.getLogger(__name__)
SERVICE = "tensorflow.ProfilerService"
_PREFIX = f"/{SERVICE}/"


def _raw(data: bytes) -> bytes:
    return data


def _load_pywrap_profiler() -> Any:
    """TensorFlow's ``_pywrap_profiler`` extension, loaded without importing the ``tensorflow`` package."""
    tfc.library()
    path = tfc.tensorflow_dir() / "python" / "profiler" / "internal" / "_pywrap_profiler.so"
    loader = importlib.machinery.ExtensionFileLoader("_pywrap_profiler", str(path))
    spec = importlib.util.spec_from_file_location("_pywrap_profiler", str(path), loader=loader)
    if spec is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.bind(("::", 0))
        return s.getsockname()[1]


class ProfilerService(grpc.GenericRpcHandler):
    """A generic handler that forwards ``tensorflow.ProfilerService`` calls to TensorFlow's profiler
    server, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channel: grpc.Channel | None = None
        self.port: int | None = None

    def _backend(self) -> grpc.Channel:
        with self._lock:
            if self._channel is None:
                port = _free_port()
                _load_pywrap_profiler().start_server(port)
                log.info("Profiler service is enabled: TensorFlow's profiler server started on port %s", port)
                self.port = port
                self._channel = grpc.insecure_channel(f"localhost:{port}", options=[
                    ("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)])
            return self._channel

    def service(self, handler_call_details) -> grpc.RpcMethodHandler | None:
        method = handler_call_details.method
        if not method.startswith(_PREFIX):
            return None
        return grpc.unary_unary_rpc_method_handler(lambda request, context: self._forward(method, request, context),
                                                   request_deserializer=_raw, response_serializer=_raw)

    def _forward(self, method: str, request: bytes, context: grpc.ServicerContext) -> bytes:
        try:
            call = self._backend().unary_unary(method, request_serializer=_raw, response_deserializer=_raw)
            return call(request, timeout=context.time_remaining())
        except grpc.RpcError as exc:
            context.abort(exc.code(), exc.details() or "")
        except (OSError, ImportError, AttributeError) as exc:
            log.error("profiler service unavailable: %s", exc)
            context.abort(grpc.StatusCode.UNAVAILABLE, f"TensorFlow's profiler cannot start: {exc}")
        return b""
