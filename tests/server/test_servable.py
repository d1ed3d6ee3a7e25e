"""Loading a SavedModel into a session (TensorFlow's C API) and running it by tensor names."""
import os
import shutil

import numpy as np
import pytest

from serving.protocol import messages
from serving.server.servable import load_servable, signature_defs
from serving.server.status import Code, ServingError
from serving.server.tfc import TFError
from tests.conformance.legacy import export_legacy
from tests.server.tinymodels import FUEL_FEATURES, fuel_expected


def test_signatures_and_calls(tiny_store):
    s = load_servable("fuel", 1, str(tiny_store / "fuel" / "1"), ("serve",))
    assert {"serving_default", "regress"} <= set(s.signatures)
    sig = s.signature("serving_default")
    assert sig.input_names == tuple(sorted(FUEL_FEATURES)) and sig.output_names == ("mpg",)
    assert sig.input_dtypes == (1,) * 7  # the graph's own placeholders: DT_FLOAT
    rows = np.arange(14, dtype=np.float32).reshape(2, 7)
    by_name = dict(zip(FUEL_FEATURES, rows.T))
    out = sig.call([by_name[n] for n in sig.input_names])
    np.testing.assert_allclose(out[0], fuel_expected(rows, 20.0), rtol=1e-5)
    assert s.signature_map.signature_def["regress"].method_name == "tensorflow/serving/regress"


def test_run_by_tensor_names_reuses_the_signature_call(tiny_store):
    s = load_servable("fuel", 1, str(tiny_store / "fuel" / "1"), ("serve",))
    sig = s.signature("serving_default").signature_def
    feeds = [sig.inputs[n].name for n in reversed(sorted(FUEL_FEATURES))]
    out = s.run(feeds, [sig.outputs["mpg"].name], [np.ones(3, np.float32)] * 7)
    np.testing.assert_allclose(out[0], fuel_expected(np.ones((3, 7)), 20.0), rtol=1e-5)
    assert len(s.runners) == 1


def test_tf1_model_whose_signature_shapes_disagree_with_its_placeholders(tmp_path):
    """tf.saved_model.load refuses this model ("Shapes must be equal rank"); TF Serving serves it, and
    TensorFlow itself decides what a [3] tensor fed to a [None] placeholder means."""
    import tensorflow as tf

    path = export_legacy(tmp_path / "1")
    with pytest.raises(ValueError, match="Shapes must be equal rank"):
        tf.saved_model.load(str(path))
    s = load_servable("legacy", 1, str(path), ("serve",))
    sig = s.signature("serving_default")
    info = sig.signature_def.inputs["x"]
    assert [d.size for d in info.tensor_shape.dim] == [-1, 1]
    assert sig.call([np.array([2.0, 3.0, 4.0], np.float32)])[0].tolist() == [3.0, 3.5, 4.0]


def test_wrong_dtype_is_tensorflows_own_error(tiny_store):
    sig = load_servable("fuel", 1, str(tiny_store / "fuel" / "1"), ("serve",)).signature("serving_default")
    arrays = [np.ones(1, np.float32)] * 6 + [np.ones(1, np.int32)]
    with pytest.raises(TFError) as info:
        sig.call(arrays)
    assert info.value.code == Code.INVALID_ARGUMENT
    assert "Expects arg[6] to be float but int32 is provided" in info.value.message


def test_missing_variables_index_loads_then_fails_at_inference(tiny_store, tmp_path):
    path = tmp_path / "1"
    shutil.copytree(tiny_store / "fuel" / "1", path)
    os.remove(path / "variables" / "variables.index")
    s = load_servable("fuel", 1, str(path), ("serve",))
    with pytest.raises(TFError) as info:
        s.signature("serving_default").call([np.ones(1, np.float32)] * 7)
    assert info.value.code == Code.FAILED_PRECONDITION


def test_load_errors_have_codes(tmp_path):
    with pytest.raises(ServingError) as info:
        load_servable("fuel", 1, str(tmp_path / "missing"), ("serve",))
    assert info.value.code == Code.NOT_FOUND
    (tmp_path / "1").mkdir()
    with pytest.raises(ServingError) as info:
        load_servable("fuel", 1, str(tmp_path / "1"), ("serve",))
    assert info.value.code == Code.NOT_FOUND and "SavedModel" in info.value.message


def test_signature_defs_read_only_field_5():
    sig_map = messages.SignatureDefMap()
    sig_map.signature_def["a"].method_name = "m"
    sig_map.signature_def["a"].inputs["x"].name = "x:0"
    entries = sig_map.SerializeToString()[2:]  # one map entry: drop SignatureDefMap's own tag and length
    graph_def = b"\x12\x04abcd"  # field 2 (graph_def), skipped
    meta = graph_def + b"\x2a" + bytes([len(entries)]) + entries + b"\x08\x01"  # then a varint field
    assert signature_defs(meta) == sig_map
