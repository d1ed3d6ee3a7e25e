"""numpy <-> TensorProto, checked against hand-built protos and with hypothesis round trips."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from serving.client import InvalidInput, protos
from serving.client.tensors import to_ndarray, to_tensor_proto

DTYPES = ["float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool",
          "float16", "complex64", "complex128"]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(DTYPES).flatmap(lambda d: hnp.arrays(d, hnp.array_shapes(min_dims=0, max_dims=4,
                                                                                    min_side=0, max_side=5))))
def test_round_trip_is_exact(array):
    proto = protos.TensorProto.FromString(to_tensor_proto(array).SerializeToString())
    back = to_ndarray(proto)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_numeric_tensors_use_tensor_content_only():
    proto = to_tensor_proto(np.ones((2, 3), np.int64))
    assert len(proto.tensor_content) == 48 and not proto.int64_val and proto.dtype == protos.DataType["DT_INT64"]


def test_strings_use_string_val():
    proto = to_tensor_proto(np.array([["a", b"b"]], dtype=object))
    assert proto.dtype == protos.DataType["DT_STRING"] and list(proto.string_val) == [b"a", b"b"]
    assert not proto.tensor_content
    assert to_ndarray(proto).tolist() == [[b"a", b"b"]]


def test_python_floats_become_float32():
    assert to_tensor_proto([1.0, 2.0]).dtype == protos.DataType["DT_FLOAT"]
    assert to_tensor_proto(np.array([1.0, 2.0])).dtype == protos.DataType["DT_DOUBLE"]


def test_typed_lists_decode_with_last_value_repeated():
    proto = protos.TensorProto(dtype=protos.DataType["DT_INT32"], int_val=[4, 9])
    for size in (2, 3):
        proto.tensor_shape.dim.add(size=size)
    assert to_ndarray(proto).tolist() == [[4, 9, 9], [9, 9, 9]]
    half = protos.TensorProto(dtype=protos.DataType["DT_HALF"],
                              half_val=[int(np.array(1.5, np.float16).view(np.uint16))])
    assert to_ndarray(half).tolist() == 1.5


def test_too_many_values_and_unknown_dtypes_are_invalid_input():
    proto = protos.TensorProto(dtype=protos.DataType["DT_FLOAT"], float_val=[1, 2, 3])
    proto.tensor_shape.dim.add(size=2)
    with pytest.raises(InvalidInput, match="3 values for shape"):
        to_ndarray(proto)
    with pytest.raises(InvalidInput, match="no TensorFlow equivalent"):
        to_tensor_proto(np.array(["2020-01-01"], dtype="datetime64[D]"))


def test_big_endian_input_is_sent_little_endian():
    proto = to_tensor_proto(np.array([1.0], dtype=">f4"))
    assert proto.tensor_content == np.array([1.0], "<f4").tobytes()
