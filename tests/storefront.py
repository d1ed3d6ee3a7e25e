"""An HTTP front for moto's S3 server on loopback: TLS with a throwaway certificate, and optionally the
rules by which Google Cloud Storage's S3-compatible XML API differs from S3.

Used where a test needs the store as a deployment meets it: ``https://`` endpoints (a plant's MinIO
behind TLS) and ``gs://`` buckets (GCS's XML API with HMAC keys). Every request is forwarded to
moto unchanged, except where GCS behaves differently; what GCS does is enforced here, from its docs:

- a create-only write is ``x-goog-if-generation-match: 0``, answered 412 when the object exists
  (GCS honours ``If-None-Match`` on reads only, so it is dropped from writes);
- the CRC/SHA request checksums boto3 adds by default (``x-amz-checksum-*``,
  ``x-amz-sdk-checksum-algorithm``, ``x-amz-checksum-mode``) are refused with 400;
- every request must carry an AWS SigV4 ``Authorization`` header (HMAC keys).

``requests`` records (method, path, headers) of every request, for assertions.
"""
from __future__ import annotations

import http.client
import ssl
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["StoreFront"]

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"}
_CHUNK = 1 << 20


class _Server(ThreadingHTTPServer):
    """TLS handshakes happen in each connection's thread, never in the accepting one."""

    daemon_threads = True

    def __init__(self, address, handler, context: ssl.SSLContext | None) -> None:
        super().__init__(address, handler)
        self.context = context

    def finish_request(self, request, client_address) -> None:
        if self.context is not None:
            try:
                request = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # a client that gave up or does not trust us: nothing to serve
        super().finish_request(request, client_address)


class StoreFront:
    """``StoreFront(upstream, cert=(cert_pem, key_pem), gcs=True)``; ``url`` is where clients connect."""

    def __init__(self, upstream: str, *, cert: tuple[bytes, bytes] | None = None, gcs: bool = False) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.gcs = gcs
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        context = None
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            with tempfile.TemporaryDirectory() as tmp:
                cert_path, key_path = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
                cert_path.write_bytes(cert[0])
                key_path.write_bytes(cert[1])
                context.load_cert_chain(cert_path, key_path)
        self._server = _Server(("127.0.0.1", 0), self._handler(), context)
        scheme = "http" if context is None else "https"
        self.port = self._server.server_address[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="storefront", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "StoreFront":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----- the handler ----------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args) -> None:  # quiet
                return None

            def _forward(self) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                with front._lock:
                    front.requests.append((self.command, self.path, dict(headers)))
                body = self._body()
                if headers.pop("Transfer-Encoding", None) is not None:  # forwarded whole, with its length
                    headers["Content-Length"] = str(len(body))
                if front.gcs:
                    refusal = front._gcs_refusal(self.command, self.path, headers)
                    if refusal is not None:
                        return self._reply(*refusal)
                    if self.command == "PUT":
                        headers.pop("If-None-Match", None)
                upstream = http.client.HTTPConnection(*front.upstream, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    self.send_response(response.status, response.reason)
                    for key, value in response.getheaders():
                        if key.lower() not in _HOP_BY_HOP and key.lower() != "transfer-encoding":
                            self.send_header(key, value)
                    data = response.read()  # moto answers with a Content-Length
                    if response.getheader("Content-Length") is None:
                        self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        for start in range(0, len(data), _CHUNK):
                            self.wfile.write(data[start:start + _CHUNK])
                finally:
                    upstream.close()

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    parts = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return b"".join(parts)
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _reply(self, status: int, code: str, message: str) -> None:
                body = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                        f"<Message>{message}</Message></Error>").encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward  # noqa: N815 - http.server's naming

        return Handler

    def _gcs_refusal(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, str, str] | None:
        lowered = {k.lower(): v for k, v in headers.items()}
        if not lowered.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
            return 403, "AccessDenied", "GCS's XML API takes HMAC keys signed with SigV4 here"
        checksums = sorted(k for k in lowered if k.startswith("x-amz-checksum") or k == "x-amz-sdk-checksum-algorithm")
        if checksums:
            return 400, "InvalidArgument", f"unsupported headers {checksums}"
        if method == "PUT" and lowered.get("x-goog-if-generation-match") == "0" and self._exists(path, headers):
            return 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold."
        return None

    def _exists(self, path: str, headers: dict[str, str]) -> bool:
        """HEAD the object upstream (moto wants an Authorization header; it does not check the signature)."""
        auth = {k: v for k, v in headers.items() if k.lower() in ("authorization", "x-amz-date", "host")}
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            conn.request("HEAD", urllib.parse.urlsplit(path).path, headers=auth)
            status = conn.getresponse().status
        finally:
            conn.close()
        return status == 200
