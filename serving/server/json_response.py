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

__all__ = ["predict_response_json", "classify_response_json", "regress_response_json", "error_json", "float_text"]


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


def _tensor_text(arr: np.ndarray, write) -> str:
    if arr.ndim == 0:
        return write(arr.item() if arr.dtype.kind != "O" else arr[()])
    if arr.ndim == 1:
        return "[" + ", ".join(write(v) for v in (arr.tolist() if arr.dtype.kind != "O" else arr)) + "]"
    return "[" + ", ".join(_tensor_text(sub, write) for sub in arr) + "]"


def predict_response_json(outputs: dict[str, np.ndarray], fmt: str) -> str:
    if not outputs:
        raise _bad("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    writers = {n: _scalar_writer(outputs[n], n.endswith("_bytes") and outputs[n].dtype.kind == "O") for n in names}
    many = len(names) > 1
    if fmt == "columnar":
        if many:
            body = ", ".join(f"{json.dumps(n)}: {_tensor_text(outputs[n], writers[n])}" for n in names)
            return '{\n    "outputs": {' + body + "}\n}"
        return '{\n    "outputs": ' + _tensor_text(outputs[names[0]], writers[names[0]]) + "\n}"
    batch = -1
    for n in names:
        arr = outputs[n]
        if arr.ndim == 0:
            raise _bad(f"Tensor name: {n} has no shape information ")
        if batch >= 0 and arr.shape[0] != batch:
            raise _bad(f"Tensor name: {n} has inconsistent batch size: {arr.shape[0]} expecting: {batch}")
        batch = arr.shape[0]
    rows = []
    for i in range(batch):
        if many:
            rows.append("{" + ", ".join(f"{json.dumps(n)}: {_tensor_text(outputs[n][i], writers[n])}" for n in names) + "}")
        else:
            rows.append(_tensor_text(outputs[names[0]][i], writers[names[0]]))
    return '{\n    "predictions": [' + ",\n        ".join(rows) + "\n    ]\n}"


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
