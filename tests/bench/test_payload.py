"""The bench request, encoded once for gRPC and REST."""
from __future__ import annotations

import json

import numpy as np

from serving.bench.payload import build_payload, synthesize
from serving.client.results import Signature, TensorSpec
from serving.client.settings import ModelRef
from serving.protocol import messages

SIG = Signature("serving_default", "", {"image": TensorSpec("DT_FLOAT", (-1, 28, 28, 1)),
                                        "line": TensorSpec("DT_INT64", (-1,))}, {})


def test_synthesized_inputs_follow_the_signature():
    inputs = synthesize(SIG, batch=3)
    assert inputs["image"].shape == (3, 28, 28, 1) and inputs["image"].dtype == np.float32
    assert inputs["line"].shape == (3,) and inputs["line"].dtype == np.int64


def test_grpc_and_http_requests_carry_the_same_inputs():
    inputs = synthesize(SIG, batch=2)
    payload = build_payload("http://127.0.0.1:8501", ModelRef("defect", label="stable"), inputs)
    request = messages.PredictRequest.FromString(payload.grpc_request)
    assert request.model_spec.version_label == "stable" and set(request.inputs) == {"image", "line"}
    head, _, body = payload.http_request.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /v1/models/defect/labels/stable:predict HTTP/1.1"
    assert "Host: 127.0.0.1:8501" in lines and f"Content-Length: {len(body)}" in lines
    decoded = json.loads(body)
    np.testing.assert_allclose(np.array(decoded["inputs"]["image"], np.float32), inputs["image"])
    assert body == payload.http_body
