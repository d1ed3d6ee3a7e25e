"""Status codes to typed errors, for gRPC names and REST statuses."""
from __future__ import annotations

import pytest

from serving.client import errors


@pytest.mark.parametrize("code,cls,builtin", [
    ("NOT_FOUND", errors.ModelNotFound, LookupError), ("INVALID_ARGUMENT", errors.InvalidInput, ValueError),
    ("UNAVAILABLE", errors.Unavailable, ConnectionError), ("DEADLINE_EXCEEDED", errors.DeadlineExceeded, TimeoutError),
    ("FAILED_PRECONDITION", errors.FailedPrecondition, ValueError),
    ("UNAUTHENTICATED", errors.PermissionDenied, PermissionError), ("INTERNAL", errors.ServerError, RuntimeError),
])
def test_codes_map_to_classes_and_builtins(code, cls, builtin):
    err = errors.error_for_code(code, "detail", "host:1")
    assert type(err) is cls and isinstance(err, builtin) and err.code == code
    assert "host:1" in str(err) and "detail" in str(err)


@pytest.mark.parametrize("status,cls", [(400, errors.InvalidInput), (404, errors.ModelNotFound),
                                        (503, errors.Unavailable), (504, errors.DeadlineExceeded),
                                        (429, errors.ResourceExhausted), (500, errors.ServerError),
                                        (418, errors.ServerError)])
def test_http_statuses(status, cls):
    assert type(errors.error_for_http(status, "x")) is cls


def test_code_names_match_canonical_numbers():
    assert errors.CODE_NAMES[3] == "INVALID_ARGUMENT" and errors.CODE_NAMES[14] == "UNAVAILABLE"
    assert errors.CODE_NAMES[16] == "UNAUTHENTICATED"
