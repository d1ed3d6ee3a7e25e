import numpy as np
import pytest
from tensorflow.core.framework import tensor_pb2, types_pb2

from serving.server.tensors import TensorParseError, from_proto, to_proto


@pytest.mark.parametrize("arr", [
    np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1.5, -2], np.float64), np.array([[1, 2]], np.int32),
    np.array([2**40], np.int64), np.array([True, False]), np.array([1, 2], np.uint8), np.array([0.5], np.float16),
    np.array([2**33], np.uint64), np.array([b"a", b"\x00\xff"], dtype=object)])
def test_round_trip_as_fields_and_content(arr):
    import tensorflow as tf

    for as_content in (False, True):
        proto = to_proto(arr, as_content=as_content)
        back = from_proto(proto)
        assert back.shape == arr.shape and back.dtype == arr.dtype
        assert back.tolist() == arr.tolist()
        assert tf.make_ndarray(proto).tolist() == arr.tolist()


def test_matches_tf_make_tensor_proto_input():
    import tensorflow as tf

    arr = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    assert np.array_equal(from_proto(tf.make_tensor_proto(arr)), arr)


def test_fewer_values_repeat_the_last_and_none_means_zeros():
    p = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT)
    p.tensor_shape.dim.add(size=3)
    p.float_val.append(2.0)
    assert from_proto(p).tolist() == [2.0, 2.0, 2.0]
    del p.float_val[:]
    assert from_proto(p).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("mutate", [
    lambda p: p.float_val.extend([1.0] * 5),
    lambda p: setattr(p, "tensor_content", b"\x00" * 5),
    lambda p: p.tensor_shape.dim.add(size=-1),
    lambda p: setattr(p.tensor_shape, "unknown_rank", True),
    lambda p: setattr(p, "dtype", types_pb2.DT_RESOURCE),
    lambda p: p.tensor_shape.dim.add(size=2**40),
])
def test_invalid_protos_raise(mutate):
    p = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT)
    p.tensor_shape.dim.add(size=2)
    mutate(p)
    with pytest.raises(TensorParseError):
        from_proto(p)
