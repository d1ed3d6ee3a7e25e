"""Canonical status codes as TF Serving uses them, and their HTTP mapping.

A ``ServingError`` carries one canonical code and TF Serving's message; the gRPC front end turns it
into the call's status, the REST front end into ``{"error": msg}`` with the mapped HTTP code.

>>> ServingError(Code.NOT_FOUND, "x").http_status
404
"""
from __future__ import annotations

import enum

import grpc

__all__ = ["Code", "ServingError", "invalid_argument", "not_found", "failed_precondition"]


class Code(enum.IntEnum):
    """``tensorflow.error.Code`` values (the same numbers as gRPC's)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16

    @property
    def grpc(self) -> grpc.StatusCode:
        return _GRPC[self]

    @property
    def http(self) -> int:
        return _HTTP.get(self, 500)


_GRPC = {code: next(s for s in grpc.StatusCode if s.value[0] == code.value) for code in Code}
# http_server.cc ToHTTPStatusCode.
_HTTP = {
    Code.OK: 200, Code.CANCELLED: 499, Code.UNKNOWN: 500, Code.INVALID_ARGUMENT: 400,
    Code.DEADLINE_EXCEEDED: 504, Code.NOT_FOUND: 404, Code.ALREADY_EXISTS: 409, Code.PERMISSION_DENIED: 403,
    Code.RESOURCE_EXHAUSTED: 429, Code.FAILED_PRECONDITION: 400, Code.ABORTED: 409, Code.OUT_OF_RANGE: 400,
    Code.UNIMPLEMENTED: 501, Code.INTERNAL: 500, Code.UNAVAILABLE: 503, Code.DATA_LOSS: 500,
    Code.UNAUTHENTICATED: 401,
}


class ServingError(Exception):
    """An error with a canonical code; ``str()`` is the message exactly as TF Serving words it."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = Code(code)
        self.message = message

    @property
    def http_status(self) -> int:
        return self.code.http

    def __repr__(self) -> str:
        return f"ServingError({self.code.name}, {self.message!r})"


def invalid_argument(message: str) -> ServingError:
    return ServingError(Code.INVALID_ARGUMENT, message)


def not_found(message: str) -> ServingError:
    return ServingError(Code.NOT_FOUND, message)


def failed_precondition(message: str) -> ServingError:
    return ServingError(Code.FAILED_PRECONDITION, message)


def from_tf_error(exc: BaseException) -> ServingError:
    """Map an exception raised by TensorFlow while running a model to its canonical code."""
    code = getattr(exc, "error_code", None)
    if isinstance(exc, ServingError):
        return exc
    if code is not None:
        message = getattr(exc, "message", str(exc))
        return ServingError(Code(int(code)), message)
    if isinstance(exc, (ValueError, TypeError)):
        return ServingError(Code.INVALID_ARGUMENT, str(exc))
    return ServingError(Code.INTERNAL, f"{type(exc).__name__}: {exc}")
