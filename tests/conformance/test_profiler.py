"""``tensorflow.ProfilerService`` on the gRPC port (TFSERVING.md §10: ``--enable_profiler``, on by default).

Against TF Serving, and a ``plantserve serve`` bound to all interfaces, a trace request profiles the
server while it serves. A ``plantserve serve`` bound to one address (``PLANTSERVE_SERVE_HOST``, as this
suite's own server is) keeps the profiler off, because TensorFlow's profiler server can only listen on
all interfaces: that is the one known difference, and its exact answer is checked here.
"""
from __future__ import annotations

import threading

import grpc

from tests.conformance.client import fuel_predict


def test_profile_while_serving(target, tmp_path):
    from tensorflow.python.profiler import profiler_client

    stop = threading.Event()
    served: list[int] = []

    def traffic() -> None:
        stub = target.predict_stub()
        while not stop.is_set():
            served.append(stub.Predict(fuel_predict(), timeout=30).model_spec.version.value)

    thread = threading.Thread(target=traffic)
    thread.start()
    try:
        if target.external:
            profiler_client.trace(target.grpc_target, str(tmp_path / "logs"), 1000, "", 5)  # raises when empty
        else:
            channel = target.channel()
            call = channel.unary_unary("/tensorflow.ProfilerService/Profile", request_serializer=lambda b: b,
                                       response_deserializer=lambda b: b)
            try:
                call(b"", timeout=30)
                raise AssertionError("a bound stand-in answered a profile request")
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAVAILABLE
                assert "TensorFlow's profiler server listens on all interfaces" in exc.details()
                assert "PLANTSERVE_SERVE_HOST" in exc.details()
            finally:
                channel.close()
    finally:
        stop.set()
        thread.join(60)
    assert served and set(served) == {1}
