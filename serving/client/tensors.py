"""numpy arrays to and from ``tensorflow.TensorProto``, without TensorFlow.

Numeric arrays travel as ``tensor_content`` (the raw little-endian buffer, one copy), never as
per-element lists. Strings travel as ``string_val``, the only encoding TensorFlow accepts for
DT_STRING. Decoding accepts both ``tensor_content`` and the typed ``*_val`` fields, including
TensorFlow's "last value repeats" shorthand for constant tensors.

>>> import numpy as np
>>> proto = to_tensor_proto(np.array([[1.0, 2.0]], dtype=np.float32))
>>> proto.dtype, [d.size for d in proto.tensor_shape.dim], len(proto.tensor_content)
(1, [1, 2], 8)
>>> to_ndarray(proto).tolist()
[[1.0, 2.0]]
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from serving.client import protos
from serving.client.errors import InvalidInput

__all__ = ["to_tensor_proto", "to_ndarray", "numpy_dtype", "dtype_enum"]

_DT = protos.DataType
#: numpy dtype -> DataType, for the types TF Serving models take.
_TO_ENUM: dict[np.dtype, int] = {
    np.dtype("float32"): _DT["DT_FLOAT"], np.dtype("float64"): _DT["DT_DOUBLE"],
    np.dtype("int32"): _DT["DT_INT32"], np.dtype("uint8"): _DT["DT_UINT8"],
    np.dtype("int16"): _DT["DT_INT16"], np.dtype("int8"): _DT["DT_INT8"],
    np.dtype("int64"): _DT["DT_INT64"], np.dtype("bool"): _DT["DT_BOOL"],
    np.dtype("uint16"): _DT["DT_UINT16"], np.dtype("complex64"): _DT["DT_COMPLEX64"],
    np.dtype("complex128"): _DT["DT_COMPLEX128"], np.dtype("float16"): _DT["DT_HALF"],
    np.dtype("uint32"): _DT["DT_UINT32"], np.dtype("uint64"): _DT["DT_UINT64"],
}
_FROM_ENUM: dict[int, np.dtype] = {v: k for k, v in _TO_ENUM.items()}
_LITTLE = sys.byteorder == "little"
#: DataType -> the repeated field that carries it when tensor_content is empty.
_VAL_FIELD: dict[int, str] = {
    _DT["DT_FLOAT"]: "float_val", _DT["DT_DOUBLE"]: "double_val", _DT["DT_INT32"]: "int_val",
    _DT["DT_UINT8"]: "int_val", _DT["DT_INT16"]: "int_val", _DT["DT_INT8"]: "int_val",
    _DT["DT_UINT16"]: "int_val", _DT["DT_INT64"]: "int64_val", _DT["DT_BOOL"]: "bool_val",
    _DT["DT_HALF"]: "half_val", _DT["DT_UINT32"]: "uint32_val", _DT["DT_UINT64"]: "uint64_val",
    _DT["DT_COMPLEX64"]: "scomplex_val", _DT["DT_COMPLEX128"]: "dcomplex_val",
}


def dtype_enum(dtype: np.dtype) -> int:
    """The ``tensorflow.DataType`` number for a numpy dtype (strings map to DT_STRING)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OSU":
        return _DT["DT_STRING"]
    try:
        return _TO_ENUM[dtype.newbyteorder("=")]
    except KeyError:
        raise InvalidInput(f"numpy dtype {dtype} has no TensorFlow equivalent; "
                           f"cast to one of {sorted(str(d) for d in _TO_ENUM)}") from None


def numpy_dtype(enum: int) -> np.dtype:
    """The (native) numpy dtype for a ``tensorflow.DataType`` number."""
    if enum == _DT["DT_STRING"]:
        return np.dtype(object)
    try:
        return _FROM_ENUM[enum]
    except KeyError:
        raise InvalidInput(f"TensorProto dtype {enum} is not supported by the plantserve client") from None


def to_tensor_proto(value: Any, dtype: Any = None, proto: Any = None) -> Any:
    """Encode ``value`` (array-like) into ``proto`` (a new TensorProto when None) and return it.

    Python floats become float32 unless ``dtype`` says otherwise, matching what Keras models take.
    """
    array = np.asarray(value, dtype=dtype)
    if dtype is None and array.dtype == np.float64 and not isinstance(value, np.ndarray):
        array = array.astype(np.float32)
    proto = protos.TensorProto() if proto is None else proto
    proto.dtype = dtype_enum(array.dtype)
    dims = proto.tensor_shape.dim
    for size in array.shape:
        dims.add(size=size)
    if proto.dtype == _DT["DT_STRING"]:
        proto.string_val.extend(_to_bytes(v) for v in array.reshape(-1))
    else:
        # A no-op for native little-endian arrays; swaps bytes for big-endian ones.
        proto.tensor_content = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    return proto


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise InvalidInput(f"string tensors take bytes or str elements, got {type(value).__name__}")


def to_ndarray(proto: Any) -> np.ndarray:
    """Decode a TensorProto into a numpy array (bytes objects for DT_STRING)."""
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    size = int(np.prod(shape, dtype=np.int64))
    if proto.dtype == _DT["DT_STRING"]:
        values = list(proto.string_val)
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return _fill(array, shape, size)
    dtype = numpy_dtype(proto.dtype)
    if proto.tensor_content:
        wire = dtype if _LITTLE else dtype.newbyteorder("<")
        return np.frombuffer(proto.tensor_content, dtype=wire).reshape(shape)
    field = _VAL_FIELD[proto.dtype]
    raw = getattr(proto, field)
    if proto.dtype == _DT["DT_HALF"]:
        values = np.asarray(raw, dtype=np.uint16).view(np.float16)
    elif field in ("scomplex_val", "dcomplex_val"):
        pairs = np.asarray(raw, dtype=np.float32 if field == "scomplex_val" else np.float64)
        values = pairs[0::2] + 1j * pairs[1::2]
    else:
        values = np.asarray(raw)
    return _fill(values.astype(dtype, copy=False), shape, size)


def _fill(values: np.ndarray, shape: tuple[int, ...], size: int) -> np.ndarray:
    """TensorFlow lets a typed list be shorter than the shape: the last value repeats."""
    if values.size == size:
        return values.reshape(shape)
    if values.size == 0 or values.size > size:
        raise InvalidInput(f"TensorProto holds {values.size} values for shape {list(shape)}")
    full = np.empty(size, dtype=values.dtype)
    full[: values.size] = values
    full[values.size:] = values[-1]
    return full.reshape(shape)
