"""Classify, Regress and MultiInference on ``tf.Example`` inputs, with TF Serving's checks, their order
and their words (``classifier.cc``, ``regressor.cc``, ``multi_inference.cc``, ``servables/tensorflow/util.cc``).

A signature is checked before anything runs (one input named ``inputs``; ``classes``/``scores`` or
``outputs``), the examples are serialized into one string tensor, and the *output tensors* are
checked after the run (rank, dtype, batch size), as TF Serving does.

>>> shape_text(np.zeros((2, 5)))
'[2,5]'
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
from google.protobuf import text_format

from serving.protocol import messages
from serving.protocol.dtypes import DT_FLOAT, DT_STRING, dtype_name
from serving.server.servable import enum_of
from serving.server.status import Code, ServingError

__all__ = ["CLASSIFY", "REGRESS", "serialized_examples", "classification_signature", "regression_signature",
           "classify_tensors", "regress_tensors", "classification_result", "regression_result", "shape_text"]

CLASSIFY, REGRESS = "tensorflow/serving/classify", "tensorflow/serving/regress"


def _bad(message: str) -> ServingError:
    return ServingError(Code.INVALID_ARGUMENT, message)


def debug_string(signature_def) -> str:
    """C++ ``DebugString()`` of a SignatureDef: text format, map entries sorted by key."""
    return text_format.MessageToString(signature_def)


def shape_text(array: np.ndarray) -> str:
    """``TensorShape::DebugString()``."""
    return "[" + ",".join(str(d) for d in array.shape) + "]"


def serialized_examples(input_proto) -> np.ndarray:
    """``InputToSerializedExampleTensor``: one string per example, the context's bytes first."""
    kind = input_proto.WhichOneof("kind")
    if kind == "example_list":
        items = [e.SerializeToString() for e in input_proto.example_list.examples]
    elif kind == "example_list_with_context":
        context = input_proto.example_list_with_context.context.SerializeToString()
        items = [context + e.SerializeToString() for e in input_proto.example_list_with_context.examples]
    else:
        items = []
    if not items:
        raise _bad("Input is empty.")
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _find(signatures: Mapping, key: str):
    signature = signatures.get(key)
    if signature is None:
        raise _bad(f"No signature was found with the name: {key}")
    return signature


def classify_tensors(sig) -> tuple[str, list[str]]:
    """``PreProcessClassification``: the input tensor's name and the output tensors' names."""
    if len(sig.inputs) != 1:
        raise _bad("Expected one input Tensor.")
    if len(sig.outputs) not in (1, 2):
        raise _bad(f"Expected one or two output Tensors, found {len(sig.outputs)}")
    if "inputs" not in sig.inputs:
        raise _bad(f"No classification inputs found in SignatureDef: {debug_string(sig)}")
    if "classes" not in sig.outputs and "scores" not in sig.outputs:
        raise _bad('Expected classification signature outputs to contain at least one of "classes" or "scores". '
                   f"Signature was: {debug_string(sig)}")
    return sig.inputs["inputs"].name, [sig.outputs[k].name for k in ("classes", "scores") if k in sig.outputs]


def regress_tensors(sig) -> tuple[str, list[str]]:
    """``PreProcessRegression``."""
    if len(sig.inputs) != 1:
        raise _bad("Expected one input Tensor.")
    if len(sig.outputs) != 1:
        raise _bad("Expected one output Tensor.")
    if "inputs" not in sig.inputs:
        raise _bad(f"No regression inputs found in SignatureDef: {debug_string(sig)}")
    if "outputs" not in sig.outputs:
        raise _bad(f"No regression outputs found in SignatureDef: {debug_string(sig)}")
    return sig.inputs["inputs"].name, [sig.outputs["outputs"].name]


def _method_check(sig, key: str, want: str, enabled: bool) -> None:
    kind = "classification" if want == CLASSIFY else "regression"
    if enabled and sig.method_name != want:
        raise _bad(f"Expected {kind} signature method_name to be {want}. Was: {sig.method_name}")


def classification_signature(signatures: Mapping, key: str, method_check: bool = False):
    """``GetClassificationSignatureDef``."""
    sig = _find(signatures, key)
    _method_check(sig, key, CLASSIFY, method_check)
    classify_tensors(sig)
    return sig


def regression_signature(signatures: Mapping, key: str, method_check: bool = False):
    """``GetRegressionSignatureDef``."""
    sig = _find(signatures, key)
    _method_check(sig, key, REGRESS, method_check)
    regress_tensors(sig)
    return sig


def _check_matrix(name: str, array: np.ndarray, want: int, n: int) -> None:
    if array.ndim != 2:
        raise _bad(f"Expected Tensor shape: [batch_size num_classes] but got {shape_text(array)}")
    got = DT_STRING if array.dtype.kind == "O" else (DT_FLOAT if array.dtype == np.float32 else None)
    if got != want:
        raise _bad(f"Expected {name} Tensor of {dtype_name(want)}. Got: {_dtype_text(array)}")
    if array.shape[0] != n:
        raise _bad(f"Expected {name} output batch size of {n}. Got: {array.shape[0]}")


def _dtype_text(array: np.ndarray) -> str:
    return dtype_name(enum_of(array))


def classification_result(sig, n: int, outputs: Mapping[str, np.ndarray]) -> messages.ClassificationResult:
    """``PostProcessClassificationResult``; ``outputs`` maps tensor names to arrays."""
    classes = outputs.get(sig.outputs["classes"].name) if "classes" in sig.outputs else None
    scores = outputs.get(sig.outputs["scores"].name) if "scores" in sig.outputs else None
    if classes is not None:
        _check_matrix("classes", classes, DT_STRING, n)
    if scores is not None:
        _check_matrix("scores", scores, DT_FLOAT, n)
    if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
        raise _bad(f"Tensors class and score should match in dim_size(1). Got {classes.shape[1]} vs. "
                   f"{scores.shape[1]}")
    width = (classes if classes is not None else scores).shape[1] if (classes is not None or scores is not None) else 0
    result = messages.ClassificationResult()
    for i in range(n):
        row = result.classifications.add()
        for j in range(width):
            entry = row.classes.add()
            if classes is not None:
                label = classes[i, j]
                entry.label = label.decode("utf-8", "replace") if isinstance(label, bytes) else str(label)
            if scores is not None:
                entry.score = float(scores[i, j])
    return result


def regression_result(sig, n: int, outputs: Mapping[str, np.ndarray]) -> messages.RegressionResult:
    """``PostProcessRegressionResult``."""
    name = sig.outputs["outputs"].name
    values = outputs.get(name)
    if values is None:
        raise _bad(f"Could not find output tensor '{name}'")
    if not (values.ndim == 1 or (values.ndim == 2 and values.shape[1] == 1)):
        raise _bad("Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
                   f"{shape_text(values)}")
    if values.shape[0] != n:
        raise _bad(f"Input batch size did not match output batch size: {n} vs. {values.shape[0]}")
    if values.dtype != np.float32:
        raise _bad(f"Expected output Tensor of DT_FLOAT.  Got: {_dtype_text(values)}")
    if values.size != n:
        raise _bad(f"Expected output batch size to be {n}.  Got: {values.size}")
    result = messages.RegressionResult()
    for value in values.reshape(-1).tolist():
        result.regressions.add(value=value)
    return result
