"""HTTP/1.1 framing for the REST server: one asyncio protocol per connection, reading requests
one at a time within the server's limits, and the answers' bytes.

A connection reads a head (request line and headers), then a body framed by ``Content-Length`` or
chunked, answers ``100 Continue`` when asked, refuses what passes the limits (431, 413) without
reading it, and hands a complete request to its server (``RestServer.process`` in a worker thread);
pipelined requests wait in the buffer while one is answered. Timers close a connection that sends
nothing for the idle timeout, or whose head does not arrive within the header timeout.

>>> encode_answer(HttpAnswer(200, b"{}"), head_only=False, close=True)[0].split(b"\\r\\n")[0]
b'HTTP/1.1 200 OK'
"""
from __future__ import annotations

import asyncio
import dataclasses
import http
import logging
import zlib
from typing import TYPE_CHECKING

from serving.server import json_response
from serving.server.rest import HttpAnswer, HttpRequest

if TYPE_CHECKING:
    from serving.server.rest_server import RestServer

__all__ = ["RestLimits", "BodyTooLarge", "Connection", "gunzip", "too_large", "encode_answer"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RestLimits:
    max_body_bytes: int = 4 << 20
    num_threads: int = 8
    max_header_bytes: int = 64 << 10
    header_timeout: float = 30.0
    idle_timeout: float = 50.0
    backlog: int = 1024


class BodyTooLarge(ValueError):
    pass


def gunzip(data: bytes, limit: int) -> bytes:
    """A gzip body, decompressed to at most ``limit`` bytes (BodyTooLarge past it). A body that is
    not valid gzip becomes empty, as TF Serving's ``ReadRequestGzipBytes`` makes it."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        return b""
    if len(out) > limit:
        raise BodyTooLarge(f"the gzip body inflates past {limit} bytes")
    return out if inflater.eof else b""


def too_large(size: int | str, limit: int) -> HttpAnswer:
    message = (f"Request body of {size} bytes is larger than the {limit} this server accepts "
               "(--rest_api_max_body_bytes, a plantserve serve limit)")
    return HttpAnswer(413, json_response.error_json(message).encode())


def encode_answer(answer: HttpAnswer, head_only: bool, close: bool) -> list[bytes]:
    """The answer as chunks to write: head and body in one for a small answer (two small writes
    would meet delayed ACKs), the body's own chunks after the head for a large one."""
    try:
        reason = http.HTTPStatus(answer.status).phrase
    except ValueError:
        reason = ""
    lines = [f"HTTP/1.1 {answer.status} {reason}"]
    lines.append(f"Content-Type: {answer.content_type or 'text/html; charset=ISO-8859-1'}")  # libevent's default
    lines.extend(f"{k}: {v}" for k, v in answer.headers)
    chunks = [answer.body] if isinstance(answer.body, bytes) else answer.body
    lines.append(f"Content-Length: {sum(len(c) for c in chunks)}")
    if close:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if head_only:
        return [head]
    if len(chunks) == 1 and len(chunks[0]) < (64 << 10):
        return [head + chunks[0]]
    return [head, *chunks]


class Connection(asyncio.Protocol):
    """One client connection: reads requests one at a time (pipelined ones wait in the buffer)."""

    def __init__(self, server: "RestServer") -> None:
        self.server, self.limits = server, server.limits
        self.loop = server.loop
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.state = "head"
        self.request: HttpRequest | None = None
        self.need = 0
        self.keep_alive = True
        self.counted = False  # a request has started and is not finished yet
        self.chunks = bytearray()
        self.last = self.loop.time()
        self.head_started: float | None = None
        self.timer: asyncio.TimerHandle | None = None

    # ----- transport events -------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.server.connections.add(self)
        self._arm(self.limits.idle_timeout)

    def connection_lost(self, exc) -> None:
        self.server.connections.discard(self)
        if self.timer is not None:
            self.timer.cancel()
        if self.state != "busy":  # left mid-body: that request never runs (a busy one finishes in _answered)
            self._release()
        self.state = "closed"

    def _release(self) -> None:
        if self.counted:
            self.counted = False
            self.server.finished()

    def data_received(self, data: bytes) -> None:
        self.last = self.loop.time()
        self.buf += data
        if len(self.buf) > self.limits.max_header_bytes + self.limits.max_body_bytes + (64 << 10):
            self._close()  # a client that ignores the pause: nothing it sends is kept past the limits
            return
        self._advance()

    # ----- timers -----------------------------------------------------------------------------------
    def _arm(self, delay: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        if self.state in ("busy", "closed"):
            return
        now = self.loop.time()
        due = self.last + self.limits.idle_timeout
        if self.state == "head" and self.head_started is not None:
            due = min(due, self.head_started + self.limits.header_timeout)
        if now >= due:
            self._close()
        else:
            self._arm(due - now)

    # ----- reading ----------------------------------------------------------------------------------
    def _advance(self) -> None:
        while self.state in ("head", "body", "chunked", "trailer"):
            if self.state == "head" and not self._read_head():
                return
            if self.state == "body":
                if len(self.buf) < self.need:
                    return
                if len(self.buf) == self.need:
                    body, self.buf = bytes(self.buf), bytearray()  # no capacity left behind
                else:
                    body = bytes(self.buf[:self.need])
                    del self.buf[:self.need]
                self._dispatch(body)
            if self.state == "chunked" and not self._read_chunks():
                return
            if self.state == "trailer" and not self._read_trailer():
                return

    def _read_head(self) -> bool:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > self.limits.max_header_bytes:
                self._fail(431, "Request header fields too large")
            elif self.buf and self.head_started is None:
                self.head_started = self.loop.time()
                self._arm(min(self.limits.header_timeout, self.limits.idle_timeout))
            return False
        if end > self.limits.max_header_bytes:
            self._fail(431, "Request header fields too large")
            return False
        raw = bytes(self.buf[:end]).decode("latin-1")
        del self.buf[:end + 4]
        self.head_started = None
        lines = raw.split("\r\n")
        while lines and not lines[0]:  # stray CRLFs between requests
            lines.pop(0)
        parts = lines[0].split(" ") if lines else []
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self._fail(400, "Malformed HTTP request line")
            return False
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                self._fail(400, "Malformed HTTP header")
                return False
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        connection = headers.get("connection", "").lower()
        self.keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        path = target.split("?", 1)[0].split("#", 1)[0]
        self.request = HttpRequest(method, path, headers, b"")
        self.counted = True
        self.server.started()
        log.debug("REST request started: %s %s", method, path)
        return self._start_body(headers)

    def _start_body(self, headers: dict[str, str]) -> bool:
        limit = self.limits.max_body_bytes
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self.state, self.need, self.chunks = "chunked", 0, bytearray()
        elif headers.get("content-length", "0").strip() not in ("", "0"):
            text = headers["content-length"].strip()
            if not text.isdigit():
                self._finish_early(HttpAnswer(400, json_response.error_json("Malformed Content-Length").encode()))
                return False
            if int(text) > limit:
                self._finish_early(too_large(text, limit))
                return False
            self.state, self.need = "body", int(text)
        else:
            self._dispatch(b"")
            return False
        if headers.get("expect", "").lower() == "100-continue":
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    def _read_chunks(self) -> bool:
        while True:
            if self.need == 0:
                end = self.buf.find(b"\r\n")
                if end < 0:
                    return False
                size_text = bytes(self.buf[:end]).split(b";")[0].strip()
                del self.buf[:end + 2]
                try:
                    size = int(size_text, 16)
                except ValueError:
                    self._finish_early(HttpAnswer(400, json_response.error_json("Malformed chunked body").encode()))
                    return False
                if size == 0:
                    self.state = "trailer"
                    return True
                if len(self.chunks) + size > self.limits.max_body_bytes:
                    self._finish_early(too_large(f"more than {len(self.chunks) + size}", self.limits.max_body_bytes))
                    return False
                self.need = size + 2  # the data and its CRLF
            if len(self.buf) < self.need:
                return False
            self.chunks += self.buf[:self.need - 2]
            del self.buf[:self.need]
            self.need = 0

    def _read_trailer(self) -> bool:
        """Trailer fields (ignored) up to the empty line that ends a chunked body."""
        while True:
            end = self.buf.find(b"\r\n")
            if end < 0:
                return False
            del self.buf[:end + 2]
            if end == 0:
                body, self.chunks = bytes(self.chunks), bytearray()
                self._dispatch(body)
                return False

    # ----- answering --------------------------------------------------------------------------------
    def _dispatch(self, body: bytes) -> None:
        request = self.request
        request.body = body
        self.state = "busy"
        self.transport.pause_reading()
        future = self.loop.run_in_executor(self.server.pool, self.server.process, request, self.keep_alive)
        future.add_done_callback(self._answered)

    def _answered(self, future) -> None:
        try:
            data, keep_alive = future.result()
        except Exception:  # noqa: BLE001 - RestApi.handle answers every error; this is a last resort
            log.exception("REST request failed")
            data, keep_alive = encode_answer(HttpAnswer(500, json_response.error_json("Internal error").encode()),
                                       False, True), False
        self._release()
        if self.state == "closed":
            return
        for chunk in data:
            self.transport.write(chunk)
        if not keep_alive or self.server.stopping:
            self._close()
            return
        self.state, self.request = "head", None
        self.last = self.loop.time()
        self._arm(self.limits.idle_timeout)
        self.transport.resume_reading()
        if self.buf:
            self._advance()

    def _finish_early(self, answer: HttpAnswer) -> None:
        """Answer without reading the body, then close (the unread body makes the connection unusable)."""
        self._release()
        for chunk in encode_answer(answer, self.request is not None and self.request.method == "HEAD", True):
            self.transport.write(chunk)
        self._close()

    def _fail(self, status: int, message: str) -> None:
        for chunk in encode_answer(HttpAnswer(status, json_response.error_json(message).encode()), False, True):
            self.transport.write(chunk)
        self._close()

    def _close(self) -> None:
        if self.state == "closed":
            return
        if self.state != "busy":
            self._release()
        self.state = "closed"
        if self.timer is not None:
            self.timer.cancel()
        self.transport.close()

    @property
    def idle(self) -> bool:
        return self.state == "head"
