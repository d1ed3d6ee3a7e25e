"""A TCP proxy on loopback that can break a connection the way a flaky plant link does.

``reset_after_bytes=N`` breaks the first connection whose upstream-to-client stream passes N bytes,
once; every other connection is forwarded untouched. ``resets`` counts what it did. Two ways to break:

- ``truncate=False`` (default): a reset (RST). The client's kernel drops whatever it had received but
  the client had not read yet, so how much of the broken response the client saw depends on timing.
- ``truncate=True``: the response stops mid-body and the connection closes (FIN). The client reads
  every byte sent before the break, then meets the short body: a retry always rewinds those bytes.

    with FaultProxy("127.0.0.1", moto_port, reset_after_bytes=1 << 20) as proxy:
        open_store(uri, S3Options(endpoint_url=proxy.url))
"""
from __future__ import annotations

import socket
import struct
import threading

__all__ = ["FaultProxy"]


class FaultProxy:
    def __init__(self, host: str, port: int, *, reset_after_bytes: int | None = None, truncate: bool = False) -> None:
        self.upstream = (host, port)
        self.reset_after_bytes = reset_after_bytes
        self.truncate = truncate
        self.resets = 0
        self.connections = 0
        self._armed = reset_after_bytes is not None
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="faultproxy", daemon=True).start()

    def arm(self, reset_after_bytes: int, truncate: bool | None = None) -> None:
        """Break the next connection whose downstream passes ``reset_after_bytes``, once."""
        with self._lock:
            self.reset_after_bytes, self._armed = reset_after_bytes, True
            if truncate is not None:
                self.truncate = truncate

    def close(self) -> None:
        self._closed.set()
        self._listener.close()

    def __enter__(self) -> "FaultProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=30)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.connections += 1
            aborted = threading.Event()
            threading.Thread(target=self._pipe, args=(client, upstream, False, aborted), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True, aborted), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, downstream: bool, aborted: threading.Event) -> None:
        moved = 0
        try:
            while not aborted.is_set():
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
                moved += len(data)
                if downstream and self._should_reset(moved):
                    aborted.set()
                    if self.truncate:  # FIN to the client after what it was sent; SHUT_RD wakes the other pipe
                        dst.shutdown(socket.SHUT_RDWR)
                        src.shutdown(socket.SHUT_RD)
                        break
                    for s in (dst, src):  # SO_LINGER 0: the close sends RST; SHUT_RD wakes the other pipe
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        s.shutdown(socket.SHUT_RD)
                    break
        except OSError:
            pass
        finally:
            for s in (src, dst):
                if not aborted.is_set():
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                s.close()

    def _should_reset(self, moved: int) -> bool:
        with self._lock:
            if self._armed and moved >= (self.reset_after_bytes or 0):
                self._armed = False
                self.resets += 1
                return True
        return False
