"""``RestClient``: the same API as :class:`PredictClient`, over TF Serving's REST API.

Uses the standard library only: one keep-alive ``http.client`` connection per thread. Like the
gRPC client it retries only when the server is unavailable (connection refused or reset, HTTP
503), with exponential backoff inside the call's deadline, and never on 4xx.

>>> client = RestClient("http://localhost:8501", default_label=None)  # doctest: +SKIP
>>> client.predict("defect", {"image": np.zeros((1, 28, 28, 1), np.float32)})["class_id"]  # doctest: +SKIP
array([0])
"""
from __future__ import annotations

import base64
import http.client
import json
import logging
import ssl
import threading
import time
import urllib.parse
from typing import Any

import numpy as np

from serving.client.errors import ClientError, DeadlineExceeded, Unavailable, error_for_http
from serving.client.examples import Features, feature_rows, to_json_example
from serving.client.explain import ExplainMethods
from serving.client.inputs import Inputs, named_inputs, sole_input_name
from serving.client.results import ModelMetadata, Prediction, Signature, VersionStatus
from serving.client.settings import ClientSettings, ModelRef

__all__ = ["RestClient", "model_path", "json_value"]

log = logging.getLogger(__name__)


def model_path(ref: ModelRef) -> str:
    """``/v1/models/fuel``, ``.../versions/3`` or ``.../labels/stable``."""
    path = f"/v1/models/{urllib.parse.quote(ref.name, safe='')}"
    if ref.version is not None:
        path += f"/versions/{ref.version}"
    elif ref.label is not None:
        path += f"/labels/{urllib.parse.quote(ref.label, safe='')}"
    return path


def json_value(array: np.ndarray) -> Any:
    """An array in TF Serving REST form: nested lists, bytes as {"b64": ...}."""
    if array.dtype.kind in "OSU":
        flat = [{"b64": base64.b64encode(v).decode()} if isinstance(v, bytes) else str(v) for v in array.reshape(-1)]
        return np.array(flat, dtype=object).reshape(array.shape).tolist()
    return array.tolist()


class RestClient(ExplainMethods):
    """Thread-safe; one keep-alive connection per thread. ``target`` is ``http[s]://host:port``."""

    def __init__(self, target: str | ClientSettings, **settings: Any) -> None:
        self.settings = target if isinstance(target, ClientSettings) else ClientSettings(target=target, **settings)
        url = urllib.parse.urlsplit(self.settings.target)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"REST target must look like http://host:8501, got {self.settings.target!r}")
        self._url = url
        self._local = threading.local()
        self._signatures: dict[ModelRef, Signature] = {}
        self._lock = threading.Lock()

    # -- calls -------------------------------------------------------------------------------
    def predict(self, model: str, inputs: Inputs, *, version: int | None = None, label: str | None = None,
                signature: str | None = None, output_filter: list[str] | None = None,
                timeout: float | None = None) -> Prediction:
        """As ``PredictClient.predict``; REST answers carry no version, so ``.version`` is ``version``."""
        ref = self.settings.model_ref(model, version=version, label=label, signature=signature)
        sig = self._signature(ref, timeout)
        named = named_inputs(inputs, lambda: sole_input_name(sig))
        body = {"signature_name": ref.signature, "inputs": {k: json_value(v) for k, v in named.items()}}
        outputs = self._request("POST", model_path(ref) + ":predict", body, timeout)["outputs"]
        if not isinstance(outputs, dict):  # a single output comes back bare
            outputs = {next(iter(sig.outputs)): outputs}
        wanted = set(output_filter or outputs)
        return Prediction({k: self._decode(v, sig, k) for k, v in outputs.items() if k in wanted}, version)

    def classify(self, model: str, features: Features, *, version: int | None = None, label: str | None = None,
                 signature: str | None = "classify", timeout: float | None = None) -> dict[str, np.ndarray]:
        ref = self.settings.model_ref(model, version=version, label=label, signature=signature)
        body = {"signature_name": ref.signature, "examples": [to_json_example(r) for r in feature_rows(features)]}
        results = self._request("POST", model_path(ref) + ":classify", body, timeout)["results"]
        classes = np.array([[str(pair[0]) for pair in row] for row in results], dtype=object)
        scores = np.array([[pair[1] for pair in row] for row in results], dtype=np.float32)
        return {"classes": classes, "scores": scores}

    def regress(self, model: str, features: Features, *, version: int | None = None, label: str | None = None,
                signature: str | None = "regress", timeout: float | None = None) -> np.ndarray:
        ref = self.settings.model_ref(model, version=version, label=label, signature=signature)
        body = {"signature_name": ref.signature, "examples": [to_json_example(r) for r in feature_rows(features)]}
        results = self._request("POST", model_path(ref) + ":regress", body, timeout)["results"]
        return np.asarray(results, dtype=np.float32).reshape(-1)

    def metadata(self, model: str, *, version: int | None = None, label: str | None = None,
                 timeout: float | None = None) -> ModelMetadata:
        return self._metadata(self.settings.model_ref(model, version=version, label=label), timeout)

    def _metadata(self, ref: ModelRef, timeout: float | None) -> ModelMetadata:
        return ModelMetadata.from_json(self._request("GET", model_path(ref) + "/metadata", None, timeout))

    def status(self, model: str, *, version: int | None = None, timeout: float | None = None) -> list[VersionStatus]:
        ref = ModelRef(model, version=version)
        body = self._request("GET", model_path(ref), None, timeout)
        return [VersionStatus.from_json(s) for s in body.get("model_version_status", [])]

    # -- plumbing ----------------------------------------------------------------------------
    def _signature(self, ref: ModelRef, timeout: float | None) -> Signature:
        """Cached per model reference: REST answers carry no dtypes, the signature does."""
        with self._lock:
            sig = self._signatures.get(ref)
        if sig is None:
            meta = self._metadata(ref, timeout)
            if ref.signature not in meta.signatures:
                raise error_for_http(400, f"model {ref.name!r} has no signature {ref.signature!r}; "
                                     f"it has {sorted(meta.signatures)}", self.settings.target)
            sig = meta.signatures[ref.signature]
            with self._lock:
                self._signatures[ref] = sig
        return sig

    @staticmethod
    def _decode(value: Any, sig: Signature, name: str) -> np.ndarray:
        spec = sig.outputs.get(name)
        if spec is not None and spec.dtype == "DT_STRING":
            flat = [base64.b64decode(v["b64"]) if isinstance(v, dict) else str(v).encode() for v in np.ravel(value)]
            out = np.empty(len(flat), dtype=object)
            out[:] = flat
            return out.reshape(np.shape(value) if not isinstance(value, str) else ())
        return np.asarray(value, dtype=spec.numpy_dtype if spec is not None else None)

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            port = self._url.port
            if self._url.scheme == "https":
                cafile = str(self.settings.ca_cert) if self.settings.ca_cert else None
                context = ssl.create_default_context(cafile=cafile)
                if self.settings.client_cert:
                    context.load_cert_chain(self.settings.client_cert, self.settings.client_key)
                conn = http.client.HTTPSConnection(self._url.hostname, port or 443, timeout=timeout, context=context)
            else:
                conn = http.client.HTTPConnection(self._url.hostname, port or 80, timeout=timeout)
            self._local.conn = conn
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _request(self, method: str, path: str, body: Any, timeout: float | None) -> Any:
        deadline = time.monotonic() + (self.settings.timeout_seconds if timeout is None else timeout)
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        backoff = self.settings.retry_initial_backoff_seconds
        for attempt in range(1, self.settings.retry_attempts + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded(f"{method} {path} ran out of time after {attempt - 1} attempt(s)",
                                       target=self.settings.target)
            try:
                status, data = self._once(method, path, payload, headers, remaining)
            except TimeoutError as exc:
                self._drop_connection()
                raise DeadlineExceeded(f"{method} {path}: no answer in time", target=self.settings.target) from exc
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                self._drop_connection()
                error: ClientError = Unavailable(f"{method} {path}: {exc}", target=self.settings.target)
                error.__cause__ = exc
            else:
                if status == 200:
                    return json.loads(data)
                error = error_for_http(status, _error_message(data), self.settings.target)
                if status != 503:
                    raise error
            if attempt == self.settings.retry_attempts or time.monotonic() + backoff >= deadline:
                raise error
            log.debug("retrying %s %s after %s (attempt %d)", method, path, error.code, attempt)
            time.sleep(backoff)
            backoff = min(backoff * 2, self.settings.retry_max_backoff_seconds)
        raise AssertionError("unreachable")

    def _once(self, method: str, path: str, payload: bytes | None, headers: dict[str, str],
              timeout: float) -> tuple[int, bytes]:
        conn = self._connection(timeout)
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.will_close:
            self._drop_connection()
        return response.status, data

    def close(self) -> None:
        self._drop_connection()

    def __enter__(self) -> "RestClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _error_message(data: bytes) -> str:
    try:
        return str(json.loads(data)["error"])
    except (ValueError, KeyError, TypeError):
        return data[:500].decode(errors="replace")
