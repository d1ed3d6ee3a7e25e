"""Write one version directory: the SavedModel, its warmup requests and the parent weights.

The manifest is not written here (see :mod:`training.pipeline`): it comes last, once every
other file exists and has been checked.
"""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .models.base import PredictFn, Task, TrustFit
from .signature_names import restore_tensor_names, signature_defs

__all__ = [
    "export_version",
    "describe_signatures",
    "load_predict_fn",
    "load_signatures",
    "read_warmup",
    "WARMUP_PATH",
    "WEIGHTS_PATH",
    "WARMUP_BATCH_SIZES",
]

log = logging.getLogger(__name__)

WARMUP_PATH = "assets.extra/tf_serving_warmup_requests"
#: Model weights in Keras order, read by the incremental and finetune strategies of the next run.
WEIGHTS_PATH = "assets.extra/plantserve/weights.npz"
#: Every batch size a server with batching may form (TFSERVING.md §8 allowed_batch_sizes).
WARMUP_BATCH_SIZES = (1, 2, 4, 8, 16, 32)
#: Records per batch size; TF Serving reads at most 1000 records.
WARMUP_REPEATS = 2
#: Signatures beyond serving_default warmed up with one single-row record each, when exported.
WARMUP_EXTRA_SIGNATURES = ("explain", "trust")


def _set_method_names(export_dir: Path, method_names: dict[str, str]) -> None:
    """TF2 saves every signature as predict; TF Serving routes Classify/Regress by method_name."""
    from tensorflow.core.protobuf import saved_model_pb2

    pb_path = export_dir / "saved_model.pb"
    saved = saved_model_pb2.SavedModel.FromString(pb_path.read_bytes())
    for meta_graph in saved.meta_graphs:
        for name, method in method_names.items():
            meta_graph.signature_def[name].method_name = method
    pb_path.write_bytes(saved.SerializeToString())
    try:  # keep fingerprint.pb consistent with the rewritten saved_model.pb
        from tensorflow.python.saved_model.pywrap_saved_model import fingerprinting

        (export_dir / "fingerprint.pb").write_bytes(fingerprinting.CreateFingerprintDef(str(export_dir)))
    except (ImportError, AttributeError) as exc:  # pragma: no cover - TF internals moved
        log.warning("could not refresh fingerprint.pb: %s", exc)


def describe_signatures(export_dir: Path) -> dict[str, Any]:
    """Signature name -> method name, inputs and outputs with TF Serving's dtype names and shapes."""
    from tensorflow.core.protobuf import saved_model_pb2  # TensorFlow's own MetaGraphDef

    from serving.protocol.dtypes import dtype_name

    saved = saved_model_pb2.SavedModel.FromString((export_dir / "saved_model.pb").read_bytes())
    described = {}
    for name, sig in saved.meta_graphs[0].signature_def.items():
        if name.startswith("__"):
            continue

        def tensors(infos) -> dict[str, Any]:
            return {k: {"dtype": dtype_name(v.dtype),
                        "shape": None if v.tensor_shape.unknown_rank else [d.size for d in v.tensor_shape.dim]}
                    for k, v in sorted(infos.items())}

        described[name] = {"method_name": sig.method_name, "inputs": tensors(sig.inputs),
                           "outputs": tensors(sig.outputs)}
    return described


def _write_warmup(path: Path, model_name: str, task: Task, x_rows: np.ndarray, signatures: set[str]) -> int:
    import tensorflow as tf

    from serving.protocol import messages
    from serving.protocol.tensors import to_tensor_proto

    path.parent.mkdir(parents=True, exist_ok=True)
    plan = [("serving_default", size, repeat) for size in WARMUP_BATCH_SIZES for repeat in range(WARMUP_REPEATS)]
    plan += [(name, 1, 0) for name in WARMUP_EXTRA_SIGNATURES if name in signatures]
    with tf.io.TFRecordWriter(str(path)) as writer:
        for signature, size, repeat in plan:
            start = (size * repeat) % max(len(x_rows) - size, 1)
            rows = x_rows[start:start + size]
            if len(rows) < size:
                rows = np.resize(rows, (size, *rows.shape[1:])).astype(x_rows.dtype)
            request = messages.PredictRequest(
                model_spec=messages.ModelSpec(name=model_name, signature_name=signature))
            for key, value in task.request(rows).items():
                to_tensor_proto(value, proto=request.inputs[key])
            log_record = messages.PredictionLog(predict_log=messages.PredictLog(request=request))
            writer.write(log_record.SerializeToString())
    return len(plan)


def read_warmup(path: Path) -> list[Any]:
    """Parse a warmup file into PredictionLog messages (raises on a corrupt file)."""
    import tensorflow as tf

    from serving.protocol.messages import PredictionLog

    return [PredictionLog.FromString(raw.numpy()) for raw in tf.data.TFRecordDataset(str(path))]


def load_predict_fn(export_dir: Path, signature: str = "serving_default") -> PredictFn:
    """The exported signature as a numpy function, as a server would run it."""
    return load_signatures(export_dir)[signature]


def load_signatures(export_dir: Path) -> dict[str, PredictFn]:
    """Every exported signature as a numpy function, from one load of the SavedModel."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(export_dir))

    def bind(fn: Any) -> PredictFn:
        def predict(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            out = fn(**{k: tf.constant(v) for k, v in inputs.items()})
            return {k: v.numpy() for k, v in out.items()}

        predict.loaded = loaded  # keep the trackable alive as long as the function
        return predict

    return {name: bind(fn) for name, fn in loaded.signatures.items()}


def export_version(task: Task, model: Any, data, dest: Path, model_name: str, trust: TrustFit | None = None,
                   explain_steps: int | None = None) -> int:
    """Write the SavedModel, warmup file and weights into ``dest``; returns the warmup record count.

    With ``trust``, the SavedModel also serves the ``explain`` signatures and ``trust``."""
    import tensorflow as tf

    module, signatures = task.servable(model, data, trust, explain_steps)
    tf.saved_model.save(module, str(dest), signatures=signatures)
    if trust is not None:
        # The prediction signatures keep the tensor names an export without the extra ones gives.
        with tempfile.TemporaryDirectory(prefix="plantserve-reference-") as tmp:
            plain_module, plain_signatures = task.servable(model, data)
            tf.saved_model.save(plain_module, tmp, signatures=plain_signatures)
            reference = {k: v for k, v in signature_defs(Path(tmp)).items() if k in plain_signatures}
        moved = restore_tensor_names(dest, reference)
        log.debug("renamed nodes to keep the prediction signatures' tensor names: %s", moved)
    _set_method_names(dest, task.method_names())
    records = _write_warmup(dest / WARMUP_PATH, model_name, task, data.x_val, set(signatures))
    weights = dest / WEIGHTS_PATH
    weights.parent.mkdir(parents=True, exist_ok=True)
    with open(weights, "wb") as fh:
        np.savez(fh, *model.get_weights())
    return records
