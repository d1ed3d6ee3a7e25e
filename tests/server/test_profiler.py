"""The profiler service: ``tensorflow.ProfilerService`` calls forwarded byte for byte to a backend, or
refused with the reason when there is none. (TensorFlow's own profiler server, which listens on all
interfaces, is exercised by TF Serving's integration test, not here: test servers bind loopback.)"""
from concurrent import futures

import grpc
import pytest

from serving.server.profiler import ProfilerService


class EchoBackend(grpc.GenericRpcHandler):
    """Stands in for TensorFlow's profiler server: echoes every call, fails Terminate."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes]] = []

    def service(self, details):
        method = details.method
        if method == "/tensorflow.ProfilerService/Terminate":
            return grpc.unary_unary_rpc_method_handler(
                lambda request, context: context.abort(grpc.StatusCode.NOT_FOUND, "no such session"),
                lambda b: b, lambda b: b)
        return grpc.unary_unary_rpc_method_handler(
            lambda request, context: self.seen.append((method, request)) or b"echo:" + request, lambda b: b, lambda b: b)


@pytest.fixture
def backend():
    echo = EchoBackend()
    seen = echo.seen
    server = grpc.server(futures.ThreadPoolExecutor(2))
    server.add_generic_rpc_handlers((echo,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", seen
    server.stop(0)


def _front(profiler: ProfilerService):
    server = grpc.server(futures.ThreadPoolExecutor(2))
    server.add_generic_rpc_handlers((profiler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, grpc.insecure_channel(f"127.0.0.1:{port}")


def _call(channel, method: str, payload: bytes) -> bytes:
    return channel.unary_unary(f"/tensorflow.ProfilerService/{method}", request_serializer=lambda b: b,
                               response_deserializer=lambda b: b)(payload, timeout=10)


def test_calls_are_forwarded_unchanged(backend):
    address, seen = backend
    profiler = ProfilerService(address)
    server, channel = _front(profiler)
    try:
        assert _call(channel, "Profile", b"\x08\xe8\x07") == b"echo:\x08\xe8\x07"
        assert seen == [("/tensorflow.ProfilerService/Profile", b"\x08\xe8\x07")]
        with pytest.raises(grpc.RpcError) as info:
            _call(channel, "Terminate", b"")
        assert (info.value.code(), info.value.details()) == (grpc.StatusCode.NOT_FOUND, "no such session")
        other = channel.unary_unary("/tensorflow.serving.PredictionService/Predict", request_serializer=lambda b: b,
                                    response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError) as info:
            other(b"", timeout=10)
        assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED  # not the profiler's to answer
    finally:
        channel.close()
        server.stop(0)
        profiler.close()


def test_without_a_backend_every_call_says_why():
    server, channel = _front(ProfilerService(None, "The profiler service is off: bound to 127.0.0.1"))
    try:
        with pytest.raises(grpc.RpcError) as info:
            _call(channel, "Profile", b"")
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert info.value.details() == "The profiler service is off: bound to 127.0.0.1"
    finally:
        channel.close()
        server.stop(0)
