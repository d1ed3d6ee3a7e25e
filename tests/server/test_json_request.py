import numpy as np
import pytest
from tensorflow.core.framework import types_pb2 as t

from serving.protocol import messages
from serving.server import json_request as jc
from serving.server.status import ServingError

FUEL = {n: t.DT_FLOAT for n in ("a", "b")}


def _err(fn, *args) -> str:
    with pytest.raises(ServingError) as info:
        fn(*args)
    return info.value.message


def test_row_and_columnar():
    fmt, arrays = jc.tensors_from_json({"instances": [{"a": 1, "b": 2.5}, {"a": 3, "b": 4}]}, FUEL)
    assert fmt == "row" and arrays["a"].tolist() == [1.0, 3.0] and arrays["b"].dtype == np.float32
    fmt, arrays = jc.tensors_from_json({"inputs": {"a": [[1, 2]], "b": [[3, 4]], "extra": 1}}, FUEL)
    assert fmt == "columnar" and arrays["a"].shape == (1, 2)
    fmt, arrays = jc.tensors_from_json({"instances": [[1, 2], [3, 4]]}, {"x": t.DT_INT32})
    assert arrays["x"].dtype == np.int32 and arrays["x"].shape == (2, 2)


def test_b64_and_nan():
    _, arrays = jc.tensors_from_json({"instances": [{"b64": "AAE="}]}, {"x": t.DT_STRING})
    assert arrays["x"].tolist() == [b"\x00\x01"]
    doc = jc.parse_request(b'{"instances": [NaN, Infinity, -Infinity]}')
    _, arrays = jc.tensors_from_json(doc, {"x": t.DT_FLOAT})
    assert np.isnan(arrays["x"][0]) and arrays["x"][1] == np.inf


@pytest.mark.parametrize("doc, info, message", [
    ({}, FUEL, "Missing 'inputs' or 'instances' key"),
    ({"instances": []}, FUEL, "No values in 'instances' array"),
    ({"instances": 3}, FUEL, "Expecting 'instances' to be an list/array"),
    ({"instances": [1], "inputs": [1]}, FUEL, "expecting only one of 'inputs' or 'instances' keys to exist"),
    ({"instances": [1, 2]}, FUEL, "instances is a plain list, but expecting list of objects"),
    ({"inputs": [1]}, FUEL, "inputs is a plain value/list, but expecting an object"),
    ({"inputs": {"a": [1]}}, FUEL, "Missing named input: b in 'inputs' object."),
    ({"instances": [{"a": 1}]}, FUEL, "keys must be equal to: a,b"),
    ({"instances": [{"a": "x", "b": 1}]}, FUEL, 'Type: String is not of expected type: float'),
    ({"instances": [1.5]}, {"x": t.DT_INT32}, "is not of expected type: int32"),
    ({"instances": [16777217]}, {"x": t.DT_FLOAT}, "to float without loss of precision."),
    ({"instances": [[1, 2], [1]]}, {"x": t.DT_FLOAT}, "Expecting tensor size: 2 but got: 1"),
    ({"instances": [[1, [2]]]}, {"x": t.DT_FLOAT}, "Encountered list at unexpected level: 1 expected < 1"),
    ({"instances": [{"b64": "!!"}]}, {"x": t.DT_STRING}, "Unable to base64 decode"),
    ({"inputs": [{"b64": 1}]}, {"x": t.DT_STRING}, "not formatted correctly for base64 data"),
    ({"instances": [{"b64": 1}]}, {"x": t.DT_STRING}, "does not have named input: b64"),
    ({"instances": [None]}, {"x": t.DT_FLOAT}, "Type: Null is not of expected type: float"),
])
def test_errors_use_tf_serving_words(doc, info, message):
    assert message in _err(jc.tensors_from_json, doc, info)


def test_parse_errors():
    assert _err(jc.parse_request, b"") == "JSON Parse error: The document is empty"
    assert _err(jc.parse_request, b"{").startswith("JSON Parse error: ")
    assert _err(jc.parse_request, b"[1]").endswith("Is not object")
    assert "'signature_name' key must be a string value" in _err(jc.signature_name, {"signature_name": 1})


def test_examples_and_results():
    inp = messages.Input()
    jc.examples_input({"context": {"c": 1}, "examples": [{"f": [1.5, 2.5], "s": "x", "b": {"b64": "AA=="}}]}, inp)
    ex = inp.example_list_with_context.examples[0].features.feature
    assert list(ex["f"].float_list.value) == [1.5, 2.5] and ex["s"].bytes_list.value == [b"x"]
    assert inp.example_list_with_context.context.features.feature["c"].int64_list.value == [1]
    assert "When method is classify, key 'examples' is expected" in _err(jc.examples_input, {}, messages.Input())
    assert "'examples' value is an empty array" in _err(jc.examples_input, {"examples": []}, messages.Input())
    assert "Unexpected element type in feature: f expecting type: float" in _err(
        jc.examples_input, {"examples": [{"f": [1.5, "x"]}]}, messages.Input())
