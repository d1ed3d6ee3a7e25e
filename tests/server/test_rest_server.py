"""The evented HTTP server on raw sockets: framing, limits, gzip, timeouts, keep-alive and shutdown,
with an echoing API in place of the model server."""
from __future__ import annotations

import gzip
import json
import socket
import threading

import pytest

from serving.server.rest import HttpAnswer, HttpRequest
from serving.server.rest_server import BodyTooLarge, RestLimits, RestServer, gunzip
from tests.support import wait_until


class Echo:
    """Answers the request it got: method, path and body length; ``gate`` holds answers back."""

    def __init__(self) -> None:
        self.seen: list[HttpRequest] = []
        self.gate = threading.Event()
        self.gate.set()

    def handle(self, request: HttpRequest) -> HttpAnswer:
        self.gate.wait(30)
        self.seen.append(request)
        body = {"method": request.method, "path": request.path, "length": len(request.body)}
        return HttpAnswer(200, json.dumps(body).encode())


@pytest.fixture
def echo_server():
    servers = []

    def start(**limits) -> tuple[RestServer, Echo]:
        api = Echo()
        server = RestServer(0, api, RestLimits(**{"max_body_bytes": 1 << 20, "num_threads": 2, **limits}),
                            host="127.0.0.1")
        server.start()
        servers.append(server)
        return server, api

    yield start
    for server in servers:
        server.stop(grace=1)


def _connect(server: RestServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def _read_answer(sock: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One answer from ``sock`` (more may stay in ``buffer``)."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before an answer; got {bytes(buffer)!r}")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-answer")
        rest += chunk
    buffer[:] = rest[length:]
    return int(lines[0].split()[1]), headers, rest[:length]


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_keep_alive_and_pipelining(echo_server):
    server, api = echo_server()
    with _connect(server) as sock:
        buffer = bytearray()
        sock.sendall(b"GET /v1/a?x=1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /v1/b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
        first, second = _read_answer(sock, buffer), _read_answer(sock, buffer)
        assert json.loads(first[2]) == {"method": "GET", "path": "/v1/a", "length": 0}
        assert json.loads(second[2]) == {"method": "POST", "path": "/v1/b", "length": 3}
        assert first[1]["content-type"] == "application/json" and "connection" not in first[1]
        sock.sendall(b"GET /v1/c HTTP/1.1\r\nConnection: close\r\n\r\n")
        status, headers, _ = _read_answer(sock, buffer)
        assert status == 200 and headers["connection"] == "close"
        wait_until(lambda: _closed(sock), what="the server to close the connection")


def test_a_body_over_the_limit_is_refused_unread(echo_server):
    server, api = echo_server(max_body_bytes=1000)
    with _connect(server) as sock:
        sock.sendall(b"POST /v1/x HTTP/1.1\r\nContent-Length: 1000000000000\r\n\r\n")  # 1 TB, never sent
        status, headers, body = _read_answer(sock, bytearray())
        assert status == 413 and headers["connection"] == "close"
        assert "1000000000000" in json.loads(body)["error"] and "--rest_api_max_body_bytes" in json.loads(body)["error"]
        wait_until(lambda: _closed(sock), what="the connection to close")
    with _connect(server) as sock:  # chunked: refused as soon as it passes the limit
        sock.sendall(b"POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + b"200\r\n" + b"a" * 512 + b"\r\n"
                     + b"400\r\n")
        assert _read_answer(sock, bytearray())[0] == 413
    assert api.seen == []


def test_chunked_and_expect_continue(echo_server):
    server, api = echo_server()
    with _connect(server) as sock:
        buffer = bytearray()
        sock.sendall(b"POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n"
                     b"Trailer: x\r\n\r\n")
        assert json.loads(_read_answer(sock, buffer)[2])["length"] == 5
        sock.sendall(b"POST /v1/y HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert _read_answer(sock, buffer)[0] == 100
        sock.sendall(b"wxyz")
        assert json.loads(_read_answer(sock, buffer)[2])["length"] == 4


def test_gzip_bodies_are_inflated_within_the_limit(echo_server):
    server, api = echo_server(max_body_bytes=1 << 20)
    bomb = gzip.compress(b"\0" * (64 << 20))  # 64 MiB of zeros in about 64 KiB
    assert len(bomb) < (1 << 20)
    cases = [(gzip.compress(b"x" * 5000), 200), (bomb, 413), (b"not gzip at all", 200)]
    for body, status in cases:
        with _connect(server) as sock:
            sock.sendall(b"POST /v1/x HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            assert _read_answer(sock, bytearray())[0] == status
    assert [r.body for r in api.seen] == [b"x" * 5000, b""]  # bad gzip: an empty body, as TF Serving


def test_gunzip():
    assert gunzip(gzip.compress(b"abc"), 3) == b"abc"
    with pytest.raises(BodyTooLarge):
        gunzip(gzip.compress(b"abcd"), 3)
    assert gunzip(gzip.compress(b"abc")[:-4], 10) == b""  # truncated


def test_head_has_no_body(echo_server):
    server, _ = echo_server()
    with _connect(server) as sock:
        sock.sendall(b"HEAD /v1/x HTTP/1.1\r\n\r\nGET /v1/y HTTP/1.1\r\n\r\n")
        data = b""
        while data.count(b"HTTP/1.1 200") < 2 or not data.endswith(b"}"):
            data += sock.recv(65536)
        head, _, rest = data.partition(b"\r\n\r\n")
        assert b"Content-Length: " in head and rest.startswith(b"HTTP/1.1 200")  # no body after the HEAD answer


def test_limits_on_heads_and_idle_connections(echo_server):
    server, _ = echo_server(max_header_bytes=1024, idle_timeout=0.5, header_timeout=0.5)
    with _connect(server) as sock:
        sock.sendall(b"GET /v1/x HTTP/1.1\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n")
        assert _read_answer(sock, bytearray())[0] == 431
    with _connect(server) as sock:
        wait_until(lambda: _closed(sock), timeout=10, what="an idle connection to be closed")
    with _connect(server) as sock:
        sock.sendall(b"GET /v1/x HTTP/1.1\r\n")  # a head that never ends
        wait_until(lambda: _closed(sock), timeout=10, what="a slow head to be cut off")
    with _connect(server) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        assert _read_answer(sock, bytearray())[0] == 400


def test_stop_finishes_a_request_whose_body_is_still_arriving(echo_server):
    server, api = echo_server()
    idle = _connect(server)
    with _connect(server) as sock:
        sock.sendall(b"POST /v1/x HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345")
        wait_until(lambda: server._in_flight == 1, what="the request to start")  # noqa: SLF001
        stopper = threading.Thread(target=server.stop, kwargs={"grace": 20})
        stopper.start()
        wait_until(lambda: _closed(idle), what="idle connections to close first")
        sock.sendall(b"67890")
        status, headers, body = _read_answer(sock, bytearray())
        assert status == 200 and json.loads(body)["length"] == 10 and headers["connection"] == "close"
        stopper.join(30)
    assert not stopper.is_alive()
    idle.close()
