import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import classification_pb2, prediction_log_pb2

from serving.server.inference import Inference
from serving.server.manager import LoadSettings, ModelManager
from serving.server.metrics import ServingMetrics
from serving.server.servable import load_servable
from serving.server.status import Code, ServingError
from serving.server.warmup import WARMUP_FILE, replay_warmup
from tests.server.tinymodels import publish_defect, write_bad_warmup


@pytest.fixture
def inference():
    metrics = ServingMetrics()
    manager = ModelManager(lambda *a: None, LoadSettings())
    return Inference(manager, manager.monitor, metrics), metrics


def _write(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)


def test_replays_predict_and_classify_logs(tmp_path, inference):
    inf, metrics = inference
    version = publish_defect(tmp_path / "defect" / "1")
    request = classification_pb2.ClassificationRequest()
    request.model_spec.signature_name = "classify"
    request.input.example_list.examples.add().features.feature["image"].float_list.value.extend([0.0] * 784)
    extra = prediction_log_pb2.PredictionLog(classify_log=prediction_log_pb2.ClassifyLog(request=request))
    path = version / WARMUP_FILE
    records = list(tf.compat.v1.io.tf_record_iterator(str(path))) + [extra.SerializeToString()]
    _write(path, records)
    servable = load_servable("defect", 1, str(version), ("serve",))
    assert replay_warmup(inf, metrics, servable) == 7
    assert metrics.warmup_latency.count(str(version), "OK") == 1
    assert metrics.runtime_latency.count("", "Classify", "TF1") == 1  # the record's own (empty) model name


def test_not_a_tfrecord_fails(tmp_path, inference):
    inf, metrics = inference
    version = publish_defect(tmp_path / "defect" / "1", warmup=False)
    write_bad_warmup(version)
    servable = load_servable("defect", 1, str(version), ("serve",))
    with pytest.raises(ServingError) as info:
        replay_warmup(inf, metrics, servable)
    assert info.value.code == Code.DATA_LOSS
    assert info.value.message == ("corrupted record at 0 (Is this even a TFRecord file?). Please verify your warmup "
                                  "data is in TFRecord format.")
    assert metrics.warmup_records_read.value(str(version), "DATA_LOSS: corrupted record at 0 (Is this even a "
                                             "TFRecord file?)") == 0
    assert metrics.warmup_latency.count(str(version), "DATA_LOSS: corrupted record at 0 (Is this even a "
                                        "TFRecord file?)") == 1


def test_too_many_records_and_bad_requests_fail(tmp_path, inference):
    inf, metrics = inference
    version = publish_defect(tmp_path / "defect" / "1", warmup=False)
    servable = load_servable("defect", 1, str(version), ("serve",))
    empty = prediction_log_pb2.PredictionLog(classify_log=prediction_log_pb2.ClassifyLog()).SerializeToString()
    _write(version / WARMUP_FILE, [empty])
    with pytest.raises(ServingError, match="No classification inputs found in SignatureDef: "):
        replay_warmup(inf, metrics, servable)  # defect's serving_default takes "image", not "inputs"
    log = prediction_log_pb2.PredictionLog()
    log.predict_log.request.inputs["image"].CopyFrom(tf.make_tensor_proto(np.zeros((1, 28, 28, 1), np.float32)))
    _write(version / WARMUP_FILE, [log.SerializeToString()] * 1001)
    with pytest.raises(ServingError, match=r"Number of warmup records exceeds the maximum \(1000\)"):
        replay_warmup(inf, metrics, servable)


def test_no_file_is_fine(tmp_path, inference):
    inf, metrics = inference
    version = publish_defect(tmp_path / "defect" / "1", warmup=False)
    assert replay_warmup(inf, metrics, load_servable("defect", 1, str(version), ("serve",))) == 0
