"""The REST front end (``http_rest_api_handler.cc``, ``http_server.cc``).

Routes (case-insensitive, as TF Serving's regexes):
- ``GET /v1/models/{name}[/versions/{v}|/labels/{l}][/metadata]``: status or metadata;
- ``POST /v1/models/{name}[/versions/{v}|/labels/{l}]:(predict|classify|regress)``;
- any other path under ``/v1``: 400 ``Malformed request``; outside ``/v1``: 404;
- the Prometheus page at the monitoring path, when enabled.
Every answer is ``application/json``; errors are ``{ "error": "..." }`` with the mapped HTTP code.
"""
from __future__ import annotations

import logging
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format

from serving.protocol import messages
from serving.server import json_request, json_response
from serving.server.inference import DEFAULT_SIGNATURE, Inference
from serving.server.status import Code, ServingError

__all__ = ["RestServer"]

log = logging.getLogger(__name__)
_V1 = re.compile(r"/v1/.*", re.I | re.S)
_PREDICT = re.compile(r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)",
                      re.I | re.S)
_STATUS = re.compile(r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
                     re.I | re.S)
_INT64_MAX = 2**63 - 1


def _spec(spec, name: str, version: str | None, label: str | None) -> None:
    spec.name = urllib.parse.unquote(name)
    if version:
        value = int(version)
        if value > _INT64_MAX:
            raise ServingError(Code.INVALID_ARGUMENT, f"Failed to convert version: {version} to numeric.")
        spec.version.value = value
    if label:
        spec.version_label = urllib.parse.unquote(label)


class RestApi:
    """Request processing, independent of the HTTP server: (method, path, body) → (code, body)."""

    def __init__(self, inference: Inference, timeout_ms: int) -> None:
        self.inference, self.timeout_ms = inference, timeout_ms
        self.metrics = inference.metrics

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, str]:
        try:
            return 200, self._dispatch(method, path, body)
        except ServingError as exc:
            return exc.http_status, json_response.error_json(exc.message)
        except Exception as exc:  # noqa: BLE001 - a bad request never takes the server down
            log.exception("REST request failed: %s %s", method, path)
            return 500, json_response.error_json(f"{type(exc).__name__}: {exc}")

    def _dispatch(self, method: str, path: str, body: bytes) -> str:
        if method == "POST":
            match = _PREDICT.fullmatch(path)
            if match:
                name, version, label, verb = match.groups()
                return self._infer(verb.lower(), name, version, label, body)
        elif method == "GET":
            match = _STATUS.fullmatch(path)
            if match:
                name, version, label, sub = match.groups()
                if not name:
                    raise ServingError(Code.INVALID_ARGUMENT, "Missing model name in request.")
                return self._metadata(name, version, label) if sub else self._status(name, version, label)
        raise ServingError(Code.INVALID_ARGUMENT, f"Malformed request: {method} {path}")

    def _status(self, name: str, version: str | None, label: str | None) -> str:
        request = messages.GetModelStatusRequest()
        _spec(request.model_spec, name, version, label)
        response = self.inference.run_status(request)
        return json_format.MessageToJson(response, preserving_proto_field_name=True, indent=1,
                                         always_print_fields_with_no_presence=True)

    def _metadata(self, name: str, version: str | None, label: str | None) -> str:
        request = messages.GetModelMetadataRequest(metadata_field=["signature_def"])
        _spec(request.model_spec, name, version, label)
        response = self.inference.run_metadata(request)
        opts = dict(preserving_proto_field_name=True, indent=1, always_print_fields_with_no_presence=True)
        spec = json_format.MessageToJson(response.model_spec, **opts)
        sig_map = messages.SignatureDefMap()
        response.metadata["signature_def"].Unpack(sig_map)
        sigs = json_format.MessageToJson(sig_map, **opts)
        return '{\n"model_spec":' + spec + ',\n"metadata": {"signature_def": ' + sigs + "}\n}\n"

    def _infer(self, verb: str, name: str, version: str | None, label: str | None, body: bytes) -> str:
        start = time.perf_counter()
        model = urllib.parse.unquote(name)
        status = Code.OK
        try:
            deadline = time.monotonic() + self.timeout_ms / 1000 if self.timeout_ms > 0 else None
            if verb == "predict":
                out = self._predict(name, version, label, body, deadline)
            else:
                out = self._examples(verb, name, version, label, body, deadline)
            self.metrics.request_latency.observe(model, verb, "REST", value=(time.perf_counter() - start) * 1e6)
            return out
        except ServingError as exc:
            status = exc.code
            raise
        finally:
            self.metrics.request_count.inc(model, status.name)

    def _predict(self, name, version, label, body: bytes, deadline) -> str:
        spec = messages.ModelSpec()
        _spec(spec, name, version, label)
        doc = json_request.parse_request(body)
        signature_key = json_request.signature_name(doc) or DEFAULT_SIGNATURE
        servable = self.inference.resolve(spec)
        signature = servable.signature(signature_key)
        if signature is None:
            raise ServingError(Code.INVALID_ARGUMENT, f'Serving signature name: "{signature_key}" not found in signature def')
        info = {n: signature.signature_def.inputs[n].dtype for n in signature.input_names}
        if not info:
            raise ServingError(Code.INVALID_ARGUMENT, f"Failed to get input map for signature: {signature_key}")
        fmt, inputs = json_request.tensors_from_json(doc, info)
        outputs = self.inference.predict_arrays(servable, signature_key, inputs, (), deadline)
        return json_response.predict_response_json(outputs, fmt)

    def _examples(self, verb, name, version, label, body: bytes, deadline) -> str:
        request = (messages.ClassificationRequest() if verb == "classify"
                   else messages.RegressionRequest())
        _spec(request.model_spec, name, version, label)
        doc = json_request.parse_request(body)
        request.model_spec.signature_name = json_request.signature_name(doc)
        json_request.examples_input(doc, request.input)
        if verb == "classify":
            return json_response.classify_response_json(self.inference.run_classify(request, deadline).result)
        return json_response.regress_response_json(self.inference.run_regress(request, deadline).result)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "plantserve"
    disable_nagle_algorithm = True
    api: RestApi
    metrics_path: str | None
    tracker: "RestServer"
    cors: bool = False
    _CORS = ("Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: POST, GET\r\n"
             "Access-Control-Allow-Headers: Content-Type\r\n")

    def log_message(self, fmt: str, *args) -> None:  # noqa: D401 - route access logs to logging
        log.debug("%s " + fmt, self.address_string(), *args)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _reply(self, code: int, body: str, content_type: str = "application/json") -> None:
        """Status line, headers and body in one write: two small writes meet Nagle and delayed ACKs (40 ms)."""
        data = body.encode("utf-8")
        reason = self.responses.get(code, ("",))[0]
        head = (f"HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len(data)}\r\n"
                + ("Connection: close\r\n" if self.close_connection else "")
                + (self._CORS if self.cors else "") + "\r\n")
        self.wfile.write(head.encode("latin-1") + data)

    def _handle(self, method: str) -> None:
        self.tracker.enter()
        log.debug("REST request started: %s %s", method, self.path)
        try:
            try:
                body = self._body()
            except (ValueError, OSError):
                self.close_connection = True
                self._reply(400, json_response.error_json("Malformed request body"))
                return
            path = urllib.parse.urlsplit(self.path).path if "?" in self.path or "#" in self.path else self.path
            if self.metrics_path is not None and path == self.metrics_path:
                self._reply(200, self.api.metrics.render(), "text/plain")
            elif _V1.fullmatch(path):
                code, text = self.api.handle(method, path, body)
                self._reply(code, text)
            else:
                self._reply(404, json_response.error_json(f"Not found: {method} {path}"))
        finally:
            self.tracker.leave()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_OPTIONS(self) -> None:  # noqa: N802 - CORS preflight, answered only with --rest_api_enable_cors_support
        if self.cors:
            self._body()
            self._reply(200, "")
        else:
            self._handle("OPTIONS")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class RestServer:
    """Binds 0.0.0.0 like TF Serving's evhttp server; ``stop`` waits for requests in flight."""

    def __init__(self, port: int, api: RestApi, metrics_path: str | None, host: str = "0.0.0.0",
                 cors: bool = False) -> None:
        handler = type("Handler", (_Handler,), {"api": api, "metrics_path": metrics_path, "tracker": self,
                                                "cors": cors})
        self._active = 0
        self._cond = threading.Condition()
        self._server = _Server((host, port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="rest", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> None:
        self._thread.start()

    def enter(self) -> None:
        with self._cond:
            self._active += 1

    def leave(self) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify_all()

    def stop(self, grace: float = 10.0) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._cond:
            self._cond.wait_for(lambda: self._active == 0, timeout=grace)
