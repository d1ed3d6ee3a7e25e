"""numpy <-> TensorProto for the dtypes plantserve models use, without calling TensorFlow ops.

Example::

    >>> import numpy as np
    >>> to_ndarray(to_tensor_proto(np.array([[1.5, 2.0]], np.float32))).tolist()
    [[1.5, 2.0]]
"""
from __future__ import annotations

from typing import Any

import numpy as np
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

__all__ = ["to_tensor_proto", "to_ndarray", "as_array", "DTYPES"]

#: TF dtype name -> (enum, numpy dtype, TensorProto repeated field used when tensor_content is empty)
DTYPES: dict[str, tuple[int, Any, str]] = {
    "DT_FLOAT": (types_pb2.DT_FLOAT, np.float32, "float_val"),
    "DT_DOUBLE": (types_pb2.DT_DOUBLE, np.float64, "double_val"),
    "DT_INT32": (types_pb2.DT_INT32, np.int32, "int_val"),
    "DT_INT64": (types_pb2.DT_INT64, np.int64, "int64_val"),
    "DT_BOOL": (types_pb2.DT_BOOL, np.bool_, "bool_val"),
}
_BY_ENUM = {enum: (name, np_type, field) for name, (enum, np_type, field) in DTYPES.items()}
_BY_NUMPY = {np.dtype(np_type): enum for enum, np_type, _ in DTYPES.values()}


def as_array(value: Any, dtype: str) -> np.ndarray:
    """A nested list (from a manifest's golden samples) as an array of a TF dtype name."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype} is not supported by the sidecar's golden replay")
    return np.asarray(value, dtype=DTYPES[dtype][1])


def to_tensor_proto(array: np.ndarray) -> tensor_pb2.TensorProto:
    array = np.ascontiguousarray(array)
    enum = _BY_NUMPY.get(array.dtype)
    if enum is None:
        raise ValueError(f"numpy dtype {array.dtype} has no TensorProto mapping here")
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in array.shape])
    return tensor_pb2.TensorProto(dtype=enum, tensor_shape=shape, tensor_content=array.tobytes())


def to_ndarray(proto: tensor_pb2.TensorProto) -> np.ndarray:
    if proto.dtype not in _BY_ENUM:
        raise ValueError(f"TensorProto dtype {proto.dtype} is not supported by the sidecar")
    _name, np_type, field = _BY_ENUM[proto.dtype]
    shape = [d.size for d in proto.tensor_shape.dim]
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=np_type).reshape(shape)
    values = np.asarray(list(getattr(proto, field)), dtype=np_type)
    count = int(np.prod(shape)) if shape else 1
    if values.size == 1 and count != 1:  # TF's compact form: one value repeated
        values = np.full(count, values[0], dtype=np_type)
    return values.reshape(shape)
