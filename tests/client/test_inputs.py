"""Normalising predict inputs into named arrays."""
from __future__ import annotations

import numpy as np
import pytest

from serving.client import InvalidInput
from serving.client.inputs import named_inputs, sole_input_name
from serving.client.results import Signature, TensorSpec


def _never() -> str:
    raise AssertionError("the signature must not be looked up for a dict")


def test_dicts_keep_dtypes_and_lists_become_float32():
    out = named_inputs({"a": np.array([1], np.int64), "b": [0.5]}, _never)
    assert out["a"].dtype == np.int64 and out["b"].dtype == np.float32


def test_bare_array_needs_a_single_input_signature():
    one = Signature("s", "", {"image": TensorSpec("DT_FLOAT", (-1,))}, {})
    two = Signature("s", "", {"a": TensorSpec("DT_FLOAT", (-1,)), "b": TensorSpec("DT_FLOAT", (-1,))}, {})
    assert list(named_inputs(np.zeros(2), lambda: sole_input_name(one))) == ["image"]
    with pytest.raises(InvalidInput, match="takes 2 inputs"):
        named_inputs(np.zeros(2), lambda: sole_input_name(two))
    with pytest.raises(InvalidInput, match="no inputs"):
        named_inputs({}, _never)
