"""The exported classes: every one is built from the private pool under its TF Serving full name, and
lives beside the official generated classes in one process without a clash."""
from __future__ import annotations

import pytest
from google.protobuf import descriptor_pool

from serving.protocol import messages

EXPORTED = [n for n in messages.__all__ if n not in ("POOL", "Message", "by_name")]


@pytest.mark.parametrize("name", EXPORTED)
def test_each_export_is_a_class_from_the_private_pool(name: str) -> None:
    cls = getattr(messages, name)
    full = cls.DESCRIPTOR.full_name
    assert full.rpartition(".")[2] == ("ServableVersionPolicy" if name == "ServableVersionPolicy" else name)
    assert messages.POOL.FindMessageTypeByName(full) is cls.DESCRIPTOR
    assert messages.by_name(full) is cls


def test_official_classes_in_the_same_process_are_other_classes() -> None:
    from tensorflow_serving.apis import predict_pb2

    official = descriptor_pool.Default().FindMessageTypeByName("tensorflow.serving.PredictRequest")
    assert official is predict_pb2.PredictRequest.DESCRIPTOR
    assert official is not messages.PredictRequest.DESCRIPTOR
    wire = messages.PredictRequest(output_filter=["mpg"]).SerializeToString()
    assert list(predict_pb2.PredictRequest.FromString(wire).output_filter) == ["mpg"]


def test_by_name_of_an_unknown_message_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        messages.by_name("tensorflow.serving.SessionRunRequest")
