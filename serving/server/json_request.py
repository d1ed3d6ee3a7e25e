"""REST request JSON → tensors and Examples, with TF Serving's rules and messages (``util/json_tensor.cc``).

- ``instances`` (row) or ``inputs`` (columnar), ``{"b64": ...}`` for binary strings, NaN and Infinity
  accepted, lossless-number checks per dtype;
- ``examples`` and ``context`` for classify and regress.

>>> parse_request(b'{"instances": [1.0, 2.5]}')["instances"]
[1.0, 2.5]
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any

import numpy as np

from serving.protocol import dtypes
from serving.protocol import messages
from serving.server.status import Code, ServingError

__all__ = ["parse_request", "signature_name", "tensors_from_json", "examples_input", "is_b64"]

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_UINT32 = (0, 2**32 - 1)
_UINT64 = (0, 2**64 - 1)
_DTYPE_STR = {dtypes.DT_FLOAT: "float", dtypes.DT_DOUBLE: "double", dtypes.DT_INT32: "int32",
              dtypes.DT_UINT8: "uint8", dtypes.DT_INT16: "int16", dtypes.DT_INT8: "int8",
              dtypes.DT_STRING: "string", dtypes.DT_INT64: "int64", dtypes.DT_BOOL: "bool",
              dtypes.DT_UINT32: "uint32", dtypes.DT_UINT64: "uint64", dtypes.DT_HALF: "half",
              dtypes.DT_UINT16: "uint16"}
_B64 = re.compile(rb"^[A-Za-z0-9+/]*={0,2}$")


def _bad(message: str) -> ServingError:
    return ServingError(Code.INVALID_ARGUMENT, message)


def _dump(val: Any) -> str:
    """``JsonValueToString``: the value as JSON, for error messages."""
    try:
        return json.dumps(val, indent=4, allow_nan=True)
    except (TypeError, ValueError):
        return repr(val)


def _type(val: Any) -> str:
    if val is None:
        return "Null"
    if val is True:
        return "True"
    if val is False:
        return "False"
    if isinstance(val, dict):
        return "Object"
    if isinstance(val, list):
        return "Array"
    if isinstance(val, str):
        return "String"
    return "Number"


def parse_request(body: bytes) -> dict:
    if not body:
        raise _bad("JSON Parse error: The document is empty")
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as exc:
        raise _bad(f"JSON Parse error: {exc.msg} at offset: {exc.pos}") from exc
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise _bad(f"JSON Parse error: Invalid encoding in string. at offset: 0 ({exc.__class__.__name__})") from exc
    if not isinstance(doc, dict):
        raise _bad(f"JSON Value: {_dump(doc)} Is not object")
    return doc


def signature_name(doc: dict) -> str:
    name = doc.get("signature_name", "")
    if not isinstance(name, str):
        raise _bad(f"JSON Value: {_dump(doc)} not formatted correctly. 'signature_name' key must be a string value.")
    return name


def is_b64(val: Any) -> bool:
    return isinstance(val, dict) and len(val) == 1 and isinstance(val.get("b64"), str)


def _b64decode(val: Any) -> bytes:
    if not is_b64(val):
        raise _bad(f"JSON Value: {_dump(val)} not formatted correctly for base64 data")
    raw = val["b64"].encode("ascii", "replace").strip()
    raw = raw + b"=" * (-len(raw.rstrip(b"=")) % 4) if b"=" not in raw else raw
    try:
        if not _B64.match(raw) or len(raw) % 4:
            raise binascii.Error("bad base64")
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad("Unable to base64 decode") from exc


def _value(val: Any, dtype: int) -> Any:
    """``AddValueToTensor`` for one scalar."""
    is_num = isinstance(val, (int, float)) and not isinstance(val, bool)
    if dtype in (dtypes.DT_FLOAT, dtypes.DT_DOUBLE):
        if not is_num:
            raise _type_error(val, dtype)
        limit_bits = 24 if dtype == dtypes.DT_FLOAT else 53
        target = "float" if dtype == dtypes.DT_FLOAT else "double"
        if isinstance(val, int) and not (_INT64[0] <= val <= _UINT64[1]):
            val = float(val)
        if isinstance(val, int):
            if abs(val) > 2**limit_bits - 1:
                raise _bad(f"Cannot convert JSON value: {_dump(val)} to {target} without loss of precision.")
        elif math.isfinite(val) and dtype == dtypes.DT_FLOAT and abs(val) > 3.4028234663852886e38:
            raise _bad(f"Cannot convert JSON value: {_dump(val)} to {target} without loss of precision.")
        return val
    bounds = {dtypes.DT_INT32: _INT32, dtypes.DT_INT16: _INT32, dtypes.DT_INT8: _INT32,
              dtypes.DT_UINT8: _INT32, dtypes.DT_INT64: _INT64, dtypes.DT_UINT32: _UINT32,
              dtypes.DT_UINT64: _UINT64}.get(dtype)
    if bounds is not None:
        if not (isinstance(val, int) and not isinstance(val, bool) and bounds[0] <= val <= bounds[1]):
            raise _type_error(val, dtype)
        return val
    if dtype == dtypes.DT_BOOL:
        if not isinstance(val, bool):
            raise _type_error(val, dtype)
        return val
    if dtype == dtypes.DT_STRING:
        if isinstance(val, dict):
            return _b64decode(val)
        if not isinstance(val, str):
            raise _type_error(val, dtype)
        return val.encode("utf-8", "surrogatepass")
    raise ServingError(Code.UNIMPLEMENTED, f"Conversion of JSON Value: {_dump(val)} to type: {_DTYPE_STR.get(dtype, dtype)}")


def _type_error(val: Any, dtype: int) -> ServingError:
    return _bad(f"JSON Value: {_dump(val)} Type: {_type(val)} is not of expected type: {_DTYPE_STR.get(dtype, str(dtype))}")


def _dense_shape(val: Any) -> list[int]:
    shape = []
    while isinstance(val, list):
        shape.append(len(val))
        if not val:
            break
        val = val[0]
    return shape


def _fill(val: Any, level: int, shape: list[int], dtype: int, out: list) -> None:
    """``FillTensorProto``."""
    rank = len(shape)
    if not isinstance(val, list):
        if level != rank:
            raise _bad(f"JSON Value: {_dump(val)} found at incorrect level: {level + 1} in the JSON DOM. "
                       f"Expected at level: {rank}")
        if isinstance(val, dict) and dtype != dtypes.DT_STRING:
            raise _type_error(val, dtype)
        out.append(_value(val, dtype))
        return
    if level >= rank:
        raise _bad(f"Encountered list at unexpected level: {level} expected < {rank}")
    if len(val) != shape[level]:
        raise _bad(f"Encountered list at unexpected size: {len(val)} at level: {level} expected size: {shape[level]}")
    for item in val:
        _fill(item, level + 1, shape, dtype, out)


def _to_array(values: list, shape: list[int], dtype: int) -> np.ndarray:
    np_dtype = dtypes.numpy_dtype(dtype) if dtype in dtypes.SPECS else np.dtype(object)
    if np_dtype == np.dtype(object):
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return arr.reshape(shape)
    return np.array(values, dtype=np_dtype).reshape(shape)


def _item(val: Any, dtype: int) -> tuple[list, list[int]]:
    shape = _dense_shape(val)
    out: list = []
    _fill(val, 0, shape, dtype, out)
    return out, shape


def tensors_from_json(doc: dict, input_info: dict[str, int]) -> tuple[str, dict[str, np.ndarray]]:
    """``instances``/``inputs`` → (format, arrays). ``input_info`` maps input alias → dtype enum."""
    if "instances" in doc and "inputs" in doc:
        raise _bad(f"JSON Value: {_dump(doc)} Not formatted correctly expecting only one of 'inputs' or "
                   "'instances' keys to exist ")
    if "instances" in doc:
        instances = doc["instances"]
        if not isinstance(instances, list):
            raise _bad(f"JSON Value: {_dump(doc)} Expecting 'instances' to be an list/array")
        if not instances:
            raise _bad(f"JSON Value: {_dump(doc)} No values in 'instances' array")
        return "row", _from_instances(instances, input_info)
    if "inputs" in doc:
        return "columnar", _from_inputs(doc["inputs"], input_info)
    raise _bad("Missing 'inputs' or 'instances' key")


def _from_instances(instances: list, info: dict[str, int]) -> dict[str, np.ndarray]:
    first = instances[0]
    if (not isinstance(first, dict)) and len(info) > 1:
        raise _bad("instances is a plain list, but expecting list of objects as multiple input tensors required "
                   "as per tensorinfo_map")
    objects = isinstance(first, dict) and not is_b64(first)
    names = sorted(info)
    values: dict[str, list] = {n: [] for n in names}
    shapes: dict[str, list[int]] = {}
    sizes: dict[str, int] = {}

    def add(name: str, item: Any) -> None:
        if name not in info:
            raise _bad(f"JSON object: does not have named input: {name}")
        vals, shape = _item(item, info[name])
        if name not in sizes:
            sizes[name], shapes[name] = len(vals), shape
        elif sizes[name] != len(vals):
            raise _bad(f"Expecting tensor size: {sizes[name]} but got: {len(vals)}")
        elif shapes[name] != shape:
            raise _bad(f"Expecting shape [{','.join(map(str, shapes[name]))}] but got: [{','.join(map(str, shape))}]")
        values[name].extend(vals)

    for i, elem in enumerate(instances):
        if objects:
            if not (isinstance(elem, dict) and not is_b64(elem)):
                raise _bad(f"Expecting object but got list at item {i} of input list")
            for key, item in elem.items():
                try:
                    add(key, item)
                except ServingError as exc:
                    raise _bad(f"Failed to process element: {i} key: {key} of 'instances' list. "
                               f"Error: {exc.code.name}: {exc.message}") from exc
            if set(elem) != set(names):
                raise _bad(f"Failed to process element: {i} of 'instances' list. JSON object: {_dump(elem)} keys "
                           f"must be equal to: {','.join(names)}")
        else:
            if isinstance(elem, dict) and not is_b64(elem):
                raise _bad(f"Expecting value/list but got object at item {i} of input list")
            try:
                add(names[0], elem)
            except ServingError as exc:
                raise _bad(f"Failed to process element: {i} of 'instances' list. "
                           f"Error: {exc.code.name}: {exc.message}") from exc
    return {n: _to_array(values[n], [len(instances)] + shapes[n], info[n]) for n in names if n in shapes}


def _from_inputs(val: Any, info: dict[str, int]) -> dict[str, np.ndarray]:
    if not isinstance(val, dict) or is_b64(val):
        if len(info) > 1:
            raise _bad("inputs is a plain value/list, but expecting an object as multiple input tensors required "
                       "as per tensorinfo_map")
        name = next(iter(info))
        vals, shape = _item(val, info[name])
        return {name: _to_array(vals, shape, info[name])}
    out = {}
    for name in sorted(info):
        if name not in val:
            raise _bad(f"Missing named input: {name} in 'inputs' object.")
        vals, shape = _item(val[name], info[name])
        out[name] = _to_array(vals, shape, info[name])
    return out


# ----- classify / regress requests ---------------------------------------------------------------
def _feature_add(feature: Any, name: str, val: Any) -> None:
    kind = feature.WhichOneof("kind")

    def need(expected: str) -> None:
        if kind is not None and kind != expected:
            label = {"bytes_list": "bytes", "float_list": "float", "int64_list": "int64"}[kind]
            raise _bad(f"Unexpected element type in feature: {name} expecting type: {label}")

    if val is None or isinstance(val, list) or (isinstance(val, dict) and not is_b64(val)):
        raise _bad(f"Feature: {name} has element with unexpected JSON type: {_type(val)}")
    if isinstance(val, bool):
        need("int64_list")
        feature.int64_list.value.append(1 if val else 0)
    elif isinstance(val, dict):
        need("bytes_list")
        feature.bytes_list.value.append(_b64decode(val))
    elif isinstance(val, str):
        need("bytes_list")
        feature.bytes_list.value.append(val.encode("utf-8", "surrogatepass"))
    elif isinstance(val, float) or (isinstance(val, int) and not (_INT64[0] <= val <= _UINT64[1])):
        need("float_list")
        v = float(val)
        if math.isfinite(v) and abs(v) > 3.4028234663852886e38:
            raise _bad(f"Cannot convert JSON value: {_dump(val)} to float without loss of precision.")
        feature.float_list.value.append(v)
    else:
        need("int64_list")
        if val > _INT64[1]:
            raise _bad(f"Feature: {name} has uint64 element. Only int64 is supported.")
        feature.int64_list.value.append(val)


def _example(val: Any, out: Any) -> None:
    if not isinstance(val, dict):
        raise _bad(f"Example must be JSON object but got JSON {_type(val)}")
    for name, content in val.items():
        feature = messages.Feature()
        for item in (content if isinstance(content, list) else [content]):
            _feature_add(feature, name, item)
        out.features.feature[name].CopyFrom(feature)


def examples_input(doc: dict, input_proto) -> None:
    """``FillClassifyRegressRequestFromJson``: ``context`` and ``examples`` into an ``Input``."""
    has_context = "context" in doc
    if has_context:
        _example(doc["context"], input_proto.example_list_with_context.context)
    if "examples" not in doc:
        raise _bad(f"JSON Value: {_dump(doc)} When method is classify, key 'examples' is expected and was not found")
    examples = doc["examples"]
    if not isinstance(examples, list):
        raise _bad(f"JSON Value: {_dump(doc)} Expecting 'examples' value to be an list/array")
    if not examples:
        raise _bad(f"JSON Value: {_dump(doc)} 'examples' value is an empty array")
    for val in examples:
        target = (input_proto.example_list_with_context.examples.add() if has_context
                  else input_proto.example_list.examples.add())
        _example(val, target)
