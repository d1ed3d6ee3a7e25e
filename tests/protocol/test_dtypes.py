"""The DataTypes the codec handles: numpy dtypes and value fields as TensorFlow has them."""
from __future__ import annotations

import numpy as np
import pytest

from serving.protocol import dtypes


@pytest.mark.parametrize("enum", sorted(dtypes.SPECS))
def test_numpy_dtype_is_tensorflows(enum: int) -> None:
    import tensorflow as tf

    tf_dtype = tf.dtypes.as_dtype(enum)
    ours = dtypes.numpy_dtype(enum)
    if enum == dtypes.DT_STRING:
        assert ours == np.dtype(object)
    else:
        assert ours == np.dtype(tf_dtype.as_numpy_dtype)
        assert dtypes.dtype_enum(ours) == enum
    from tensorflow.core.framework import types_pb2

    assert dtypes.dtype_name(enum) == types_pb2.DataType.Name(enum)


@pytest.mark.parametrize("dtype, enum", [(">f4", dtypes.DT_FLOAT), ("<i8", dtypes.DT_INT64), ("S3", dtypes.DT_STRING),
                                         ("U2", dtypes.DT_STRING), ("O", dtypes.DT_STRING), ("?", dtypes.DT_BOOL)])
def test_byte_order_and_string_kinds_do_not_matter(dtype: str, enum: int) -> None:
    assert dtypes.dtype_enum(np.dtype(dtype)) == enum


@pytest.mark.parametrize("dtype", ["datetime64[s]", "V4", "float128" if hasattr(np, "float128") else "M8[D]"])
def test_types_tensorflow_lacks_are_key_errors(dtype: str) -> None:
    with pytest.raises(KeyError):
        dtypes.dtype_enum(np.dtype(dtype))


def test_names_of_unknown_numbers() -> None:
    assert dtypes.dtype_name(101) == "DT_FLOAT_REF" and dtypes.dtype_name(99) == "DT_UNKNOWN(99)"
    assert dtypes.spec_for(dtypes.DT_RESOURCE) is None
