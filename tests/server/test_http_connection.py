"""HTTP/1.1 framing on raw sockets: keep-alive, pipelining, chunked bodies, 100-continue, limits, gzip,
HEAD and timeouts, with an echoing API in place of the model server."""
from __future__ import annotations

import gzip
import json

import pytest

from serving.server.http_connection import BodyTooLarge, gunzip
from tests.server.helpers import closed, connect, read_answer
from tests.support import wait_until


def test_keep_alive_and_pipelining(echo_server):
    server, api = echo_server()
    with connect(server) as sock:
        buffer = bytearray()
        sock.sendall(b"GET /v1/a?x=1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /v1/b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
        first, second = read_answer(sock, buffer), read_answer(sock, buffer)
        assert json.loads(first[2]) == {"method": "GET", "path": "/v1/a", "length": 0}
        assert json.loads(second[2]) == {"method": "POST", "path": "/v1/b", "length": 3}
        assert first[1]["content-type"] == "application/json" and "connection" not in first[1]
        sock.sendall(b"GET /v1/c HTTP/1.1\r\nConnection: close\r\n\r\n")
        status, headers, _ = read_answer(sock, buffer)
        assert status == 200 and headers["connection"] == "close"
        wait_until(lambda: closed(sock), what="the server to close the connection")


def test_a_body_over_the_limit_is_refused_unread(echo_server):
    server, api = echo_server(max_body_bytes=1000)
    with connect(server) as sock:
        sock.sendall(b"POST /v1/x HTTP/1.1\r\nContent-Length: 1000000000000\r\n\r\n")  # 1 TB, never sent
        status, headers, body = read_answer(sock, bytearray())
        assert status == 413 and headers["connection"] == "close"
        assert "1000000000000" in json.loads(body)["error"] and "--rest_api_max_body_bytes" in json.loads(body)["error"]
        wait_until(lambda: closed(sock), what="the connection to close")
    with connect(server) as sock:  # chunked: refused as soon as it passes the limit
        sock.sendall(b"POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + b"200\r\n" + b"a" * 512 + b"\r\n"
                     + b"400\r\n")
        assert read_answer(sock, bytearray())[0] == 413
    assert api.seen == []


def test_chunked_and_expect_continue(echo_server):
    server, api = echo_server()
    with connect(server) as sock:
        buffer = bytearray()
        sock.sendall(b"POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n"
                     b"Trailer: x\r\n\r\n")
        assert json.loads(read_answer(sock, buffer)[2])["length"] == 5
        sock.sendall(b"POST /v1/y HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert read_answer(sock, buffer)[0] == 100
        sock.sendall(b"wxyz")
        assert json.loads(read_answer(sock, buffer)[2])["length"] == 4


def test_gzip_bodies_are_inflated_within_the_limit(echo_server):
    server, api = echo_server(max_body_bytes=1 << 20)
    bomb = gzip.compress(b"\0" * (64 << 20))  # 64 MiB of zeros in about 64 KiB
    assert len(bomb) < (1 << 20)
    cases = [(gzip.compress(b"x" * 5000), 200), (bomb, 413), (b"not gzip at all", 200)]
    for body, status in cases:
        with connect(server) as sock:
            sock.sendall(b"POST /v1/x HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            assert read_answer(sock, bytearray())[0] == status
    assert [r.body for r in api.seen] == [b"x" * 5000, b""]  # bad gzip: an empty body, as TF Serving


def test_gunzip():
    assert gunzip(gzip.compress(b"abc"), 3) == b"abc"
    with pytest.raises(BodyTooLarge):
        gunzip(gzip.compress(b"abcd"), 3)
    assert gunzip(gzip.compress(b"abc")[:-4], 10) == b""  # truncated


def test_head_has_no_body(echo_server):
    server, _ = echo_server()
    with connect(server) as sock:
        sock.sendall(b"HEAD /v1/x HTTP/1.1\r\n\r\nGET /v1/y HTTP/1.1\r\n\r\n")
        data = b""
        while data.count(b"HTTP/1.1 200") < 2 or not data.endswith(b"}"):
            data += sock.recv(65536)
        head, _, rest = data.partition(b"\r\n\r\n")
        assert b"Content-Length: " in head and rest.startswith(b"HTTP/1.1 200")  # no body after the HEAD answer


def test_limits_on_heads_and_idle_connections(echo_server):
    server, _ = echo_server(max_header_bytes=1024, idle_timeout=0.5, header_timeout=0.5)
    with connect(server) as sock:
        sock.sendall(b"GET /v1/x HTTP/1.1\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n")
        assert read_answer(sock, bytearray())[0] == 431
    with connect(server) as sock:
        wait_until(lambda: closed(sock), timeout=10, what="an idle connection to be closed")
    with connect(server) as sock:
        sock.sendall(b"GET /v1/x HTTP/1.1\r\n")  # a head that never ends
        wait_until(lambda: closed(sock), timeout=10, what="a slow head to be cut off")
    with connect(server) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        assert read_answer(sock, bytearray())[0] == 400
