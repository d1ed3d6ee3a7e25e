"""training.signature_names: renames complete into a permutation; a real export keeps its names."""
from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pytest

import training.signature_names as names


def test_doctests() -> None:
    assert doctest.testmod(names).failed == 0


def test_permutation_moves_displaced_nodes_to_freed_names() -> None:
    mapping = names.permutation({"C_2": "C", "C_1": "C_1"}, {"C", "C_1", "C_2", "C_3"})
    assert mapping == {"C_2": "C", "C": "C_2"}
    assert names.permutation({"A": "A"}, {"A"}) == {}
    with pytest.raises(ValueError, match="two nodes"):
        names.permutation({"A": "X", "B": "X"}, {"A", "B"})


def test_an_extra_signature_sorted_first_keeps_the_others_names(tmp_path: Path) -> None:
    import tensorflow as tf

    class Module(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable(2.0)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def predict(self, x):
            return {"y": x * self.w}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def aaa(self, x):
            return {"z": x + self.w}

    module = Module()
    tf.saved_model.save(module, str(tmp_path / "plain"), signatures={"serving_default": module.predict})
    tf.saved_model.save(module, str(tmp_path / "more"), signatures={"serving_default": module.predict,
                                                                    "aaa": module.aaa})
    before = names.signature_defs(tmp_path / "plain")
    assert names.signature_defs(tmp_path / "more")["serving_default"] != before["serving_default"]
    moved = names.restore_tensor_names(tmp_path / "more", {"serving_default": before["serving_default"]})
    assert moved
    after = names.signature_defs(tmp_path / "more")
    assert after["serving_default"] == before["serving_default"]
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], str(tmp_path / "more"))
        for key, out, want in (("serving_default", "y", [4.0]), ("aaa", "z", [4.0])):
            sig = meta.signature_def[key]
            got = session.run(sig.outputs[out].name, {sig.inputs["x"].name: np.array([2.0], np.float32)})
            np.testing.assert_allclose(got, want)
    loaded = tf.saved_model.load(str(tmp_path / "more"))
    assert float(loaded.signatures["aaa"](x=tf.constant([1.0]))["z"][0]) == 3.0
