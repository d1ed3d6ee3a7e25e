"""Warmup replay (``saved_model_warmup_util.cc``): before a version becomes AVAILABLE, replay the
``PredictionLog`` records in ``assets.extra/tf_serving_warmup_requests``.

No file is fine. At most 1000 records. Any error, or a file that is not TFRecord, fails the load.
The file is read with :mod:`serving.server.tfrecord` (TensorFlow's record format and messages).
"""
from __future__ import annotations

import logging
import os
import time

from serving.protocol.messages import PredictionLog
from serving.server.inference import Inference
from serving.server.metrics import ServingMetrics
from serving.server.servable import Servable
from serving.server.status import Code, ServingError
from serving.server.tfrecord import RecordError, read_records

__all__ = ["WARMUP_FILE", "MAX_RECORDS", "replay_warmup"]

log = logging.getLogger(__name__)
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
MAX_RECORDS = 1000
#: Warmup records come with the model: ``--max_request_elements`` bounds requests from the network only.
UNBOUNDED = 2**63 - 1


def _run_one(inference: Inference, servable: Servable, entry: PredictionLog) -> None:
    kind = entry.WhichOneof("log_type")
    if kind == "predict_log":
        request = entry.predict_log.request
        request.model_spec.SetInParent()
        inference.run_predict(request, servable=servable, limit=UNBOUNDED)
    elif kind == "classify_log":
        request = entry.classify_log.request
        request.model_spec.SetInParent()
        inference.run_classify(request, servable=servable)
    elif kind == "regress_log":
        request = entry.regress_log.request
        request.model_spec.SetInParent()
        inference.run_regress(request, servable=servable)
    elif kind == "multi_inference_log":
        inference.run_multi_inference(entry.multi_inference_log.request, servable=servable)
    else:
        raise ServingError(Code.UNIMPLEMENTED, f"Unsupported log_type for warmup: {kind}")


def replay_warmup(inference: Inference, metrics: ServingMetrics, servable: Servable, iterations: int = 1) -> int:
    """Replay the version's warmup file; returns the number of records. Raises ``ServingError``."""
    path = os.path.join(servable.path, WARMUP_FILE)
    if not os.path.exists(path):
        log.info("No warmup data file found at %s", path)
        return 0
    start = time.perf_counter()
    count = 0
    status = "OK"
    log.info("Starting to read warmup data for model at %s with model-warmup-options", path)
    with open(path, "rb") as stream:
        try:
            for record in read_records(stream):
                entry = PredictionLog()
                try:
                    entry.ParseFromString(record)
                except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError
                    raise ServingError(Code.INVALID_ARGUMENT,
                                       f"Failed to parse warmup record: {record[:64]!r} from {path}") from exc
                for _ in range(max(iterations, 1)):
                    _run_one(inference, servable, entry)
                count += 1
                if count > MAX_RECORDS:
                    raise ServingError(Code.INVALID_ARGUMENT,
                                       f"Number of warmup records exceeds the maximum ({MAX_RECORDS}) at {path}")
        except RecordError as exc:  # what TF Serving records in the metrics: "DATA_LOSS: <message>"
            status = f"{Code(exc.code).name}: {exc.message}"
            error = ServingError(Code(exc.code), f"{exc.message}. Please verify your warmup data is in TFRecord format.")
        else:
            error = None
    elapsed = (time.perf_counter() - start) * 1e6
    metrics.warmup_latency.observe(servable.path, status, value=elapsed)
    metrics.warmup_records_read.inc(servable.path, status, amount=count)
    if error is not None:
        raise error
    log.info("Finished reading warmup data for model at %s. Number of warmup records read: %d. Elapsed time "
             "(microseconds): %d.", path, count, elapsed)
    return count
