"""REST response JSON, written the way TF Serving writes it (``util/json_tensor.cc``).

``predictions`` (row requests) or ``outputs`` (columnar), ``results`` for classify and regress,
``{ "error": ... }`` for errors. Floats get six significant digits unless that does not round-trip,
``.0`` on whole numbers, and ``NaN``/``Infinity``; string outputs named ``*_bytes`` are base64 objects.

>>> predict_response_json({"y": np.array([0.2, 3.0], np.float32)}, "columnar")
'{\\n    "outputs": [0.2, 3.0]\\n}'
"""
from __future__ import annotations

import base64
import json
import math

import numpy as np

from serving.server.status import Code, ServingError

__all__ = ["predict_response_json", "predict_response_chunks", "classify_response_json", "regress_response_json",
           "error_json", "float_text"]

_CHUNK_BYTES = 1 << 16
_SLICE = 4096


def _bad(message: str) -> ServingError:
    return ServingError(Code.INVALID_ARGUMENT, message)


def float_text(v: float, single: bool) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "-Infinity" if v < 0 else "Infinity"
    text = "%.6g" % v
    roundtrip = float(np.float32(text)) if single else float(text)
    if roundtrip != v:
        text = ("%.9g" if single else "%.17g") % v
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def _scalar_writer(arr: np.ndarray, as_b64: bool):
    kind = arr.dtype.kind
    if kind == "f":
        single = arr.dtype != np.float64
        return lambda v: float_text(float(v), single)
    if kind == "b":
        return lambda v: "true" if v else "false"
    if kind in "iu":
        return lambda v: str(int(v))
    if as_b64:
        return lambda v: '{"b64": "' + base64.b64encode(v).decode() + '"}'
    return lambda v: json.dumps(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))


class _Chunks:
    """Text written in pieces and kept as UTF-8 chunks of about 64 KiB: a large answer is never one
    Python string per value, nor one joined copy."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self._parts: list[str] = []
        self._size = 0

    def add(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= _CHUNK_BYTES:
            self.flush()

    def flush(self) -> list[bytes]:
        if self._parts:
            self.chunks.append("".join(self._parts).encode("utf-8"))
            self._parts.clear()
            self._size = 0
        return self.chunks


def _values(arr: np.ndarray, write, separator: str, out: _Chunks) -> None:
    """The values of a 1-D array, ``separator`` between them, a slice at a time."""
    for start in range(0, len(arr), _SLICE):
        part = arr[start:start + _SLICE]
        text = separator.join(write(v) for v in (part.tolist() if part.dtype.kind != "O" else part))
        out.add(text if start == 0 else separator + text)


def _tensor(arr: np.ndarray, write, out: _Chunks) -> None:
    if arr.ndim == 0:
        out.add(write(arr.item() if arr.dtype.kind != "O" else arr[()]))
    elif arr.ndim == 1:
        out.add("[")
        _values(arr, write, ", ", out)
        out.add("]")
    else:
        out.add("[")
        for i, sub in enumerate(arr):
            if i:
                out.add(", ")
            _tensor(sub, write, out)
        out.add("]")


def _tensor_text(arr: np.ndarray, write) -> str:
    out = _Chunks()
    _tensor(arr, write, out)
    return b"".join(out.flush()).decode("utf-8")


def predict_response_chunks(outputs: dict[str, np.ndarray], fmt: str) -> list[bytes]:
    """The answer to a row (``predictions``) or columnar (``outputs``) request, as UTF-8 chunks."""
    if not outputs:
        raise _bad("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    writers = {n: _scalar_writer(outputs[n], n.endswith("_bytes") and outputs[n].dtype.kind == "O") for n in names}
    many = len(names) > 1
    out = _Chunks()
    if fmt == "columnar":
        if many:
            out.add('{\n    "outputs": {')
            for i, n in enumerate(names):
                out.add(("" if i == 0 else ", ") + json.dumps(n) + ": ")
                _tensor(outputs[n], writers[n], out)
            out.add("}\n}")
        else:
            out.add('{\n    "outputs": ')
            _tensor(outputs[names[0]], writers[names[0]], out)
            out.add("\n}")
        return out.flush()
    batch = -1
    for n in names:
        arr = outputs[n]
        if arr.ndim == 0:
            raise _bad(f"Tensor name: {n} has no shape information ")
        if batch >= 0 and arr.shape[0] != batch:
            raise _bad(f"Tensor name: {n} has inconsistent batch size: {arr.shape[0]} expecting: {batch}")
        batch = arr.shape[0]
    out.add('{\n    "predictions": [')
    only = outputs[names[0]]
    if not many and only.ndim == 1:
        _values(only, writers[names[0]], ",\n        ", out)
    else:
        for i in range(batch):
            if i:
                out.add(",\n        ")
            if many:
                out.add("{")
                for j, n in enumerate(names):
                    out.add(("" if j == 0 else ", ") + json.dumps(n) + ": ")
                    _tensor(outputs[n][i], writers[n], out)
                out.add("}")
            else:
                _tensor(only[i], writers[names[0]], out)
    out.add("\n    ]\n}")
    return out.flush()


def predict_response_json(outputs: dict[str, np.ndarray], fmt: str) -> str:
    return b"".join(predict_response_chunks(outputs, fmt)).decode("utf-8")


def classify_response_json(result) -> str:
    if not result.classifications:
        raise _bad("Cannot convert empty ClassificationResults to JSON")
    rows = []
    for c in result.classifications:
        rows.append("[" + ", ".join(f"[{json.dumps(x.label)}, {float_text(x.score, True)}]" for x in c.classes) + "]")
    return '{\n    "results": [' + ",\n        ".join(rows) + "\n    ]\n}"


def regress_response_json(result) -> str:
    if not result.regressions:
        raise _bad("Cannot convert empty RegressionResults to JSON")
    return '{\n    "results": [' + ", ".join(float_text(r.value, True) for r in result.regressions) + "]\n}"


def error_json(message: str) -> str:
    return '{ "error": ' + json.dumps(message) + " }"
