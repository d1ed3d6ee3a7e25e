import grpc

from serving.server.status import Code, ServingError, from_tf_error


def test_http_mapping_matches_tf_serving():
    expected = {Code.INVALID_ARGUMENT: 400, Code.FAILED_PRECONDITION: 400, Code.OUT_OF_RANGE: 400,
                Code.NOT_FOUND: 404, Code.DEADLINE_EXCEEDED: 504, Code.UNAVAILABLE: 503,
                Code.RESOURCE_EXHAUSTED: 429, Code.UNIMPLEMENTED: 501, Code.INTERNAL: 500, Code.UNKNOWN: 500,
                Code.UNAUTHENTICATED: 401, Code.PERMISSION_DENIED: 403}
    assert {code: code.http for code in expected} == expected


def test_grpc_codes_share_numbers():
    assert Code.NOT_FOUND.grpc is grpc.StatusCode.NOT_FOUND
    assert all(code.grpc.value[0] == int(code) for code in Code)


def test_tf_errors_keep_their_code():
    import tensorflow as tf

    err = from_tf_error(tf.errors.FailedPreconditionError(None, None, "uninitialized"))
    assert (err.code, err.message) == (Code.FAILED_PRECONDITION, "uninitialized")
    assert from_tf_error(ValueError("bad shape")).code == Code.INVALID_ARGUMENT
    assert from_tf_error(ServingError(Code.NOT_FOUND, "x")).code == Code.NOT_FOUND
