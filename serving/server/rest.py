"""The REST API behind the HTTP server (``http_server.cc``, ``http_rest_api_handler.cc``,
``http_rest_api_util.cc``): one parsed HTTP request in, one answer out.

- the Prometheus page at the monitoring path, when enabled (any method);
- paths matching ``(?i)/v1/.*`` go to the API; anything else is libevent's HTML 404;
- ``OPTIONS`` is a CORS preflight: 200 with an empty body when ``Origin`` is ``http(s)://...``, else
  400 (FAILED_PRECONDITION, empty body), before any routing;
- ``POST /v1/models/{name}[/versions/{v}|/labels/{l}]:(classify|regress|predict)`` and
  ``GET /v1/models/{name}[/versions/{v}|/labels/{l}][/metadata]``: the regexes are case-insensitive
  but the verb and ``metadata`` are compared as written, so ``:PREDICT`` is a malformed request and
  ``/METADATA`` answers the model's status;
- every other method or path under ``/v1`` (``HEAD``, ``PATCH``, ``PUT``...): 400
  ``{ "error": "Malformed request: METHOD path" }``.
Every API answer is ``application/json``; errors are ``{ "error": "..." }`` with the mapped HTTP code.

>>> RestApi.__name__
'RestApi'
"""
from __future__ import annotations

import dataclasses
import logging
import re
import time
import urllib.parse

from google.protobuf import json_format

from serving.protocol import messages
from serving.server import json_request, json_response
from serving.server.inference import DEFAULT_SIGNATURE, Inference
from serving.server.status import Code, ServingError

__all__ = ["RestApi", "HttpRequest", "HttpAnswer", "NOT_FOUND_HTML"]

log = logging.getLogger(__name__)
_V1 = re.compile(r"/v1/.*", re.I | re.S)
_PREDICT = re.compile(r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)",
                      re.I | re.S)
_STATUS = re.compile(r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
                     re.I | re.S)
_ORIGIN = re.compile(r"https?://")
_INT64_MAX = 2**63 - 1
_JSON = "application/json"
#: libevent's ``evhttp_send_error(req, HTTP_NOTFOUND, NULL)`` body.
NOT_FOUND_HTML = "<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n<H1>Not Found</H1>\n</BODY></HTML>\n"
_CORS = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "POST, GET"),
         ("Access-Control-Allow-Headers", "Content-Type"))


@dataclasses.dataclass
class HttpRequest:
    method: str
    path: str  # without the query string
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclasses.dataclass
class HttpAnswer:
    """``body`` is bytes, or a list of chunks (a large answer, written without joining them)."""

    status: int
    body: bytes | list[bytes]
    content_type: str | None = _JSON
    headers: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass
class _Route:
    model: str = ""
    method: str = ""  # the verb for POST, "" for GET (the metrics' API label)
    version: str | None = None
    label: str | None = None
    subresource: str = ""
    matched: bool = False


def _parse(method: str, path: str) -> _Route:
    """``ParseModelInfo``."""
    route = _Route()
    match = _PREDICT.fullmatch(path) if method == "POST" else _STATUS.fullmatch(path) if method == "GET" else None
    if match is None:
        return route
    route.matched = True
    if method == "POST":
        name, route.version, route.label, route.method = match.groups()
    else:
        name, route.version, route.label, sub = match.groups()
        route.subresource = sub or ""
    route.model = urllib.parse.unquote(name or "")
    if route.label is not None:
        route.label = urllib.parse.unquote(route.label)
    if route.version is not None and int(route.version) > _INT64_MAX:
        raise ServingError(Code.INVALID_ARGUMENT, f"Failed to convert version: {route.version} to numeric.")
    return route


def _spec(spec, route: _Route) -> None:
    spec.name = route.model
    if route.version is not None:
        spec.version.value = int(route.version)
    if route.label is not None:
        spec.version_label = route.label


class RestApi:
    """Request processing, independent of the HTTP server. ``handle`` never raises."""

    def __init__(self, inference: Inference, timeout_ms: int, metrics_path: str | None = None,
                 cors: bool = False) -> None:
        self.inference, self.timeout_ms = inference, timeout_ms
        self.metrics = inference.metrics
        self.metrics_path, self.cors = metrics_path, cors

    def handle(self, request: HttpRequest) -> HttpAnswer:
        if self.metrics_path is not None and request.path == self.metrics_path:
            return HttpAnswer(200, self.metrics.render().encode(), "text/plain")
        if not _V1.fullmatch(request.path):
            return HttpAnswer(404, NOT_FOUND_HTML.encode(), "text/html")
        start = time.perf_counter()
        route, status, body, content_type = _Route(), Code.OK, b"", _JSON
        try:
            if request.method == "OPTIONS":
                content_type = None
                if not _ORIGIN.search(request.headers.get("origin", "")):
                    status = Code.FAILED_PRECONDITION  # "Origin header is missing in CORS preflight", not sent
            else:
                route = _parse(request.method, request.path)
                body = self._dispatch(request, route)
        except ServingError as exc:
            status, body = exc.code, json_response.error_json(exc.message).encode()
        except Exception as exc:  # noqa: BLE001 - a bad request never takes the server down
            log.exception("REST request failed: %s %s", request.method, request.path)
            status, body = Code.INTERNAL, json_response.error_json(f"{type(exc).__name__}: {exc}").encode()
        if status == Code.OK:
            self.metrics.request_latency.observe(route.model, route.method, "REST",
                                                 value=(time.perf_counter() - start) * 1e6)
        self.metrics.request_count.inc(route.model, status.name)
        return HttpAnswer(status.http, body, content_type, _CORS if self.cors else ())

    def _dispatch(self, request: HttpRequest, route: _Route) -> bytes | list[bytes]:
        if route.matched and request.method == "POST":
            if route.method in ("classify", "regress", "predict"):
                body, request.body = request.body, b""  # consumed: nothing keeps a second copy alive
                return self._infer(route, body)
        elif route.matched and request.method == "GET":
            if not route.model:
                raise ServingError(Code.INVALID_ARGUMENT, "Missing model name in request.")
            return (self._metadata(route) if route.subresource == "metadata" else self._status(route)).encode()
        raise ServingError(Code.INVALID_ARGUMENT, f"Malformed request: {request.method} {request.path}")

    def _status(self, route: _Route) -> str:
        request = messages.GetModelStatusRequest()
        _spec(request.model_spec, route)
        response = self.inference.run_status(request)
        return json_format.MessageToJson(response, preserving_proto_field_name=True, indent=1,
                                         always_print_fields_with_no_presence=True)

    def _metadata(self, route: _Route) -> str:
        request = messages.GetModelMetadataRequest(metadata_field=["signature_def"])
        _spec(request.model_spec, route)
        response = self.inference.run_metadata(request)
        opts = dict(preserving_proto_field_name=True, indent=1, always_print_fields_with_no_presence=True)
        spec = json_format.MessageToJson(response.model_spec, **opts)
        sig_map = messages.SignatureDefMap()
        response.metadata["signature_def"].Unpack(sig_map)
        sigs = json_format.MessageToJson(sig_map, **opts)
        return '{\n"model_spec":' + spec + ',\n"metadata": {"signature_def": ' + sigs + "}\n}\n"

    def _infer(self, route: _Route, body: bytes) -> bytes | list[bytes]:
        deadline = time.monotonic() + self.timeout_ms / 1000 if self.timeout_ms > 0 else None
        if route.method == "predict":
            doc = json_request.parse_request(body)
            del body  # from here on only the parsed document (and then only the tensors) stay in memory
            return self._predict(route, doc, deadline)
        request = messages.ClassificationRequest() if route.method == "classify" else messages.RegressionRequest()
        _spec(request.model_spec, route)
        doc = json_request.parse_request(body)
        request.model_spec.signature_name = json_request.signature_name(doc)
        json_request.examples_input(doc, request.input)
        if route.method == "classify":
            return json_response.classify_response_json(self.inference.run_classify(request, deadline).result).encode()
        return json_response.regress_response_json(self.inference.run_regress(request, deadline).result).encode()

    def _predict(self, route: _Route, doc: dict, deadline: float | None) -> list[bytes]:
        spec = messages.ModelSpec()
        _spec(spec, route)
        requested = json_request.signature_name(doc)
        signature_key = requested or DEFAULT_SIGNATURE
        servable = self.inference.resolve(spec)
        signature = servable.signature_map.signature_def.get(signature_key)
        if signature is None:
            raise ServingError(Code.INVALID_ARGUMENT, f'Serving signature name: "{signature_key}" not found in '
                               "signature def")
        info = {alias: tensor.dtype for alias, tensor in signature.inputs.items()}
        if not info:
            raise ServingError(Code.INVALID_ARGUMENT,
                               f"Failed to get input map for signature: {requested or 'DEFAULT'}")
        fmt, inputs = json_request.tensors_from_json(doc, info)
        doc.clear()  # the Python objects of a large body go before the model runs
        outputs = self.inference.predict_arrays(servable, route.model, signature_key, inputs, deadline)
        del inputs
        return json_response.predict_response_chunks(outputs, fmt)
