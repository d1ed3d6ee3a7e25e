"""A tiny authoritative DNS responder on loopback UDP, standing in for a headless Service.

It answers A queries for one name with several addresses, and every other query with an empty
NOERROR. gRPC's c-ares resolver can be pointed at it per target: ``dns://127.0.0.1:PORT/NAME:P``.
"""
from __future__ import annotations

import socket
import struct
import threading


class DnsStub:
    def __init__(self, name: str, addresses: list[str]) -> None:
        self.name = name.rstrip(".").lower()
        self.addresses = addresses
        self.queries: list[tuple[str, int]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()

    def _answer(self, query: bytes) -> bytes:
        ident, _flags, qdcount = struct.unpack(">HHH", query[:6])
        pos, labels = 12, []
        while query[pos]:
            length = query[pos]
            labels.append(query[pos + 1: pos + 1 + length].decode().lower())
            pos += 1 + length
        qtype, _qclass = struct.unpack(">HH", query[pos + 1: pos + 5])
        question = query[12: pos + 5]
        name = ".".join(labels)
        self.queries.append((name, qtype))
        answers = b""
        count = 0
        if name == self.name and qtype == 1:  # A
            for address in self.addresses:
                answers += struct.pack(">HHHIH", 0xC00C, 1, 1, 5, 4) + socket.inet_aton(address)
                count += 1
        rcode = 0 if name == self.name else 3  # NXDOMAIN for other names
        header = struct.pack(">HHHHHH", ident, 0x8400 | 0x0100 | 0x0080 | rcode, qdcount, count, 0, 0)
        return header + question + answers

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self.sock.sendto(self._answer(data), peer)
            except (IndexError, struct.error):
                continue

    def __enter__(self) -> "DnsStub":
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.sock.close()
