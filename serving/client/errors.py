"""Typed client errors: one class per canonical status, the same for gRPC and REST.

Each error subclasses the builtin a caller would naturally catch (``LookupError`` for a missing
model, ``ValueError`` for bad input, ``ConnectionError``, ``TimeoutError``), carries the canonical
``code`` name, and is classified by code, never by message text.

>>> err = error_for_code("NOT_FOUND", "Servable not found for request: Latest(fuel)")
>>> isinstance(err, ModelNotFound), isinstance(err, LookupError), err.code
(True, True, 'NOT_FOUND')
>>> type(error_for_http(503, "no healthy upstream")).__name__
'Unavailable'
"""
from __future__ import annotations

__all__ = [
    "ClientError", "ModelNotFound", "InvalidInput", "FailedPrecondition", "Unavailable",
    "DeadlineExceeded", "ResourceExhausted", "PermissionDenied", "Unimplemented", "ServerError",
    "error_for_code", "error_for_http", "HTTP_TO_CODE", "CODE_NAMES",
]

#: Canonical code names by number (google.rpc.Code, tensorflow.error.Code).
CODE_NAMES: tuple[str, ...] = (
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
)


class ClientError(RuntimeError):
    """Base class. ``code`` is the canonical status name (``"UNAVAILABLE"``...)."""

    code = "UNKNOWN"
    hint = ""

    def __init__(self, message: str, *, code: str | None = None, target: str = "") -> None:
        self.code = code or type(self).code
        self.detail = message
        self.target = target
        where = f" from {target}" if target else ""
        hint = f" ({self.hint})" if self.hint else ""
        super().__init__(f"{self.code}{where}: {message}{hint}")


class ModelNotFound(ClientError, LookupError):
    code = "NOT_FOUND"
    hint = "check the model name and version; `plantserve predict MODEL --status` lists versions"


class InvalidInput(ClientError, ValueError):
    """Bad tensors, names, dtypes or shapes; also an unassigned version label."""

    code = "INVALID_ARGUMENT"
    hint = "compare the inputs with the signature from `metadata()`; a label must be assigned on the server"


class FailedPrecondition(ClientError, ValueError):
    """Typically an unknown signature name."""

    code = "FAILED_PRECONDITION"
    hint = "check signature_name against `metadata()`"


class Unavailable(ClientError, ConnectionError):
    code = "UNAVAILABLE"
    hint = "is the server running and the target right? transient: the gRPC client already retried"


class DeadlineExceeded(ClientError, TimeoutError):
    code = "DEADLINE_EXCEEDED"
    hint = "raise the timeout or lower the batch size"


class ResourceExhausted(ClientError):
    code = "RESOURCE_EXHAUSTED"
    hint = "the message may exceed the max message size; send smaller batches"


class PermissionDenied(ClientError, PermissionError):
    code = "PERMISSION_DENIED"
    hint = "check the client certificate and the server's CA"


class Unimplemented(ClientError):
    code = "UNIMPLEMENTED"
    hint = "the server does not offer this method or signature type"


class ServerError(ClientError):
    code = "INTERNAL"


_BY_CODE: dict[str, type[ClientError]] = {
    "NOT_FOUND": ModelNotFound, "INVALID_ARGUMENT": InvalidInput, "OUT_OF_RANGE": InvalidInput,
    "FAILED_PRECONDITION": FailedPrecondition, "UNAVAILABLE": Unavailable,
    "DEADLINE_EXCEEDED": DeadlineExceeded, "RESOURCE_EXHAUSTED": ResourceExhausted,
    "PERMISSION_DENIED": PermissionDenied, "UNAUTHENTICATED": PermissionDenied,
    "UNIMPLEMENTED": Unimplemented,
}

#: TF Serving's REST status -> canonical code (http_rest_api_handler.cc). 400 covers
#: INVALID_ARGUMENT, FAILED_PRECONDITION and OUT_OF_RANGE; REST cannot tell them apart.
HTTP_TO_CODE: dict[int, str] = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error_for_code(code: str, message: str, target: str = "") -> ClientError:
    """The typed error for a canonical status name such as ``"UNAVAILABLE"``."""
    return _BY_CODE.get(code, ServerError)(message, code=code, target=target)


def error_for_http(status: int, message: str, target: str = "") -> ClientError:
    """The typed error for a REST answer's HTTP status."""
    return error_for_code(HTTP_TO_CODE.get(status, "UNKNOWN"), message, target)
