"""Predict, Classify, Regress, MultiInference, GetModelMetadata and GetModelStatus on protos, with TF
Serving's checks, order of checks and messages. Both front ends and the warmup replay call these.

Each ``run_*`` takes a request proto and an optional monotonic ``deadline`` and returns the response
proto, or raises ``ServingError``.
"""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from serving.protocol import messages
from serving.protocol.tensors import TensorError, to_ndarray, to_tensor_proto
from serving.server.manager import ModelManager
from serving.server.metrics import ServingMetrics
from serving.server.monitor import StateMonitor
from serving.server.servable import Servable, Signature
from serving.server.status import Code, ServingError, from_tf_error

__all__ = ["Inference", "DEFAULT_SIGNATURE"]

DEFAULT_SIGNATURE = "serving_default"
#: Larger input tensors are refused before they are decoded.
MAX_TENSOR_ELEMENTS = 2**31


def _deadline_check(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() >= deadline:
        raise ServingError(Code.DEADLINE_EXCEEDED, "Deadline exceeded")


def _model_spec(request):
    if not request.HasField("model_spec"):
        raise ServingError(Code.INVALID_ARGUMENT, "Missing ModelSpec")
    return request.model_spec


def _fill_spec(out, name: str, version: int, signature: str | None) -> None:
    out.name = name
    out.version.value = version
    if signature is not None:
        out.signature_name = signature


def serialized_examples(input_proto) -> np.ndarray:
    """``InputToSerializedExampleTensor``: the examples as serialized strings (context merged in)."""
    kind = input_proto.WhichOneof("kind")
    if kind == "example_list":
        items = [e.SerializeToString() for e in input_proto.example_list.examples]
    elif kind == "example_list_with_context":
        ctx = input_proto.example_list_with_context.context.SerializeToString()
        items = [ctx + e.SerializeToString() for e in input_proto.example_list_with_context.examples]
    else:
        items = []
    if not items:
        raise ServingError(Code.INVALID_ARGUMENT, "Input is empty.")
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return arr


class Inference:
    """The request logic, bound to a manager (lookups), a monitor (status) and the metrics."""

    def __init__(self, manager: ModelManager, monitor: StateMonitor, metrics: ServingMetrics,
                 as_tensor_content: bool = False) -> None:
        self.manager, self.monitor, self.metrics = manager, monitor, metrics
        self.as_tensor_content = as_tensor_content

    def resolve(self, spec) -> Servable:
        which = spec.WhichOneof("version_choice")
        if which == "version":
            return self.manager.servable(spec.name, version=spec.version.value)
        if which == "version_label":
            return self.manager.servable(spec.name, label=spec.version_label)
        return self.manager.servable(spec.name)

    def _call(self, servable: Servable, signature: Signature, arrays: list[np.ndarray], api: str,
              deadline: float | None) -> list[np.ndarray]:
        _deadline_check(deadline)
        start = time.perf_counter()
        try:
            outputs = signature.call(arrays)
        except ServingError:
            raise
        except Exception as exc:  # noqa: BLE001 - TF runtime errors keep their canonical code
            raise from_tf_error(exc) from exc
        self.metrics.runtime_latency.observe(servable.name, api, "TF1", value=(time.perf_counter() - start) * 1e6)
        _deadline_check(deadline)
        return outputs

    # ----- Predict --------------------------------------------------------------------------------
    def predict_arrays(self, servable: Servable, signature_name: str, inputs: dict[str, np.ndarray],
                       output_filter: Sequence[str] = (), deadline: float | None = None) -> dict[str, np.ndarray]:
        key = signature_name or DEFAULT_SIGNATURE
        signature = servable.signature(key)
        if signature is None:
            raise ServingError(Code.FAILED_PRECONDITION, f'Serving signature key "{key}" not found.')
        names = signature.input_names
        if len(inputs) != len(names):
            sent, want = set(inputs), set(names)
            raise ServingError(Code.INVALID_ARGUMENT, (
                f"input size does not match signature: {len(inputs)}!={len(names)} "
                f"len({{{','.join(sorted(sent))}}}) != len({{{','.join(sorted(want))}}}). "
                f"Sent extra: {{{','.join(sorted(sent - want))}}}. "
                f"Missing but required: {{{','.join(sorted(want - sent))}}}."))
        for alias in inputs:
            if alias not in signature.signature_def.inputs:
                raise ServingError(Code.INVALID_ARGUMENT, (
                    f"input tensor alias not found in signature: {alias}. Inputs expected to be in the set "
                    f"{{{','.join(names)}}}."))
        arrays = [inputs[n] for n in names]
        for i, arr in enumerate(arrays):
            signature.check_input(i, arr)
        wanted = list(output_filter)
        seen: set[str] = set()
        for alias in wanted:
            if alias not in signature.signature_def.outputs:
                raise ServingError(Code.INVALID_ARGUMENT, (
                    f"output tensor alias not found in signature: {alias} Outputs expected to be in the set "
                    f"{{{','.join(signature.output_names)}}}."))
            if alias in seen:
                raise ServingError(Code.INVALID_ARGUMENT, f"duplicate output tensor alias: {alias}")
            seen.add(alias)
        outputs = self._call(servable, signature, arrays, "Predict", deadline)
        result = dict(zip(signature.output_names, outputs))
        return {k: result[k] for k in wanted} if wanted else result

    def run_predict(self, request: messages.PredictRequest, deadline: float | None = None,
                    servable: Servable | None = None) -> messages.PredictResponse:
        spec = _model_spec(request)
        servable = servable or self.resolve(spec)
        key = spec.signature_name or DEFAULT_SIGNATURE
        if servable.signature(key) is None:
            raise ServingError(Code.FAILED_PRECONDITION, f'Serving signature key "{key}" not found.')
        inputs = {}
        for alias, proto in request.inputs.items():
            try:
                inputs[alias] = to_ndarray(proto, max_elements=MAX_TENSOR_ELEMENTS)
            except TensorError as exc:
                raise ServingError(Code.INVALID_ARGUMENT, f"tensor parsing error: {alias}") from exc
        outputs = self.predict_arrays(servable, key, inputs, request.output_filter, deadline)
        response = messages.PredictResponse()
        _fill_spec(response.model_spec, spec.name, servable.version, key)
        for alias, arr in outputs.items():
            to_tensor_proto(arr, content=self.as_tensor_content, proto=response.outputs[alias])
        return response

    # ----- Classify / Regress -----------------------------------------------------------------------
    def _example_signature(self, servable: Servable, spec) -> tuple[str, Signature]:
        key = spec.signature_name or DEFAULT_SIGNATURE
        signature = servable.signature(key)
        if signature is None:
            raise ServingError(Code.INVALID_ARGUMENT, f"No signature was found with the name: {key}")
        if len(signature.input_names) != 1:
            raise ServingError(Code.INVALID_ARGUMENT, "Expected one input Tensor.")
        return key, signature

    def _run_examples(self, servable: Servable, signature: Signature, input_proto, api: str,
                      deadline: float | None) -> tuple[int, dict[str, np.ndarray]]:
        examples = serialized_examples(input_proto)
        self.metrics.example_counts.observe(servable.name, value=len(examples))
        self.metrics.example_count_total.inc(servable.name, amount=len(examples))
        if signature.input_dtypes[0] != 7:
            raise ServingError(Code.INVALID_ARGUMENT, "Expects arg[0] to be "
                               f"{signature.signature_def.inputs[signature.input_names[0]].dtype} but string is provided")
        outputs = self._call(servable, signature, [examples], api, deadline)
        return len(examples), dict(zip(signature.output_names, outputs))

    def classify_result(self, servable: Servable, spec, input_proto, deadline: float | None = None):
        key, signature = self._example_signature(servable, spec)
        outs = signature.signature_def.outputs
        if "classes" not in outs and "scores" not in outs:
            raise ServingError(Code.INVALID_ARGUMENT, "Expected classification signature outputs to contain at "
                               "least one of classes or scores.")
        if "classes" in outs and outs["classes"].dtype != 7:
            raise ServingError(Code.INVALID_ARGUMENT, f"Expected classes Tensor of DT_STRING.  Got: {outs['classes'].dtype}")
        if "scores" in outs and outs["scores"].dtype != 1:
            raise ServingError(Code.INVALID_ARGUMENT, f"Expected scores Tensor of DT_FLOAT.  Got: {outs['scores'].dtype}")
        n, result = self._run_examples(servable, signature, input_proto, "Classify", deadline)
        classes, scores = result.get("classes"), result.get("scores")
        for name, arr in (("classes", classes), ("scores", scores)):
            if arr is not None and (arr.ndim != 2 or arr.shape[0] != n):
                raise ServingError(Code.INVALID_ARGUMENT, f"Expected {name} Tensor shape: [batch_size num_classes] "
                                   f"but got [{','.join(map(str, arr.shape))}]")
        if classes is not None and scores is not None and classes.shape != scores.shape:
            raise ServingError(Code.INVALID_ARGUMENT, "Tensors class and score should match in shape.")
        out = messages.ClassificationResult()
        width = (classes if classes is not None else scores).shape[1]
        for i in range(n):
            row = out.classifications.add()
            for j in range(width):
                cls = row.classes.add()
                if classes is not None:
                    cls.label = classes[i, j].decode("utf-8", "replace") if isinstance(classes[i, j], bytes) else str(classes[i, j])
                if scores is not None:
                    cls.score = float(scores[i, j])
        return key, out

    def regress_result(self, servable: Servable, spec, input_proto, deadline: float | None = None):
        key, signature = self._example_signature(servable, spec)
        if len(signature.output_names) != 1:
            raise ServingError(Code.INVALID_ARGUMENT, "Expected one output Tensor.")
        info = signature.signature_def.outputs[signature.output_names[0]]
        if info.dtype != 1:
            raise ServingError(Code.INVALID_ARGUMENT, f"Expected output Tensor of DT_FLOAT.  Got: {info.dtype}")
        n, result = self._run_examples(servable, signature, input_proto, "Regress", deadline)
        values = result[signature.output_names[0]]
        if not (values.shape == (n,) or values.shape == (n, 1)):
            raise ServingError(Code.INVALID_ARGUMENT, "Expected output Tensor shape to be either [batch_size] or "
                               f"[batch_size, 1] but got [{','.join(map(str, values.shape))}]")
        out = messages.RegressionResult()
        for v in values.reshape(-1).tolist():
            out.regressions.add(value=v)
        return key, out

    def run_classify(self, request, deadline: float | None = None, servable: Servable | None = None):
        spec = _model_spec(request)
        servable = servable or self.resolve(spec)
        key, result = self.classify_result(servable, spec, request.input, deadline)
        response = messages.ClassificationResponse(result=result)
        _fill_spec(response.model_spec, spec.name, servable.version, key)
        return response

    def run_regress(self, request, deadline: float | None = None, servable: Servable | None = None):
        spec = _model_spec(request)
        servable = servable or self.resolve(spec)
        key, result = self.regress_result(servable, spec, request.input, deadline)
        response = messages.RegressionResponse(result=result)
        _fill_spec(response.model_spec, spec.name, servable.version, key)
        return response

    def run_multi_inference(self, request, deadline: float | None = None, servable: Servable | None = None):
        if not request.tasks:
            raise ServingError(Code.INVALID_ARGUMENT, "MultiInferenceRequest must contain at least one task.")
        names = {t.model_spec.name for t in request.tasks}
        if len(names) != 1:
            raise ServingError(Code.INVALID_ARGUMENT,
                               "All ModelSpecs in a MultiInferenceRequest must access the same model name.")
        seen: set[str] = set()
        for task in request.tasks:
            key = task.model_spec.signature_name or DEFAULT_SIGNATURE
            if key in seen:
                raise ServingError(Code.INVALID_ARGUMENT, f"Duplicate evaluation of signature: {key}")
            seen.add(key)
        servable = servable or self.resolve(request.tasks[0].model_spec)
        response = messages.MultiInferenceResponse()
        for task in request.tasks:
            result = response.results.add()
            if task.method_name == "tensorflow/serving/classify":
                key, out = self.classify_result(servable, task.model_spec, request.input, deadline)
                result.classification_result.CopyFrom(out)
            elif task.method_name == "tensorflow/serving/regress":
                key, out = self.regress_result(servable, task.model_spec, request.input, deadline)
                result.regression_result.CopyFrom(out)
            else:
                raise ServingError(Code.UNIMPLEMENTED, f"Unsupported signature method_name: {task.method_name}")
            _fill_spec(result.model_spec, task.model_spec.name, servable.version, key)
        return response

    # ----- metadata and status ----------------------------------------------------------------------
    def run_metadata(self, request) -> messages.GetModelMetadataResponse:
        spec = _model_spec(request)
        if not request.metadata_field:
            raise ServingError(Code.INVALID_ARGUMENT, "GetModelMetadataRequest must specify at least one metadata_field")
        for field in request.metadata_field:
            if field != "signature_def":
                raise ServingError(Code.INVALID_ARGUMENT, f"Metadata field {field} is not supported")
        servable = self.resolve(spec)
        response = messages.GetModelMetadataResponse()
        _fill_spec(response.model_spec, spec.name, servable.version, None)
        sig_map = messages.SignatureDefMap()
        for key, sig in servable.meta_graph_def.signature_def.items():  # TensorFlow's own SignatureDef
            sig_map.signature_def[key].MergeFromString(sig.SerializeToString())
        response.metadata["signature_def"].Pack(sig_map)
        return response

    def run_status(self, request) -> messages.GetModelStatusResponse:
        spec = _model_spec(request)
        response = messages.GetModelStatusResponse()
        if spec.WhichOneof("version_choice") == "version":
            version = spec.version.value
            status = self.monitor.get(spec.name, version)
            if status is None:
                raise ServingError(Code.NOT_FOUND, f"Could not find version {version} of model {spec.name}")
            items = [(version, status)]
        else:
            items = self.monitor.versions(spec.name)
            if not items:
                raise ServingError(Code.NOT_FOUND, f"Could not find any versions of model {spec.name}")
        for version, status in items:
            entry = response.model_version_status.add(version=version, state=int(status.state))
            entry.status.error_code = int(status.code)
            entry.status.error_message = status.message
        return response
