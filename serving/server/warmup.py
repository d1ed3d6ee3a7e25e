"""Warmup replay (``saved_model_warmup_util.cc``): before a version becomes AVAILABLE, replay the
``PredictionLog`` records in ``assets.extra/tf_serving_warmup_requests``.

No file is fine. At most 1000 records. Any error, or a file that is not TFRecord, fails the load.
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

__all__ = ["WARMUP_FILE", "MAX_RECORDS", "replay_warmup"]

log = logging.getLogger(__name__)
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
MAX_RECORDS = 1000


def _records(path: str):
    from tensorflow.python.lib.io import tf_record

    return tf_record.tf_record_iterator(path)


def _run_one(inference: Inference, servable: Servable, entry: PredictionLog) -> None:
    kind = entry.WhichOneof("log_type")
    if kind == "predict_log":
        request = entry.predict_log.request
        request.model_spec.SetInParent()
        inference.run_predict(request, servable=servable)
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
    try:
        try:
            for record in _records(path):
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
        except ServingError:
            raise
        except Exception as exc:  # noqa: BLE001 - TF's DataLossError and friends
            code = getattr(exc, "error_code", None)
            message = getattr(exc, "message", str(exc))
            if code == Code.DATA_LOSS:
                raise ServingError(Code.DATA_LOSS, f"{message}. Please verify your warmup data is in TFRecord format.") from exc
            raise ServingError(Code(code) if code is not None else Code.UNKNOWN, message) from exc
    except ServingError as exc:
        status = f"{exc.code.name}: {exc.message}"
        raise
    finally:
        metrics.warmup_latency.observe(servable.path, status, value=(time.perf_counter() - start) * 1e6)
        metrics.warmup_records_read.inc(servable.path, "OK" if status == "OK" else status.split(":")[0], amount=count)
    log.info("Finished reading warmup data for model at %s. Number of warmup records read: %d.", path, count)
    return count
