"""Metadata and status from TF Serving's REST JSON and from messages."""
from __future__ import annotations

from serving.client.results import ModelMetadata, VersionStatus
from serving.protocol import messages
from serving.protocol.apis import MODEL_STATES

METADATA_JSON = {
    "model_spec": {"name": "defect", "signature_name": "", "version": "3"},
    "metadata": {"signature_def": {"signature_def": {"serving_default": {
        "inputs": {"image": {"dtype": "DT_FLOAT", "tensor_shape": {"dim": [{"size": "-1", "name": ""},
                             {"size": "28", "name": ""}, {"size": "28", "name": ""}, {"size": "1", "name": ""}],
                             "unknown_rank": False}, "name": "serving_default_image:0"}},
        "outputs": {"class_id": {"dtype": "DT_INT64", "tensor_shape": {"unknown_rank": True}}},
        "method_name": "tensorflow/serving/predict"}}}},
}


def test_metadata_from_rest_json():
    meta = ModelMetadata.from_json(METADATA_JSON)
    sig = meta.signatures["serving_default"]
    assert meta.version == 3 and sig.method_name == "tensorflow/serving/predict"
    assert sig.inputs["image"].shape == (-1, 28, 28, 1) and sig.outputs["class_id"].shape is None


def test_status_from_json_and_proto_agree():
    from_json = VersionStatus.from_json({"version": "3", "state": "AVAILABLE",
                                         "status": {"error_code": "OK", "error_message": ""}})
    proto = messages.ModelVersionStatus(version=3, state=MODEL_STATES["AVAILABLE"])
    assert from_json == VersionStatus.from_proto(proto) == VersionStatus(3, "AVAILABLE", "OK", "")
    failed = messages.ModelVersionStatus(version=4, state=MODEL_STATES["END"])
    failed.status.error_code, failed.status.error_message = 5, "gone"
    assert VersionStatus.from_proto(failed) == VersionStatus(4, "END", "NOT_FOUND", "gone")
