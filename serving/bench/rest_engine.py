"""The REST load loop: raw keep-alive HTTP/1.1 sockets on one ``select.epoll`` (no selectors
layer), the request bytes built once, so one Python process costs ~20 us of CPU per request,
most of it the kernel's send/recv, close to wrk's ~16 us.

Open loop: requests are due at ``start + offset + i / rate``. A due request takes an idle
connection or waits in a backlog until one frees up; either way its latency counts from the
time it was due. Closed loop: each connection sends its next request as soon as it has an answer.
"""
from __future__ import annotations

import collections
import logging
import select
import socket
import time

from serving.bench.samples import Samples
from serving.bench.worker_plan import WorkerPlan

__all__ = ["run_rest"]

log = logging.getLogger(__name__)


class _Conn:
    __slots__ = ("sock", "fd", "buf", "scheduled", "sent", "pending", "need", "status", "keep")

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.fd = -1
        self.buf = bytearray()
        self.scheduled = self.sent = 0.0
        self.pending: memoryview | None = None
        self.need = -1
        self.status = "OK"
        self.keep = True


def _parse(buf: bytearray) -> tuple[str, int, bool]:
    """(status label, total response length, keep-alive) once the headers are in, else length -1."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return "", -1, True
    head = bytes(buf[:end]).lower()
    code = int(head[9:12])
    at = head.find(b"content-length:")
    if at < 0:
        raise ConnectionError("response without Content-Length (chunked answers are not supported)")
    line_end = head.find(b"\r\n", at)
    length = int(head[at + 15: line_end if line_end > 0 else len(head)])
    return ("OK" if code == 200 else f"HTTP_{code}"), end + 4 + length, b"connection: close" not in head


def run_rest(plan: WorkerPlan) -> Samples:
    samples = Samples.empty()
    add_sample = samples.add
    monotonic = time.monotonic
    ep = select.epoll()
    by_fd: dict[int, _Conn] = {}
    readable, writable = select.EPOLLIN, select.EPOLLIN | select.EPOLLOUT
    request = plan.payload
    host, port = plan.host, plan.port
    conns = [_Conn() for _ in range(plan.slots)]
    idle: collections.deque[_Conn] = collections.deque(conns)
    busy: set[_Conn] = set()
    backlog: collections.deque[float] = collections.deque()
    open_loop = plan.mode == "open"
    interval = 1.0 / plan.rate if open_loop else 0.0
    first_due, sent_count = plan.start + plan.offset, 0
    due = first_due
    end = plan.start + plan.total_seconds
    hard_stop = end + plan.timeout_seconds + 1.0
    next_timeout_check = plan.start

    def close(conn: _Conn) -> None:
        if conn.sock is not None:
            by_fd.pop(conn.fd, None)
            try:
                ep.unregister(conn.fd)
            except (OSError, ValueError):
                pass
            conn.sock.close()
            conn.sock, conn.fd = None, -1

    def finish(conn: _Conn, status: str, now: float) -> None:
        add_sample(conn.scheduled, conn.sent, now, status)
        busy.discard(conn)
        conn.buf.clear()
        conn.need = -1
        idle.append(conn)

    def send(conn: _Conn, scheduled: float, now: float) -> None:
        conn.scheduled, conn.sent = scheduled, now
        busy.add(conn)
        try:
            if conn.sock is None:
                sock = socket.create_connection((host, port), timeout=plan.timeout_seconds)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.setblocking(False)
                conn.sock, conn.fd = sock, sock.fileno()
                by_fd[conn.fd] = conn
                ep.register(conn.fd, readable)
            sent = conn.sock.send(request)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            log.debug("connect/send failed: %s", exc)
            close(conn)
            finish(conn, "CONNECTION_ERROR", monotonic())
            return
        if sent < len(request):
            conn.pending = memoryview(request)[sent:]
            ep.modify(conn.fd, writable)

    while True:
        now = monotonic()
        if now >= hard_stop:
            for conn in list(busy):
                close(conn)
                finish(conn, "TIMEOUT", now)
            for scheduled in backlog:  # never got a connection: still a failed request, not a gap
                samples.add(scheduled, now, now, "NOT_SENT")
            break
        if open_loop:
            while due <= now and due < end:
                backlog.append(due)
                sent_count += 1
                due = first_due + sent_count * interval  # by index: no drift from repeated adds
            while backlog and idle:  # newest idle first: reuse warm connections, open more only when needed
                send(idle.pop(), backlog.popleft(), now)
            if due >= end and not backlog and not busy:
                break
            wait = max(0.0, min(due, end) - now) if due < end else 0.05
        else:
            if now < end:
                while idle and now >= plan.start:
                    send(idle.popleft(), now, now)
            elif not busy:
                break
            wait = max(0.0, plan.start - now) if now < plan.start else 0.05
        for fd, events in ep.poll(min(wait, 0.05)):
            conn = by_fd.get(fd)
            if conn is None:  # closed earlier in this batch
                continue
            if events & select.EPOLLOUT and conn.pending is not None:
                try:
                    n = conn.sock.send(conn.pending)
                except BlockingIOError:
                    n = 0
                except OSError:
                    close(conn)
                    finish(conn, "CONNECTION_ERROR", monotonic())
                    continue
                conn.pending = conn.pending[n:] if n < len(conn.pending) else None
                if conn.pending is None:
                    ep.modify(fd, readable)
            if not events & (select.EPOLLIN | select.EPOLLERR | select.EPOLLHUP):
                continue
            try:
                chunk = conn.sock.recv(262144)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            done = monotonic()
            if not chunk:
                close(conn)
                if conn in busy:
                    finish(conn, "CONNECTION_ERROR", done)
                continue
            conn.buf += chunk
            if conn.need < 0:
                try:
                    conn.status, conn.need, conn.keep = _parse(conn.buf)
                except (ValueError, ConnectionError):
                    close(conn)
                    finish(conn, "BAD_RESPONSE", done)
                    continue
            if 0 <= conn.need <= len(conn.buf):
                keep = conn.keep
                finish(conn, conn.status, done)
                if not keep:
                    close(conn)
                if not open_loop and done < end:
                    send(idle.pop(), done, done)
        if now >= next_timeout_check:
            next_timeout_check = now + 0.01
            for conn in [c for c in busy if now - c.sent > plan.timeout_seconds]:
                close(conn)
                finish(conn, "TIMEOUT", now)
    for conn in conns:
        close(conn)
    ep.close()
    return samples
