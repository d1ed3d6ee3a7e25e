"""The HTTP/1.1 server under the REST API: event-driven like TF Serving's (libevent), so an idle
connection costs a few kilobytes and no thread.

One asyncio loop, on its own thread, accepts connections and reads requests; a complete request goes
to a pool of ``--rest_api_num_threads`` workers (decompression, JSON, the model), and the answer is
written back by the loop. Bounds, all enforced while reading:

- the head (request line and headers) must fit in 64 KiB (else 431) and arrive within 30 s;
- a body larger than ``--rest_api_max_body_bytes`` is answered 413 without being read: a
  ``Content-Length`` over the limit at once, a chunked body as soon as it passes the limit, a gzip
  body (``Content-Encoding: gzip``, decompressed as TF Serving does) as soon as its decompressed
  bytes pass it, so a gzip bomb never inflates further;
- a connection that sends nothing for 50 s is closed.

``stop()`` closes the listener and idle connections, lets requests already started finish (their
bodies still arriving included), then closes the rest.

>>> RestLimits().max_body_bytes == 4 << 20
True
"""
from __future__ import annotations

import asyncio
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

from serving.server.http_connection import BodyTooLarge, Connection, RestLimits, encode_answer, gunzip, too_large
from serving.server.rest import HttpRequest, RestApi

__all__ = ["RestLimits", "RestServer", "BodyTooLarge", "gunzip"]

log = logging.getLogger(__name__)


class RestServer:
    """Binds at construction (OSError when the port is taken); ``start()`` runs the loop."""

    def __init__(self, port: int, api: RestApi, limits: RestLimits = RestLimits(), host: str = "0.0.0.0") -> None:
        self.api, self.limits = api, limits
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.create_server((host, port), family=family, backlog=limits.backlog)
        self._sock.setblocking(False)
        self.loop = asyncio.new_event_loop()
        self.pool = ThreadPoolExecutor(limits.num_threads, thread_name_prefix="rest")
        self.connections: set[Connection] = set()
        self.stopping = False
        self._in_flight = 0
        self._drained: asyncio.Event | None = None
        self._listener: asyncio.AbstractServer | None = None
        self._thread = threading.Thread(target=self._run, name="rest-loop", daemon=True)
        self._ready = threading.Event()

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(30)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._drained = asyncio.Event()
        self._listener = self.loop.run_until_complete(
            self.loop.create_server(lambda: Connection(self), sock=self._sock, backlog=self.limits.backlog))
        self._ready.set()
        self.loop.run_forever()

    # ----- request accounting (loop thread) ---------------------------------------------------------
    def started(self) -> None:
        self._in_flight += 1
        self._drained.clear()

    def finished(self) -> None:
        self._in_flight -= 1
        if self._in_flight <= 0:
            self._in_flight = 0
            self._drained.set()

    # ----- work (pool threads) ----------------------------------------------------------------------
    def process(self, request: HttpRequest, keep_alive: bool) -> tuple[list[bytes], bool]:
        """Decompress, answer and encode one request; returns the bytes and whether to keep the connection."""
        keep_alive = keep_alive and not self.stopping
        try:
            if "gzip" in request.headers.get("content-encoding", "") and request.body:
                request.body = gunzip(request.body, self.limits.max_body_bytes)
            answer = self.api.handle(request)
        except BodyTooLarge:
            answer = too_large("more than " + str(self.limits.max_body_bytes), self.limits.max_body_bytes)
            keep_alive = False
        return encode_answer(answer, request.method == "HEAD", not keep_alive), keep_alive

    # ----- shutdown ---------------------------------------------------------------------------------
    def stop(self, grace: float = 10.0) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(grace), self.loop)
        try:
            future.result(grace + 5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.pool.shutdown(wait=False, cancel_futures=True)

    async def _shutdown(self, grace: float) -> None:
        self.stopping = True
        self._listener.close()
        for connection in list(self.connections):
            if connection.idle:
                connection._close()  # noqa: SLF001 - the server owns its connections
        if self._in_flight:
            try:
                await asyncio.wait_for(self._drained.wait(), grace)
            except asyncio.TimeoutError:
                log.warning("%d REST requests still running after %.0f s; closing their connections",
                            self._in_flight, grace)
        for connection in list(self.connections):
            connection._close()  # noqa: SLF001
