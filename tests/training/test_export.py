"""Acceptance 1-3 of the training issue, on versions published by ``plantserve train``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from serving.store import open_store
from serving.store.manifest import sha256_file
from serving.store.repository import ModelRepository
from training.export import WARMUP_BATCH_SIZES, read_warmup

MODELS = ("fuel", "defect")


def _version_dir(store: Path, model: str) -> Path:
    repo = ModelRepository(open_store(str(store)), model)
    return store / model / str(repo.latest())


def _example(features: dict) -> bytes:
    import tensorflow as tf

    return tf.train.Example(features=tf.train.Features(feature={
        k: tf.train.Feature(float_list=tf.train.FloatList(value=np.ravel(v).tolist())) for k, v in features.items()
    })).SerializeToString()


@pytest.mark.parametrize("model", MODELS)
def test_every_signature_serves_and_matches_manifest(model_store: Path, model: str) -> None:
    import tensorflow as tf

    vdir = _version_dir(model_store, model)
    manifest = ModelRepository(open_store(str(model_store)), model).manifest(int(vdir.name))
    loaded = tf.saved_model.load(str(vdir))
    assert set(loaded.signatures) == set(manifest.signatures)
    golden = manifest.golden
    batch = len(next(iter(golden.inputs.values())))
    for name, spec in manifest.signatures.items():
        assert spec["inputs"] and spec["outputs"]
        for tensor in spec["inputs"].values():
            assert tensor["shape"][0] == -1  # a batch dimension of None
        fn = loaded.signatures[name]
        if spec["method_name"] == "tensorflow/serving/predict":
            inputs = {k: tf.constant(np.asarray(v, np.float32)) for k, v in golden.inputs.items()}
            if "class_id" in spec["inputs"]:  # explain_class: the class to explain, per row
                inputs["class_id"] = tf.zeros([batch], tf.int64)
            out = fn(**inputs)
        else:  # classify / regress take serialized tf.Examples
            rows = [{k: np.asarray(v)[i] for k, v in golden.inputs.items()} for i in range(batch)]
            if model == "defect":
                rows = [{"image": r["image"]} for r in rows]
            out = fn(inputs=tf.constant([_example(r) for r in rows]))
        assert set(out) == set(spec["outputs"])
        for key, tensor in out.items():
            declared = spec["outputs"][key]
            assert tensor.dtype.as_datatype_enum == tf.dtypes.as_dtype(
                {"DT_FLOAT": tf.float32, "DT_INT64": tf.int64, "DT_STRING": tf.string, "DT_BOOL": tf.bool}[declared["dtype"]]
            ).as_datatype_enum
            assert tensor.shape[0] == batch
            assert [d for d in tensor.shape[1:]] == declared["shape"][1:]
    methods = {s["method_name"] for s in manifest.signatures.values()}
    expected = {"fuel": "tensorflow/serving/regress", "defect": "tensorflow/serving/classify"}[model]
    assert expected in methods


@pytest.mark.parametrize("model", MODELS)
def test_golden_outputs_reproduce(model_store: Path, model: str) -> None:
    import tensorflow as tf

    vdir = _version_dir(model_store, model)
    golden = ModelRepository(open_store(str(model_store)), model).manifest(int(vdir.name)).golden
    fn = tf.saved_model.load(str(vdir)).signatures[golden.signature_name]
    out = fn(**{k: tf.constant(np.asarray(v, np.float32)) for k, v in golden.inputs.items()})
    for key, expected in golden.outputs.items():
        np.testing.assert_allclose(out[key].numpy(), np.asarray(expected), rtol=golden.rtol, atol=golden.atol)


@pytest.mark.parametrize("model", MODELS)
def test_files_match_manifest_and_manifest_is_the_marker(model_store_copy: Path, model: str) -> None:
    vdir = _version_dir(model_store_copy, model)
    repo = ModelRepository(open_store(str(model_store_copy)), model)
    manifest = repo.manifest(int(vdir.name))
    on_disk = sorted(p.relative_to(vdir).as_posix() for p in vdir.rglob("*") if p.is_file())
    assert on_disk == sorted([f.path for f in manifest.files] + ["manifest.json"])
    for entry in manifest.files:
        assert sha256_file(vdir / entry.path) == entry.sha256
        assert (vdir / entry.path).stat().st_size == entry.size
    assert {"saved_model.pb", "assets.extra/tf_serving_warmup_requests"} <= {f.path for f in manifest.files}
    assert manifest.data_fingerprint.startswith("sha256:") and manifest.metrics and manifest.golden
    (vdir / "manifest.json").unlink()
    assert repo.versions() == []


@pytest.mark.parametrize("model", MODELS)
def test_warmup_records_parse_and_replay(model_store: Path, model: str) -> None:
    import tensorflow as tf

    vdir = _version_dir(model_store, model)
    records = read_warmup(vdir / "assets.extra" / "tf_serving_warmup_requests")
    assert 0 < len(records) <= 1000
    loaded = tf.saved_model.load(str(vdir))
    sizes = set()
    for record in records:
        assert record.WhichOneof("log_type") == "predict_log"
        request = record.predict_log.request
        assert request.model_spec.name == model
        fn = loaded.signatures[request.model_spec.signature_name or "serving_default"]
        inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
        out = fn(**inputs)
        size = next(iter(inputs.values())).shape[0]
        assert all(t.shape[0] == size for t in out.values())
        sizes.add(size)
    assert sizes == set(WARMUP_BATCH_SIZES)


def test_quality_targets(model_store: Path) -> None:
    """Acceptance 8: fuel test MAE <= 2.0 mpg; defect accuracy >= 95% on held-out generated data."""
    fuel = ModelRepository(open_store(str(model_store)), "fuel").manifest(1)
    defect = ModelRepository(open_store(str(model_store)), "defect").manifest(1)
    assert fuel.metrics["mae"] <= 2.0, fuel.metrics
    assert defect.metrics["accuracy"] >= 0.95, defect.metrics
    assert set(defect.metrics["per_class"]) == {"clean", "scratch", "pit", "crack", "inclusion"}
    assert np.asarray(defect.metrics["confusion_matrix"]).sum() == defect.metrics["test_rows"]
