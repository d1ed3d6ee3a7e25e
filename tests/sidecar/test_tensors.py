import numpy as np
import pytest
from tensorflow.core.framework import tensor_pb2, types_pb2

from serving.sidecar.tensors import as_array, to_ndarray, to_tensor_proto


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_round_trip(dtype):
    a = np.arange(12, dtype=dtype).reshape(3, 4)
    b = to_ndarray(to_tensor_proto(a))
    assert b.dtype == a.dtype and np.array_equal(a, b)


def test_repeated_field_and_compact_forms():
    p = tensor_pb2.TensorProto(dtype=types_pb2.DT_INT64, int64_val=[4, 2])
    p.tensor_shape.dim.add(size=2)
    assert to_ndarray(p).tolist() == [4, 2]
    q = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1.5])
    q.tensor_shape.dim.add(size=3)
    assert to_ndarray(q).tolist() == [1.5, 1.5, 1.5]


def test_unsupported_dtype_is_an_error():
    with pytest.raises(ValueError, match="DT_STRING"):
        as_array(["x"], "DT_STRING")
