"""TF Serving's request/response messages against tensorflow-serving-api's generated modules: the same
descriptors, and the same bytes both ways with every field set; the fields left out are listed."""
from __future__ import annotations

import numpy as np
import pytest

from serving.protocol import apis, messages
from serving.protocol.tensors import to_tensor_proto
from tests.protocol.official import (OMITTED, assert_same_bytes_both_ways, compare_descriptor, enum_names,
                                     message_names, official_class, official_enum, our_enum)


@pytest.mark.parametrize("full_name", message_names(apis.APIS))
def test_message_matches_tensorflow_serving(full_name: str) -> None:
    ours = messages.by_name(full_name)
    compare_descriptor(ours.DESCRIPTOR, official_class(full_name).DESCRIPTOR)
    assert_same_bytes_both_ways(ours)


@pytest.mark.parametrize("full_name", enum_names(apis.APIS))
def test_enum_matches_tensorflow_serving(full_name: str) -> None:
    assert our_enum(full_name) == official_enum(full_name)


def test_left_out_fields_survive_a_round_trip_as_unknown_fields() -> None:
    theirs = official_class("tensorflow.serving.PredictRequest")()
    theirs.model_spec.name = "fuel"
    theirs.client_id = b"plant-7"
    assert OMITTED["tensorflow.serving.PredictRequest"] >= {"client_id"}
    ours = messages.PredictRequest.FromString(theirs.SerializeToString())
    assert ours.model_spec.name == "fuel"
    assert type(theirs).FromString(ours.SerializeToString()).client_id == b"plant-7"


def test_metadata_any_packs_and_unpacks_across_implementations() -> None:
    sig_map = messages.SignatureDefMap()
    info = sig_map.signature_def["serving_default"].inputs["image"]
    info.name, info.dtype = "serving_default_image:0", 1
    for size in (-1, 28, 28, 1):
        info.tensor_shape.dim.add(size=size)
    ours = messages.GetModelMetadataResponse()
    ours.model_spec.name = "defect"
    ours.metadata["signature_def"].Pack(sig_map)
    theirs = official_class("tensorflow.serving.GetModelMetadataResponse").FromString(ours.SerializeToString())
    unpacked = official_class("tensorflow.serving.SignatureDefMap")()
    assert theirs.metadata["signature_def"].Unpack(unpacked)
    assert [d.size for d in unpacked.signature_def["serving_default"].inputs["image"].tensor_shape.dim] == [-1, 28, 28, 1]
    back = messages.SignatureDefMap()
    assert ours.metadata["signature_def"].Unpack(back) and back == sig_map


def test_a_predict_request_as_the_client_sends_it_matches_the_official_encoding() -> None:
    import tensorflow as tf

    image = np.random.default_rng(1).random((1, 28, 28, 1), dtype=np.float32)
    ours = messages.PredictRequest(output_filter=["probabilities"])
    ours.model_spec.name, ours.model_spec.version_label = "defect", "stable"
    to_tensor_proto(image, proto=ours.inputs["image"])
    theirs = official_class("tensorflow.serving.PredictRequest")(output_filter=["probabilities"])
    theirs.model_spec.name, theirs.model_spec.version_label = "defect", "stable"
    theirs.inputs["image"].CopyFrom(tf.make_tensor_proto(image))
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)
