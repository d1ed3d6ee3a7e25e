"""The sidecar's only way into the server: TF Serving's gRPC APIs (``serving.protocol``, no TensorFlow).

Works the same against ``tensorflow/serving`` and ``plantserve serve``. Every call has a deadline.

Example::

    >>> client = ServerClient("127.0.0.1:8500", timeout_seconds=5)  # connects lazily
    >>> client.close()
"""
from __future__ import annotations

import logging
import threading
from typing import Mapping

import grpc
import numpy as np

from serving.protocol import messages, services
from serving.protocol.apis import MODEL_STATES
from serving.protocol.tensors import to_ndarray, to_tensor_proto

__all__ = ["ServerClient", "ServerError", "STATE_NAMES"]

log = logging.getLogger(__name__)

STATE_NAMES = {number: name for name, number in MODEL_STATES.items()}
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class ServerError(RuntimeError):
    """A call to the server failed; ``code`` is the grpc.StatusCode (classify on it, not the text)."""

    def __init__(self, message: str, code: grpc.StatusCode) -> None:
        super().__init__(message)
        self.code = code


class ServerClient:
    """``credentials`` (``grpc.ssl_channel_credentials``) turn TLS on: the server's gRPC port speaks TLS
    when it runs with ``--ssl_config_file``. ``server_name`` is the name its certificate carries, when
    that is not the host dialled (the sidecar dials localhost; the certificate names the Service)."""

    def __init__(self, target: str, timeout_seconds: float, credentials: grpc.ChannelCredentials | None = None,
                 server_name: str | None = None) -> None:
        self.target = target
        self.timeout_seconds = timeout_seconds
        options: list[tuple[str, object]] = [
            ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
        ]
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        self._channel = (grpc.secure_channel(target, credentials, options=options) if credentials is not None
                         else grpc.insecure_channel(target, options=options))
        self._models = services.ModelServiceStub(self._channel)
        self._predict = services.PredictionServiceStub(self._channel)
        self._lock = threading.Lock()
        #: Bumped whenever the connection drops: a restarted server lost the config applied by RPC.
        self.connection_epoch = 0
        #: Called (from gRPC's thread) when the connection drops, so that workers look at once.
        self.on_disconnect: list = []
        self._was_ready = False
        self._channel.subscribe(self._on_connectivity, try_to_connect=False)

    def _on_connectivity(self, state: grpc.ChannelConnectivity) -> None:
        with self._lock:
            if state == grpc.ChannelConnectivity.READY:
                self._was_ready = True
            elif self._was_ready and state in (grpc.ChannelConnectivity.TRANSIENT_FAILURE,
                                               grpc.ChannelConnectivity.IDLE):
                self._was_ready = False
                self.connection_epoch += 1
                log.info("connection to the server at %s dropped (epoch %s)", self.target, self.connection_epoch)
                for callback in list(self.on_disconnect):
                    callback()

    def close(self) -> None:
        self._channel.close()

    def _fail(self, what: str, exc: grpc.RpcError) -> ServerError:
        code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
        details = exc.details() if hasattr(exc, "details") else str(exc)
        return ServerError(f"{what} on the server at {self.target} failed: {code.name}: {details}", code)

    def status(self, model: str) -> dict[int, tuple[str, str]]:
        """version -> (state name, error message) for every version the server knows; {} if none."""
        request = messages.GetModelStatusRequest()
        request.model_spec.name = model
        try:
            response = self._models.GetModelStatus(request, timeout=self.timeout_seconds)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return {}
            raise self._fail(f"GetModelStatus({model})", exc) from exc
        return {
            int(s.version): (STATE_NAMES.get(int(s.state), "UNKNOWN"), s.status.error_message)
            for s in response.model_version_status
        }

    def reload(self, config: messages.ModelServerConfig, timeout_seconds: float) -> None:
        """HandleReloadConfigRequest with a deadline (a new model whose base_path is missing hangs)."""
        request = messages.ReloadConfigRequest(config=config)
        try:
            response = self._models.HandleReloadConfigRequest(request, timeout=timeout_seconds)
        except grpc.RpcError as exc:
            raise self._fail("HandleReloadConfigRequest", exc) from exc
        if response.status.error_code != 0:
            code = next((c for c in grpc.StatusCode if c.value[0] == response.status.error_code),
                        grpc.StatusCode.UNKNOWN)
            raise ServerError(f"HandleReloadConfigRequest on {self.target} refused: {code.name}: "
                              f"{response.status.error_message}", code)

    def predict(self, model: str, inputs: Mapping[str, np.ndarray], *, version: int | None = None,
                label: str | None = None, signature_name: str = "serving_default",
                timeout_seconds: float | None = None) -> dict[str, np.ndarray]:
        request = messages.PredictRequest()
        request.model_spec.name = model
        request.model_spec.signature_name = signature_name
        if version is not None:
            request.model_spec.version.value = version
        elif label is not None:
            request.model_spec.version_label = label
        for name, array in inputs.items():
            to_tensor_proto(array, proto=request.inputs[name])
        try:
            response = self._predict.Predict(request, timeout=timeout_seconds or self.timeout_seconds)
        except grpc.RpcError as exc:
            raise self._fail(f"Predict({model}, version={version}, label={label})", exc) from exc
        return {name: to_ndarray(tensor) for name, tensor in response.outputs.items()}
