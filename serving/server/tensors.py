"""``TensorProto`` ↔ numpy without ``tf.make_ndarray``/``tf.make_tensor_proto`` on the hot path.

Parsing follows ``Tensor::FromProto``: ``tensor_content`` must hold exactly the shape's bytes; in the
typed ``*_val`` fields, fewer values than elements repeat the last one, none means zeros, and more is an
error. Outputs go into the typed fields as TF Serving does by default (``kAsProtoField``), or into
``tensor_content`` with ``--enable_serialization_as_tensor_content``.

>>> p = to_proto(np.array([[1.5, 2.0]], np.float32))
>>> from_proto(p).tolist(), list(p.float_val)
([[1.5, 2.0]], [1.5, 2.0])
"""
from __future__ import annotations

import math

import numpy as np
from tensorflow.core.framework import tensor_pb2, types_pb2

__all__ = ["TensorParseError", "from_proto", "to_proto", "NUMPY_DTYPES", "dtype_name"]


class TensorParseError(ValueError):
    """The proto does not describe a valid tensor."""


# dtype enum -> (numpy dtype, typed field name)
_SPECS: dict[int, tuple[np.dtype, str]] = {
    types_pb2.DT_FLOAT: (np.dtype(np.float32), "float_val"),
    types_pb2.DT_DOUBLE: (np.dtype(np.float64), "double_val"),
    types_pb2.DT_INT32: (np.dtype(np.int32), "int_val"),
    types_pb2.DT_UINT8: (np.dtype(np.uint8), "int_val"),
    types_pb2.DT_INT16: (np.dtype(np.int16), "int_val"),
    types_pb2.DT_INT8: (np.dtype(np.int8), "int_val"),
    types_pb2.DT_UINT16: (np.dtype(np.uint16), "int_val"),
    types_pb2.DT_INT64: (np.dtype(np.int64), "int64_val"),
    types_pb2.DT_BOOL: (np.dtype(np.bool_), "bool_val"),
    types_pb2.DT_HALF: (np.dtype(np.float16), "half_val"),
    types_pb2.DT_UINT32: (np.dtype(np.uint32), "uint32_val"),
    types_pb2.DT_UINT64: (np.dtype(np.uint64), "uint64_val"),
    types_pb2.DT_STRING: (np.dtype(object), "string_val"),
}
NUMPY_DTYPES = {enum: spec[0] for enum, spec in _SPECS.items()}
_FROM_NUMPY = {spec[0]: enum for enum, spec in _SPECS.items() if enum != types_pb2.DT_STRING}
_MAX_ELEMENTS = 2**31


def dtype_name(enum: int) -> str:
    try:
        return types_pb2.DataType.Name(enum)
    except ValueError:
        return f"DT_UNKNOWN({enum})"


def _shape(proto: tensor_pb2.TensorProto) -> tuple[int, ...]:
    shape = proto.tensor_shape
    if shape.unknown_rank:
        raise TensorParseError("unknown rank")
    dims = tuple(d.size for d in shape.dim)
    if any(d < 0 for d in dims):
        raise TensorParseError("negative dimension")
    if math.prod(dims) > _MAX_ELEMENTS:
        raise TensorParseError("too many elements")
    return dims


def from_proto(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """Raises ``TensorParseError`` when the proto is not a valid tensor."""
    spec = _SPECS.get(proto.dtype)
    if spec is None:
        raise TensorParseError(f"unsupported dtype {dtype_name(proto.dtype)}")
    np_dtype, field = spec
    dims = _shape(proto)
    count = math.prod(dims)
    if proto.tensor_content and proto.dtype != types_pb2.DT_STRING:
        content = proto.tensor_content
        if len(content) != count * np_dtype.itemsize:
            raise TensorParseError("tensor_content size does not match the shape")
        return np.frombuffer(content, dtype=np_dtype).reshape(dims)
    values = getattr(proto, field)
    n = len(values)
    if n > count:
        raise TensorParseError("more values than the shape holds")
    if proto.dtype == types_pb2.DT_STRING:
        out = np.empty(count, dtype=object)
        if n:
            out[:n] = list(values)
            out[n:] = values[-1]
        else:
            out[:] = b""
        return out.reshape(dims)
    if proto.dtype == types_pb2.DT_HALF:
        arr = np.array(values, dtype=np.uint16).view(np.float16)
    else:
        try:
            arr = np.fromiter(values, dtype=np_dtype, count=n)
        except OverflowError as exc:
            raise TensorParseError(str(exc)) from exc
    if n == count:
        return arr.reshape(dims)
    full = np.zeros(count, dtype=np_dtype)
    if n:
        full[:n] = arr
        full[n:] = arr[-1]
    return full.reshape(dims)


def to_proto(array: np.ndarray, as_content: bool = False) -> tensor_pb2.TensorProto:
    arr = np.asarray(array)
    proto = tensor_pb2.TensorProto()
    dims = proto.tensor_shape.dim
    for d in arr.shape:
        dims.add(size=d)
    if arr.dtype.kind in ("O", "S", "U"):
        proto.dtype = types_pb2.DT_STRING
        proto.string_val.extend(v if isinstance(v, bytes) else str(v).encode() for v in arr.ravel())
        return proto
    enum = _FROM_NUMPY.get(arr.dtype)
    if enum is None:
        raise TypeError(f"cannot serialize numpy dtype {arr.dtype}")
    proto.dtype = enum
    if as_content:
        proto.tensor_content = np.ascontiguousarray(arr).tobytes()
    elif enum == types_pb2.DT_HALF:
        proto.half_val.extend(arr.ravel().view(np.uint16).tolist())
    else:
        getattr(proto, _SPECS[enum][1]).extend(arr.ravel().tolist())
    return proto
