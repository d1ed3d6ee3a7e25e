"""A TF1-era SavedModel, exported with ``tf.compat.v1`` the way plants exported models years ago:
placeholders and variables in a graph, SignatureDefs written by hand.

``y = 0.5 * x + 2`` ("half plus two"), with these signatures:

- ``serving_default``: ``x`` → ``y``. The placeholder is ``[None]`` but the SignatureDef says
  ``[-1, 1]``: ``tf.saved_model.load`` refuses the model ("Shapes must be equal rank"), TF Serving loads
  it into a session and serves it; a ``[3]`` tensor ``[2, 3, 4]`` answers ``[3.0, 3.5, 4.0]``;
- ``classify_x_to_y`` (``inputs`` → ``scores``) and ``regress_x_to_y`` (``inputs`` → ``outputs``) on
  serialized ``tf.Example`` s with a float feature ``x``;
- ``classify_bad_input`` (its input is not called ``inputs``) and ``regress_bad_output`` (its output
  is not called ``outputs``), for TF Serving's signature checks;
- ``check_numerics``: ``x`` → ``y``, failing at run time on a NaN with TensorFlow's own message.

Example::

    export_legacy(store / "legacy" / "1")
"""
from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["export_legacy", "LEGACY_SIGNATURES"]

LEGACY_SIGNATURES = ("serving_default", "classify_x_to_y", "regress_x_to_y", "classify_bad_input",
                     "regress_bad_output", "check_numerics")


def export_legacy(version_dir: Path) -> Path:
    """Write the model to ``version_dir`` (through a temporary sibling, renamed at the end)."""
    import tensorflow as tf

    tf1 = tf.compat.v1
    version_dir = Path(version_dir)
    staging = version_dir.parent / f".staging-{version_dir.name}"
    shutil.rmtree(staging, ignore_errors=True)
    graph = tf.Graph()
    with graph.as_default():
        a = tf1.Variable(0.5, name="a")
        b = tf1.Variable(2.0, name="b")
        x = tf1.placeholder(tf.float32, shape=[None], name="x")
        y = tf.add(a * x, b, name="y")
        examples = tf1.placeholder(tf.string, name="tf_example")
        parsed = tf1.io.parse_example(examples, {"x": tf1.io.FixedLenFeature([1], tf.float32)})
        y_examples = tf.add(a * parsed["x"], b, name="y_examples")
        checked = tf.debugging.check_numerics(x, "x is not a number")
        info = tf1.saved_model.utils.build_tensor_info
        x_info, y_info = info(x), info(y)
        for tensor_info in (x_info, y_info):  # what the SignatureDef claims, not what the graph has
            tensor_info.tensor_shape.Clear()
            tensor_info.tensor_shape.dim.add(size=-1)
            tensor_info.tensor_shape.dim.add(size=1)
        build = tf1.saved_model.signature_def_utils.build_signature_def
        predict, classify, regress = ("tensorflow/serving/predict", "tensorflow/serving/classify",
                                      "tensorflow/serving/regress")
        signatures = {
            "serving_default": build({"x": x_info}, {"y": y_info}, predict),
            "classify_x_to_y": build({"inputs": info(examples)}, {"scores": info(y_examples)}, classify),
            "regress_x_to_y": build({"inputs": info(examples)}, {"outputs": info(y_examples)}, regress),
            "classify_bad_input": build({"examples": info(examples)}, {"scores": info(y_examples)}, classify),
            "regress_bad_output": build({"inputs": info(examples)}, {"values": info(y_examples)}, regress),
            "check_numerics": build({"x": info(x)}, {"y": info(checked)}, predict),
        }
        with tf1.Session(graph=graph) as session:
            session.run(tf1.global_variables_initializer())
            builder = tf1.saved_model.Builder(str(staging))
            builder.add_meta_graph_and_variables(session, ["serve"], signature_def_map=signatures)
            builder.save()
    staging.rename(version_dir)
    return version_dir
