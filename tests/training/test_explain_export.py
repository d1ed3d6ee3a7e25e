"""Issue 14, acceptance 1-2 on versions published by ``plantserve train``: both models export
``explain`` (and ``trust``); the prediction signatures are what they were; the new signatures run
through ``tf.saved_model.load`` and through a TF1 session built from the MetaGraph, as TF Serving
loads a SavedModel; completeness holds on the test split."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from serving.store import open_store
from serving.store.repository import ModelRepository
from tests.training.models import rebuild
from training.explain.report import run_chunked
from training.signature_names import signature_defs

MODELS = ("fuel", "defect")
PREDICTION_SIGNATURES = {"fuel": ("serving_default", "regress"), "defect": ("serving_default", "classify")}
NEW_SIGNATURES = {"fuel": {"explain", "trust"}, "defect": {"explain", "explain_class", "trust"}}


def _manifest(store: Path, model: str):
    return ModelRepository(open_store(str(store)), model).manifest(1)


def _session_signatures(path: Path):
    """Every signature of ``path`` run in a TF1 session: restore, init op, run by tensor names."""
    import tensorflow as tf
    from tensorflow.python.saved_model import loader_impl

    loader = loader_impl.SavedModelLoader(str(path))
    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph)
    with graph.as_default():
        saver, _ = loader.load_graph(graph, ["serve"])
        loader.restore_variables(session, saver)
        loader.run_init_ops(session, ["serve"])
    defs = loader.get_meta_graph_def_from_tags(["serve"]).signature_def

    def run(key: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        sig = defs[key]
        feeds = {graph.get_tensor_by_name(sig.inputs[k].name): v for k, v in inputs.items()}
        return session.run({k: graph.get_tensor_by_name(v.name) for k, v in sig.outputs.items()}, feeds)

    return run


@pytest.mark.parametrize("model", MODELS)
def test_prediction_signatures_are_byte_for_byte_what_they_were(model_store: Path, model: str, tmp_path: Path) -> None:
    import tensorflow as tf

    task, data, keras_model = rebuild(model_store, model)
    module, signatures = task.servable(keras_model, data)  # the export without explain and trust
    tf.saved_model.save(module, str(tmp_path), signatures=signatures)
    before, after = signature_defs(tmp_path), signature_defs(model_store / model / "1")
    assert set(after) - set(before) == NEW_SIGNATURES[model]
    for key in PREDICTION_SIGNATURES[model]:
        before[key].method_name = task.method_names().get(key, before[key].method_name)  # as the pipeline does
        assert after[key].SerializeToString(deterministic=True) == before[key].SerializeToString(deterministic=True)
    inputs = {k: tf.constant(v) for k, v in task.request(data.x_test[:16]).items()}
    old = tf.saved_model.load(str(tmp_path)).signatures["serving_default"](**inputs)
    new = tf.saved_model.load(str(model_store / model / "1")).signatures["serving_default"](**inputs)
    for key in old:
        np.testing.assert_array_equal(new[key].numpy(), old[key].numpy())


@pytest.mark.parametrize("model", MODELS)
def test_explain_and_trust_run_the_same_in_a_tf1_session(model_store: Path, model: str) -> None:
    import tensorflow as tf

    task, data, _ = rebuild(model_store, model)
    path = model_store / model / "1"
    inputs = task.request(data.x_test[:3])
    eager = tf.saved_model.load(str(path)).signatures
    session = _session_signatures(path)
    calls = {key: inputs for key in ("serving_default", "explain", "trust")}
    if model == "defect":
        calls["explain_class"] = {**inputs, "class_id": np.array([0, 1, 2], np.int64)}
    for key, feed in calls.items():
        want = {k: v.numpy() for k, v in eager[key](**{k: tf.constant(v) for k, v in feed.items()}).items()}
        got = session(key, feed)
        assert set(got) == set(want), key
        for name, value in want.items():
            if value.dtype.kind in "SO":
                assert got[name].tolist() == value.tolist()
            else:
                np.testing.assert_allclose(got[name], value, rtol=1e-4, atol=1e-6, err_msg=f"{key}/{name}")


@pytest.mark.parametrize("model", MODELS)
def test_completeness_holds_on_the_test_split(model_store: Path, model: str) -> None:
    import tensorflow as tf

    manifest = _manifest(model_store, model)
    spec = manifest.explain
    assert spec is not None and spec.method == "integrated_gradients" and spec.steps >= 64
    assert spec.evaluation["test_split"]["holds"] and spec.evaluation["test_split"]["max_relative_error"] < 0.02
    task, data, _ = rebuild(model_store, model)
    loaded = tf.saved_model.load(str(model_store / model / "1")).signatures["explain"]

    def explain(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: v.numpy() for k, v in loaded(**{k: tf.constant(v) for k, v in batch.items()}).items()}

    rows = data.x_test if model == "fuel" else data.x_test[:200]
    out = run_chunked(explain, task.request(rows))
    assert spec.completeness_problems(out) == []
    relative = np.abs(out["completeness_error"]) / np.abs(out[spec.prediction_output] - out[spec.baseline_output])
    assert relative.max() < 0.02
    attributions = out["attributions"].reshape(len(rows), -1).sum(1)
    np.testing.assert_allclose(attributions - out["completeness_error"],
                               out[spec.prediction_output] - out[spec.baseline_output], rtol=1e-4, atol=1e-4)


def test_fuel_explains_in_mpg_from_the_medians(model_store: Path) -> None:
    import tensorflow as tf

    spec = _manifest(model_store, "fuel").explain
    assert spec.features == ["cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year",
                             "origin"]
    task, data, _ = rebuild(model_store, "fuel")
    assert spec.baseline["kind"] == "training_medians"
    np.testing.assert_allclose([spec.baseline["values"][f] for f in spec.features], data.info["medians"], rtol=1e-6)
    sigs = tf.saved_model.load(str(model_store / "fuel" / "1")).signatures
    medians = {f: tf.constant([v, v]) for f, v in spec.baseline["values"].items()}
    at_baseline = sigs["explain"](**medians)
    np.testing.assert_allclose(at_baseline["attributions"].numpy(), 0, atol=1e-6)  # nothing to explain
    rows = {k: tf.constant(v) for k, v in task.request(data.x_test[:5]).items()}
    out, plain = sigs["explain"](**rows), sigs["serving_default"](**rows)
    np.testing.assert_allclose(out["mpg"].numpy(), plain["mpg"].numpy(), rtol=1e-5)
    assert [n.decode() for n in out["feature_names"].numpy()[0]] == spec.features
    missing = dict(rows, horsepower=tf.constant([np.nan] * 5))  # imputed with the median: no attribution
    np.testing.assert_allclose(sigs["explain"](**missing)["attributions"].numpy()[:, 2], 0, atol=1e-6)


def test_defect_explains_the_predicted_or_a_requested_class(model_store: Path) -> None:
    import tensorflow as tf

    task, data, _ = rebuild(model_store, "defect")
    sigs = tf.saved_model.load(str(model_store / "defect" / "1")).signatures
    image = tf.constant(data.x_test[:4])
    out = sigs["explain"](image=image)
    plain = sigs["serving_default"](image=image)
    np.testing.assert_array_equal(out["class_id"].numpy(), plain["class_id"].numpy())
    np.testing.assert_array_equal(out["explained_class"].numpy(), plain["class_id"].numpy())
    assert out["attributions"].shape == (4, 28, 28, 1)
    assert [c.decode() for c in out["class_names"].numpy()[0]] == data.info["classes"]
    featureless = sigs["explain"](image=tf.fill([1, 28, 28, 1], 0.3))  # the baseline itself
    np.testing.assert_allclose(featureless["attributions"].numpy(), 0, atol=1e-5)
    requested = sigs["explain_class"](image=image, class_id=tf.constant([0, 0, 0, 0], tf.int64))
    assert requested["explained_class"].numpy().tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(requested["explained_probability"].numpy(), plain["probabilities"].numpy()[:, 0],
                               rtol=1e-4, atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="class_id must be < 5"):
        sigs["explain_class"](image=image[:1], class_id=tf.constant([7], tf.int64))


@pytest.mark.parametrize("model", MODELS)
def test_golden_explanations_reproduce_and_keep_completeness(model_store: Path, model: str) -> None:
    import tensorflow as tf

    manifest = _manifest(model_store, model)
    golden = manifest.explain.golden
    assert golden.signature_name == "explain"
    rows = len(next(iter(golden.inputs.values())))
    assert rows >= 4 and golden.inputs == {k: v[:rows] for k, v in manifest.golden.inputs.items()}
    assert "attributions" in golden.outputs and "feature_names" not in golden.outputs  # numeric outputs only
    sig = tf.saved_model.load(str(model_store / model / "1")).signatures["explain"]
    out = sig(**{k: tf.constant(np.asarray(v, np.float32)) for k, v in golden.inputs.items()})
    for key, expected in golden.outputs.items():
        np.testing.assert_allclose(out[key].numpy().astype(np.float64), np.asarray(expected, np.float64),
                                   rtol=golden.rtol, atol=golden.atol, err_msg=key)
    assert manifest.explain.completeness_problems({k: v.numpy() for k, v in out.items()}) == []
    broken = {k: v.numpy() for k, v in out.items()}
    broken["completeness_error"] = broken["completeness_error"] + 1.0
    assert len(manifest.explain.completeness_problems(broken)) == len(broken["completeness_error"])
