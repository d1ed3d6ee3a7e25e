"""The REST server: it binds at construction and, on stop, lets a request whose body is still arriving
finish while idle connections close first."""
from __future__ import annotations

import json
import threading

import pytest

from serving.server.rest_server import RestServer
from tests.server.helpers import Echo, closed, connect, read_answer
from tests.support import wait_until


def test_a_taken_port_fails_at_construction(echo_server):
    server, _ = echo_server()
    with pytest.raises(OSError):
        RestServer(server.port, Echo(), host="127.0.0.1")


def test_stop_finishes_a_request_whose_body_is_still_arriving(echo_server):
    server, api = echo_server()
    idle = connect(server)
    with connect(server) as sock:
        sock.sendall(b"POST /v1/x HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345")
        wait_until(lambda: server._in_flight == 1, what="the request to start")  # noqa: SLF001
        stopper = threading.Thread(target=server.stop, kwargs={"grace": 20})
        stopper.start()
        wait_until(lambda: closed(idle), what="idle connections to close first")
        sock.sendall(b"67890")
        status, headers, body = read_answer(sock, bytearray())
        assert status == 200 and json.loads(body)["length"] == 10 and headers["connection"] == "close"
        stopper.join(30)
    assert not stopper.is_alive()
    idle.close()
