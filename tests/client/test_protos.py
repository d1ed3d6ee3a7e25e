"""Our message definitions against the official tensorflow-serving-api stubs, both ways.

Each scenario builds the same message with both, checks that the deterministic bytes are
identical, and parses each side's bytes with the other side's class.
"""
from __future__ import annotations

import numpy as np
import pytest

from serving.client import protos
from serving.client.examples import to_input
from serving.client.grpc_client import METHODS, fill_model_spec
from serving.client.settings import ModelRef
from serving.client.tensors import to_ndarray, to_tensor_proto

from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,  # noqa: E402
                                     get_model_status_pb2, predict_pb2, prediction_service_pb2_grpc,
                                     regression_pb2)
import tensorflow as tf  # noqa: E402


def _same_bytes_both_ways(ours, theirs) -> None:
    ours_bytes = ours.SerializeToString(deterministic=True)
    theirs_bytes = theirs.SerializeToString(deterministic=True)
    assert ours_bytes == theirs_bytes
    assert type(theirs).FromString(ours_bytes) == theirs
    assert type(ours).FromString(theirs_bytes) == ours


@pytest.mark.parametrize("ref", [ModelRef("fuel", label="stable"), ModelRef("fuel", version=7),
                                 ModelRef("defect", signature="classify")])
def test_predict_request_matches_official(ref: ModelRef) -> None:
    image = np.random.default_rng(1).random((1, 224, 224, 3), dtype=np.float32)
    ours = protos.PredictRequest(output_filter=["mpg"])
    fill_model_spec(ours.model_spec, ref)
    to_tensor_proto(image, proto=ours.inputs["image"])
    to_tensor_proto(np.array([b"a", b"bc"], dtype=object), proto=ours.inputs["names"])

    theirs = predict_pb2.PredictRequest(output_filter=["mpg"])
    theirs.model_spec.name = ref.name
    if ref.version is not None:
        theirs.model_spec.version.value = ref.version
    elif ref.label is not None:
        theirs.model_spec.version_label = ref.label
    theirs.model_spec.signature_name = ref.signature
    theirs.inputs["image"].CopyFrom(tf.make_tensor_proto(image))
    theirs.inputs["names"].CopyFrom(tf.make_tensor_proto([b"a", b"bc"]))
    _same_bytes_both_ways(ours, theirs)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "int8", "int16", "bool",
                                   "float16", "uint16", "uint32", "uint64", "complex64", "complex128"])
def test_official_tensors_decode_with_ours_and_ours_with_official(dtype: str) -> None:
    array = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    theirs = tf.make_tensor_proto(array)
    np.testing.assert_array_equal(to_ndarray(protos.TensorProto.FromString(theirs.SerializeToString())), array)
    ours = to_tensor_proto(array)
    back = tf.make_ndarray(type(theirs).FromString(ours.SerializeToString()))
    assert back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)


def test_typed_value_fields_from_official_tensors_decode() -> None:
    # TF writes small or constant tensors as *_val lists (possibly one value for a constant).
    theirs = tf.make_tensor_proto(7.5, shape=[2, 3])
    assert not theirs.tensor_content
    decoded = to_ndarray(protos.TensorProto.FromString(theirs.SerializeToString()))
    np.testing.assert_array_equal(decoded, np.full((2, 3), 7.5, np.float32))


def test_predict_response_from_official_parses_with_ours() -> None:
    theirs = predict_pb2.PredictResponse()
    theirs.model_spec.name, theirs.model_spec.signature_name = "defect", "serving_default"
    theirs.model_spec.version.value = 4
    theirs.outputs["probabilities"].CopyFrom(tf.make_tensor_proto(np.eye(2, 5, dtype=np.float32)))
    theirs.outputs["class_id"].CopyFrom(tf.make_tensor_proto(np.array([0, 1], np.int64)))
    ours = protos.PredictResponse.FromString(theirs.SerializeToString())
    assert ours.model_spec.version.value == 4
    np.testing.assert_array_equal(to_ndarray(ours.outputs["probabilities"]), np.eye(2, 5, dtype=np.float32))
    assert to_ndarray(ours.outputs["class_id"]).tolist() == [0, 1]
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)


def test_classification_request_with_examples_matches_official() -> None:
    image = np.linspace(0, 1, 784, dtype=np.float32)
    ours = protos.ClassificationRequest()
    fill_model_spec(ours.model_spec, ModelRef("defect", label="stable", signature="classify"))
    to_input({"image": image[None, :], "line": np.array([[3]]), "tag": np.array([[b"x"]], dtype=object)}, ours)

    theirs = classification_pb2.ClassificationRequest()
    theirs.model_spec.name, theirs.model_spec.version_label = "defect", "stable"
    theirs.model_spec.signature_name = "classify"
    example = theirs.input.example_list.examples.add()
    example.features.feature["image"].float_list.value.extend(image.tolist())
    example.features.feature["line"].int64_list.value.append(3)
    example.features.feature["tag"].bytes_list.value.append(b"x")
    _same_bytes_both_ways(ours, theirs)


def test_classification_and_regression_responses_parse_with_ours() -> None:
    theirs = classification_pb2.ClassificationResponse()
    row = theirs.result.classifications.add()
    row.classes.add(label="scratch", score=0.75)
    row.classes.add(label="clean", score=0.25)
    ours = protos.ClassificationResponse.FromString(theirs.SerializeToString())
    assert [(c.label, c.score) for c in ours.result.classifications[0].classes] == [("scratch", 0.75), ("clean", 0.25)]

    reg = regression_pb2.RegressionResponse()
    reg.result.regressions.add(value=27.5)
    assert protos.RegressionResponse.FromString(reg.SerializeToString()).result.regressions[0].value == 27.5


def test_metadata_and_status_parse_with_ours() -> None:
    from tensorflow.core.protobuf import meta_graph_pb2

    sigmap = get_model_metadata_pb2.SignatureDefMap()
    sig: meta_graph_pb2.SignatureDef = sigmap.signature_def["serving_default"]
    sig.method_name = "tensorflow/serving/predict"
    sig.inputs["image"].name = "serving_default_image:0"
    sig.inputs["image"].dtype = tf.float32.as_datatype_enum
    for size in (-1, 28, 28, 1):
        sig.inputs["image"].tensor_shape.dim.add(size=size)
    meta = get_model_metadata_pb2.GetModelMetadataResponse()
    meta.model_spec.name = "defect"
    meta.model_spec.version.value = 2
    meta.metadata["signature_def"].Pack(sigmap)
    ours = protos.GetModelMetadataResponse.FromString(meta.SerializeToString())
    assert ours.metadata["signature_def"].type_url.endswith("tensorflow.serving.SignatureDefMap")
    parsed = protos.SignatureDefMap.FromString(ours.metadata["signature_def"].value)
    image = parsed.signature_def["serving_default"].inputs["image"]
    assert [d.size for d in image.tensor_shape.dim] == [-1, 28, 28, 1] and image.dtype == 1

    status = get_model_status_pb2.GetModelStatusResponse()
    status.model_version_status.add(version=3, state=get_model_status_pb2.ModelVersionStatus.AVAILABLE)
    parsed_status = protos.GetModelStatusResponse.FromString(status.SerializeToString())
    assert parsed_status.model_version_status[0].state == protos.MODEL_STATES["AVAILABLE"] == 30

    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = "defect"
    ours_request = protos.GetModelMetadataRequest(metadata_field=["signature_def"])
    ours_request.model_spec.name = "defect"
    _same_bytes_both_ways(ours_request, request)


def test_method_paths_match_the_official_service() -> None:
    stub_paths = set()

    class Recorder:
        def unary_unary(self, path, *args, **kwargs):
            stub_paths.add(path)

        unary_stream = stream_unary = stream_stream = unary_unary

    prediction_service_pb2_grpc.PredictionServiceStub(Recorder())
    ours = {p for p in METHODS if p.startswith("/tensorflow.serving.PredictionService/")}
    assert ours <= stub_paths and "/tensorflow.serving.PredictionService/Predict" in ours
