"""The ``tensorflow.DataType`` numbers the codec handles, and for each its numpy dtype and the
``TensorProto`` field that carries it (the full enum is :data:`serving.protocol.framework.DATA_TYPES`).

bfloat16 is numpy's ``ml_dtypes.bfloat16``, imported only when a bfloat16 tensor is seen.

>>> numpy_dtype(DT_HALF), dtype_enum(np.dtype("uint16")), dtype_name(DT_STRING)
(dtype('float16'), 17, 'DT_STRING')
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np

from serving.protocol.framework import DATA_TYPES

__all__ = ["DATA_TYPES", "DtypeSpec", "SPECS", "spec_for", "numpy_dtype", "dtype_enum", "dtype_name",
           "DT_INVALID", "DT_FLOAT", "DT_DOUBLE", "DT_INT32", "DT_UINT8", "DT_INT16", "DT_INT8", "DT_STRING",
           "DT_COMPLEX64", "DT_INT64", "DT_BOOL", "DT_BFLOAT16", "DT_UINT16", "DT_COMPLEX128", "DT_HALF",
           "DT_RESOURCE", "DT_VARIANT", "DT_UINT32", "DT_UINT64"]

DT_INVALID, DT_FLOAT, DT_DOUBLE, DT_INT32, DT_UINT8, DT_INT16, DT_INT8, DT_STRING = 0, 1, 2, 3, 4, 5, 6, 7
DT_COMPLEX64, DT_INT64, DT_BOOL, DT_BFLOAT16, DT_UINT16, DT_COMPLEX128, DT_HALF = 8, 9, 10, 14, 17, 18, 19
DT_RESOURCE, DT_VARIANT, DT_UINT32, DT_UINT64 = 20, 21, 22, 23

_NAMES = {v: k for k, v in DATA_TYPES.items()}


@dataclasses.dataclass(frozen=True)
class DtypeSpec:
    """How one DataType travels: ``field`` holds it when ``tensor_content`` is empty; ``per_value``
    numbers per element in that field (2 for complex); ``bits16``: held as uint16 bit patterns."""

    enum: int
    numpy: str
    field: str
    per_value: int = 1
    bits16: bool = False


SPECS: dict[int, DtypeSpec] = {s.enum: s for s in (
    DtypeSpec(DT_FLOAT, "float32", "float_val"),
    DtypeSpec(DT_DOUBLE, "float64", "double_val"),
    DtypeSpec(DT_INT32, "int32", "int_val"),
    DtypeSpec(DT_UINT8, "uint8", "int_val"),
    DtypeSpec(DT_INT16, "int16", "int_val"),
    DtypeSpec(DT_INT8, "int8", "int_val"),
    DtypeSpec(DT_UINT16, "uint16", "int_val"),
    DtypeSpec(DT_INT64, "int64", "int64_val"),
    DtypeSpec(DT_UINT32, "uint32", "uint32_val"),
    DtypeSpec(DT_UINT64, "uint64", "uint64_val"),
    DtypeSpec(DT_BOOL, "bool", "bool_val"),
    DtypeSpec(DT_HALF, "float16", "half_val", bits16=True),
    DtypeSpec(DT_BFLOAT16, "bfloat16", "half_val", bits16=True),
    DtypeSpec(DT_COMPLEX64, "complex64", "scomplex_val", per_value=2),
    DtypeSpec(DT_COMPLEX128, "complex128", "dcomplex_val", per_value=2),
    DtypeSpec(DT_STRING, "object", "string_val"),
)}


def dtype_name(enum: int) -> str:
    """``DT_FLOAT`` for 1; ``DT_UNKNOWN(99)`` for a number TensorFlow does not define."""
    return _NAMES.get(enum, f"DT_UNKNOWN({enum})")


def spec_for(enum: int) -> DtypeSpec | None:
    return SPECS.get(enum)


@functools.lru_cache(maxsize=None)
def _bfloat16() -> np.dtype:
    import ml_dtypes

    return np.dtype(ml_dtypes.bfloat16)


@functools.lru_cache(maxsize=None)
def numpy_dtype(enum: int) -> np.dtype:
    """The native numpy dtype of a supported DataType (``object`` for DT_STRING); KeyError otherwise."""
    spec = SPECS[enum]
    return _bfloat16() if enum == DT_BFLOAT16 else np.dtype(spec.numpy)


_BY_NUMPY: dict[str, int] = {s.numpy: s.enum for s in SPECS.values() if s.enum != DT_STRING}


def dtype_enum(dtype: np.dtype) -> int:
    """The DataType of a numpy dtype: strings (``O``, ``S``, ``U``, ``T``) are DT_STRING. KeyError when
    TensorFlow has no equivalent (datetime64, void...). Byte order does not matter."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OSUT":
        return DT_STRING
    return _BY_NUMPY[dtype.name]
