"""TensorFlow's messages (tensor, example, meta_graph, struct) against TensorFlow's generated modules:
the same descriptors, and the same bytes both ways with every field set."""
from __future__ import annotations

import pytest

from serving.protocol import framework, messages
from tests.protocol.official import (assert_same_bytes_both_ways, compare_descriptor, enum_names, message_names,
                                     official_class, official_enum, our_enum)


@pytest.mark.parametrize("full_name", message_names(framework.TENSORFLOW))
def test_message_matches_tensorflow(full_name: str) -> None:
    ours = messages.by_name(full_name)
    compare_descriptor(ours.DESCRIPTOR, official_class(full_name).DESCRIPTOR)
    assert_same_bytes_both_ways(ours)


@pytest.mark.parametrize("full_name", enum_names(framework.TENSORFLOW) + enum_names(framework.ERROR_CODES))
def test_enum_matches_tensorflow(full_name: str) -> None:
    assert our_enum(full_name) == official_enum(full_name)


def test_signature_def_of_a_real_saved_model_round_trips(tmp_path) -> None:
    """Dense, COO-sparse and composite (ragged) outputs, as tf.saved_model writes them."""
    import tensorflow as tf
    from tensorflow.python.saved_model import loader_impl

    class Model(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def serve(self, x):
            return {"dense": x * 2.0, "sparse": tf.sparse.from_dense(tf.reshape(x, [-1, 1])),
                    "ragged": tf.RaggedTensor.from_row_lengths(x, [tf.size(x)])}

    model = Model()
    tf.saved_model.save(model, str(tmp_path), signatures={"serving_default": model.serve})
    meta = loader_impl.SavedModelLoader(str(tmp_path)).get_meta_graph_def_from_tags(["serve"])
    theirs = meta.signature_def["serving_default"]
    assert {k: v.WhichOneof("encoding") for k, v in theirs.outputs.items()} == {
        "dense": "name", "sparse": "coo_sparse", "ragged": "composite_tensor"}
    ours = messages.SignatureDef.FromString(theirs.SerializeToString())
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)
    assert str(ours) == str(theirs)
    assert ours.outputs["ragged"].composite_tensor.type_spec.type_spec_class == 3  # RAGGED_TENSOR_SPEC
