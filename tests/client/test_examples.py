"""tf.Example encoding for classify and regress."""
from __future__ import annotations

import numpy as np
import pytest

from serving.client import InvalidInput
from serving.client.examples import feature_rows, to_example, to_input, to_json_example
from serving.protocol import messages


def test_columns_become_one_flat_example_per_row():
    rows = feature_rows({"image": np.zeros((3, 28, 28, 1), np.float32), "line": np.array([1, 2, 3])})
    assert len(rows) == 3 and rows[0]["image"].shape == (784,) and rows[2]["line"].tolist() == [3]


def test_kinds_follow_dtypes():
    ex = to_example({"f": np.array([0.5]), "i": np.array([7]), "b": np.array(["x"])})
    feats = ex.features.feature
    assert list(feats["f"].float_list.value) == [0.5] and list(feats["i"].int64_list.value) == [7]
    assert list(feats["b"].bytes_list.value) == [b"x"]
    assert to_json_example({"b": np.array([b"\x00"], dtype=object)}) == {"b": [{"b64": "AA=="}]}


def test_request_input_is_an_example_list():
    req = to_input([{"x": [1.0]}, {"x": [2.0]}], messages.ClassificationRequest())
    assert req.input.WhichOneof("kind") == "example_list" and len(req.input.example_list.examples) == 2


def test_mismatched_batch_sizes_are_refused():
    with pytest.raises(InvalidInput, match="batch size"):
        feature_rows({"a": np.zeros((2, 3)), "b": np.zeros((3, 3))})
