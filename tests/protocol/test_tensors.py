"""The codec against TensorFlow: ``tf.make_tensor_proto``/``tf.make_ndarray`` for every dtype and shape
(scalars and empty tensors included), TF's C++ ``Tensor::FromProto`` (through a Const kernel) for the
string encoding, the short-list rules, validation, and the element bound that allocates nothing."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from serving.protocol import messages
from serving.protocol.dtypes import DT_FLOAT, SPECS
from serving.protocol.tensors import MAX_RANK, TensorError, declared, to_ndarray, to_tensor_proto

DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
          "uint32", "uint64", "bool", "complex64", "complex128", "bytes"]
SHAPES = [(), (0,), (1,), (3,), (2, 3), (2, 0, 3), (1, 2, 1, 2)]


def numpy_dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(object if name == "bytes" else name)


def sample(name: str, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape))
    dtype = numpy_dtype(name)
    if name == "bytes":
        values = np.empty(n, dtype=object)
        values[:] = [bytes([i, 0xFF]) * (i % 3) for i in range(n)]
        return values.reshape(shape)
    if name == "bool":
        return (np.arange(n) % 2 == 0).reshape(shape)
    ramp = np.arange(n) + 1
    if dtype.kind == "c":
        return (ramp - 1j * (ramp + 0.5)).astype(dtype).reshape(shape)
    if dtype.kind == "f" or name == "bfloat16":
        return (ramp * -0.5).astype(dtype).reshape(shape)
    return ramp.astype(dtype).reshape(shape)


def tf_proto_class():
    from tensorflow.core.framework import tensor_pb2

    return tensor_pb2.TensorProto


def assert_same(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", DTYPES)
def test_matches_tensorflow_both_ways(name: str, shape: tuple[int, ...]) -> None:
    import tensorflow as tf

    array = sample(name, shape)
    theirs = tf.make_tensor_proto(array)
    # TF picks tensor_content or the typed field by itself; ours produces the same bytes for either.
    ours = to_tensor_proto(array, content=bool(theirs.tensor_content))
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)
    assert_same(to_ndarray(messages.TensorProto.FromString(theirs.SerializeToString())), array)
    for content in (True, False):
        wire = to_tensor_proto(array, content=content).SerializeToString()
        assert_same(tf.make_ndarray(tf_proto_class().FromString(wire)), array)
        assert_same(to_ndarray(messages.TensorProto.FromString(wire)), array)


@pytest.mark.parametrize("given", [0, 1, 2])
@pytest.mark.parametrize("name", DTYPES)
def test_short_value_lists_decode_as_tensorflow_does(name: str, given: int) -> None:
    """Fewer values than elements: the last one repeats; none: zeros (empty strings)."""
    import tensorflow as tf

    proto = to_tensor_proto(sample(name, (2, 3)), content=False)
    spec = SPECS[proto.dtype]
    field = getattr(proto, spec.field)
    kept = list(field)[: given * spec.per_value]
    del field[:]
    field.extend(kept)
    wire = proto.SerializeToString()
    want = tf.make_ndarray(tf_proto_class().FromString(wire))
    got = to_ndarray(messages.TensorProto.FromString(wire))
    assert got.dtype == numpy_dtype(name) and got.shape == (2, 3)
    if name == "bytes":  # tf.make_ndarray pads an empty string list with str ""
        want = np.vectorize(lambda v: v.encode() if isinstance(v, str) else v, otypes=[object])(want)
    assert got.tolist() == want.tolist()


def tf_const(proto) -> np.ndarray:
    """TensorFlow's C++ decoder (``Tensor::FromProto``), through a Const kernel."""
    import tensorflow as tf

    theirs = tf_proto_class().FromString(proto.SerializeToString())
    graph = tf.Graph()
    with graph.as_default():
        const = tf.raw_ops.Const(value=theirs, dtype=tf.dtypes.as_dtype(theirs.dtype))
    with tf.compat.v1.Session(graph=graph) as session:
        return session.run(const)


def test_string_tensor_content_decodes_as_tensorflows_cpp_decoder() -> None:
    strings = [b"", b"a", b"\x00\xff" * 100]
    lengths = b"".join(bytes([len(s)]) if len(s) < 128 else bytes([len(s) & 0x7F | 0x80, len(s) >> 7])
                       for s in strings)
    proto = messages.TensorProto(dtype=7, tensor_content=lengths + b"".join(strings))
    proto.tensor_shape.dim.add(size=3)
    assert tf_const(proto).tolist() == strings
    assert to_ndarray(proto).tolist() == strings


def test_short_lists_match_tensorflows_cpp_decoder() -> None:
    proto = messages.TensorProto(dtype=DT_FLOAT, float_val=[1.0, 2.0])
    proto.tensor_shape.dim.add(size=4)
    assert to_ndarray(proto).tolist() == tf_const(proto).tolist() == [1.0, 2.0, 2.0, 2.0]


def bad(mutate) -> messages.TensorProto:
    proto = messages.TensorProto(dtype=DT_FLOAT)
    proto.tensor_shape.dim.add(size=2)
    mutate(proto)
    return proto


@pytest.mark.parametrize("proto, error", [
    (bad(lambda p: p.float_val.extend([1.0] * 5)), "float_val holds 5 values for shape \\[2\\]"),
    (bad(lambda p: setattr(p, "tensor_content", b"\x00" * 5)), "holds 5 bytes; shape \\[2\\] of DT_FLOAT needs 8"),
    (bad(lambda p: p.tensor_shape.dim.add(size=-1)), "negative dimension"),
    (bad(lambda p: setattr(p.tensor_shape, "unknown_rank", True)), "unknown rank"),
    (bad(lambda p: setattr(p, "dtype", 20)), "DT_RESOURCE is not supported"),
    (bad(lambda p: setattr(p, "dtype", 0)), "DT_INVALID is not supported"),
    (bad(lambda p: [p.tensor_shape.dim.add(size=2**32) for _ in range(2)]), "more than 2\\^63-1 elements"),
    (bad(lambda p: [p.tensor_shape.dim.add(size=1) for _ in range(MAX_RANK)]), "255 dimensions, more than 254"),
    (bad(lambda p: (setattr(p, "dtype", 8), p.scomplex_val.extend([1.0, 2.0, 3.0]))), "pairs"),
    (bad(lambda p: (setattr(p, "dtype", 6), p.int_val.append(300))), "out of range for DT_INT8"),
    (bad(lambda p: (setattr(p, "dtype", 19), p.half_val.append(70000))), "outside 0..65535"),
    (bad(lambda p: (setattr(p, "dtype", 7), setattr(p, "tensor_content", b"\x05a"))), "exactly 2 strings"),
    (bad(lambda p: (setattr(p, "dtype", 7), setattr(p, "tensor_content", b"\xff\xff\xff\xff\xff\xff"))),
     "malformed length"),
])
def test_invalid_protos_raise_a_value_error_that_says_why(proto, error: str) -> None:
    with pytest.raises(TensorError, match=error) as info:
        to_ndarray(proto)
    assert isinstance(info.value, ValueError)


def test_declared_reads_the_size_without_decoding() -> None:
    proto = messages.TensorProto(dtype=DT_FLOAT, float_val=[1.0])
    for size in (4, 3):
        proto.tensor_shape.dim.add(size=size)
    assert declared(proto) == (DT_FLOAT, (4, 3), 12)
    assert declared(messages.TensorProto(dtype=DT_FLOAT)) == (DT_FLOAT, (), 1)


def test_a_66_byte_request_declaring_2_to_the_29_floats_allocates_nothing() -> None:
    request = messages.PredictRequest()
    request.model_spec.name = "fuel"
    tensor = request.inputs["x"]
    tensor.dtype = DT_FLOAT
    tensor.tensor_shape.dim.add(size=2**29)
    tensor.float_val.append(1.0)
    wire = request.SerializeToString()
    assert len(wire) <= 66
    tracemalloc.start()
    try:
        parsed = messages.PredictRequest.FromString(wire)
        assert declared(parsed.inputs["x"]).elements == 2**29
        with pytest.raises(TensorError, match="536870912 elements, more than the 1048576 allowed"):
            to_ndarray(parsed.inputs["x"], max_elements=2**20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024


def test_max_elements_lets_smaller_tensors_through() -> None:
    assert to_ndarray(to_tensor_proto(np.ones((2, 2), np.float32)), max_elements=4).shape == (2, 2)


def test_python_floats_become_float32_and_numpy_values_keep_their_dtype() -> None:
    assert to_tensor_proto([1.0, 2.0]).dtype == 1
    assert to_tensor_proto(1.0).dtype == 1
    assert to_tensor_proto([1.0], dtype=np.float64).dtype == 2
    assert to_tensor_proto(np.array([1.0])).dtype == 2
    assert to_tensor_proto(np.float64(1.0)).dtype == 2  # a scalar output of a model stays double


def test_strings_always_travel_in_string_val() -> None:
    for content in (True, False):
        proto = to_tensor_proto(np.array([["a", b"b"]], dtype=object), content=content)
        assert proto.dtype == 7 and list(proto.string_val) == [b"a", b"b"] and not proto.tensor_content
        assert to_ndarray(proto).tolist() == [[b"a", b"b"]]


@pytest.mark.parametrize("value, error", [
    (np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime64\\[D\\] has no TensorFlow equivalent"),
    (np.array([1, "x"], dtype=object), "string tensors take bytes or str elements, got int"),
    ([[1.0], [1.0, 2.0]], "cannot make an array of list"),
])
def test_values_without_a_tensor_form_raise_tensor_error(value, error: str) -> None:
    with pytest.raises(TensorError, match=error):
        to_tensor_proto(value)


def test_big_endian_input_is_sent_little_endian_in_both_encodings() -> None:
    big = np.array([1.0, -2.5], dtype=">f4")
    assert to_tensor_proto(big).tensor_content == np.array([1.0, -2.5], "<f4").tobytes()
    assert list(to_tensor_proto(big, content=False).float_val) == [1.0, -2.5]
    half = np.array([1.5], dtype=">f2")
    assert to_ndarray(to_tensor_proto(half, content=False)).tolist() == [1.5]


def test_into_an_existing_proto() -> None:
    request = messages.PredictRequest()
    to_tensor_proto(np.arange(3, dtype=np.int64), proto=request.inputs["ids"])
    assert to_ndarray(request.inputs["ids"]).tolist() == [0, 1, 2]


ARRAYS = st.sampled_from([d for d in DTYPES if d not in ("bfloat16", "bytes")]).flatmap(
    lambda d: hnp.arrays(d, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)))


@settings(max_examples=80, deadline=None)
@given(ARRAYS, st.booleans())
def test_round_trip_is_exact(array: np.ndarray, content: bool) -> None:
    proto = messages.TensorProto.FromString(to_tensor_proto(array, content=content).SerializeToString())
    back = to_ndarray(proto)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
