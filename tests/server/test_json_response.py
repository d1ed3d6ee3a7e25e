import json

import numpy as np
from tensorflow_serving.apis import classification_pb2

from serving.server import json_response as jr


def test_response_formats():
    out = {"mpg": np.array([0.2, 3.0], np.float32)}
    assert json.loads(jr.predict_response_json(out, "row")) == {"predictions": [0.2, 3.0]}
    assert "0.2," in jr.predict_response_json(out, "row") and "3.0" in jr.predict_response_json(out, "row")
    two = {"p": np.array([[0.5, 0.5]], np.float32), "c": np.array([1], np.int64)}
    assert json.loads(jr.predict_response_json(two, "row")) == {"predictions": [{"c": 1, "p": [0.5, 0.5]}]}
    assert json.loads(jr.predict_response_json(two, "columnar")) == {"outputs": {"c": [1], "p": [[0.5, 0.5]]}}
    raw = jr.predict_response_json({"x": np.array([np.nan, np.inf], np.float32)}, "columnar")
    assert "NaN" in raw and "Infinity" in raw
    b = jr.predict_response_json({"img_bytes": np.array([b"\x00"], dtype=object)}, "columnar")
    assert json.loads(b) == {"outputs": [{"b64": "AA=="}]}




def test_classify_and_regress_results():
    result = classification_pb2.ClassificationResult()
    result.classifications.add().classes.add(label="clean", score=0.25)
    assert json.loads(jr.classify_response_json(result)) == {"results": [[["clean", 0.25]]]}
    assert jr.float_text(0.1, single=False) == "0.1" and jr.float_text(3.0, single=True) == "3.0"
    assert jr.float_text(float(np.float32(0.1)), single=True) == "0.1"
    assert jr.float_text(1e-5, single=False) == "1e-05"
    assert json.loads(jr.error_json('say "hi"')) == {"error": 'say "hi"'}


def test_large_answers_come_in_chunks():
    values = np.arange(200_000, dtype=np.float32)
    chunks = jr.predict_response_chunks({"y": values}, "row")
    assert len(chunks) > 10 and max(len(c) for c in chunks) < 2 * (1 << 16)
    assert json.loads(b"".join(chunks))["predictions"][-1] == 199999.0
    two = jr.predict_response_chunks({"a": values.reshape(-1, 2), "b": values[:100_000]}, "columnar")
    assert json.loads(b"".join(two))["outputs"]["a"][-1] == [199998.0, 199999.0]
