"""Predict, Classify, Regress, MultiInference, GetModelMetadata and GetModelStatus on protos, with TF
Serving's checks, order of checks and messages (2.20). Both front ends and the warmup replay call these.

Each ``run_*`` takes a request proto and an optional monotonic ``deadline`` and returns the response
proto, or raises ``ServingError``. The checks themselves live in :mod:`~serving.server.predict` and
:mod:`~serving.server.examples`; this module resolves the version, runs the model and keeps the
metrics.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from serving.protocol import messages
from serving.protocol.tensors import to_tensor_proto
from serving.server import examples, predict
from serving.server.manager import ModelManager
from serving.server.metrics import ServingMetrics
from serving.server.monitor import StateMonitor
from serving.server.servable import Servable, Signature
from serving.server.status import Code, ServingError, from_tf_error

__all__ = ["Inference", "DEFAULT_SIGNATURE"]

DEFAULT_SIGNATURE = "serving_default"


def _deadline_check(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() >= deadline:
        raise ServingError(Code.DEADLINE_EXCEEDED, "Deadline exceeded")


def _model_spec(request):
    if not request.HasField("model_spec"):
        raise ServingError(Code.INVALID_ARGUMENT, "Missing ModelSpec")
    return request.model_spec


def _fill_spec(out, name: str, version: int, signature: str | None) -> None:
    """``MakeModelSpec``: an empty signature name is answered as ``serving_default``."""
    out.name = name
    out.version.value = version
    if signature is not None:
        out.signature_name = signature or DEFAULT_SIGNATURE


class Inference:
    """The request logic, bound to a manager (lookups), a monitor (status) and the metrics.

    ``max_request_elements`` bounds the elements a Predict request's inputs may declare (TF Serving
    has no such bound); ``method_name_check`` is ``--enable_signature_method_name_check``."""

    def __init__(self, manager: ModelManager, monitor: StateMonitor, metrics: ServingMetrics,
                 as_tensor_content: bool = False, max_request_elements: int = predict.DEFAULT_MAX_REQUEST_ELEMENTS,
                 method_name_check: bool = False) -> None:
        self.manager, self.monitor, self.metrics = manager, monitor, metrics
        self.as_tensor_content = as_tensor_content
        self.max_request_elements = max_request_elements
        self.method_name_check = method_name_check

    def resolve(self, spec) -> Servable:
        which = spec.WhichOneof("version_choice")
        if which == "version":
            return self.manager.servable(spec.name, version=spec.version.value)
        if which == "version_label":
            return self.manager.servable(spec.name, label=spec.version_label)
        return self.manager.servable(spec.name)

    def _timed(self, servable: Servable, api: str | None, deadline: float | None,
               run: Callable[[], list[np.ndarray]], model: str | None = None) -> list[np.ndarray]:
        """Run the model; ``runtime_latency`` is recorded for Predict, Classify and Regress (``api``)."""
        _deadline_check(deadline)
        start = time.perf_counter()
        try:
            outputs = run()
        except ServingError:
            raise
        except Exception as exc:  # noqa: BLE001 - TensorFlow's errors keep their canonical code
            raise from_tf_error(exc) from exc
        if api is not None:
            self.metrics.runtime_latency.observe(model if model is not None else servable.name, api, "TF1",
                                                 value=(time.perf_counter() - start) * 1e6)
        _deadline_check(deadline)
        return outputs

    # ----- Predict --------------------------------------------------------------------------------
    def _predict(self, servable: Servable, model: str, signature_name: str, inputs: Mapping[str, Any],
                 output_filter: Sequence[str], deadline: float | None,
                 count: Callable[[Any], int] = predict.proto_elements,
                 limit: int | None = None) -> tuple[str, dict[str, np.ndarray]]:
        key = signature_name or DEFAULT_SIGNATURE
        signature: Signature | None = servable.signature(key)
        if signature is None:
            raise ServingError(Code.FAILED_PRECONDITION, f'Serving signature key "{key}" not found.')
        predict.check_method(signature, self.method_name_check)
        predict.check_input_names(signature, set(inputs))
        arrays = predict.decode_inputs(signature, inputs, self.max_request_elements if limit is None else limit,
                                       count)
        wanted = predict.check_output_filter(signature, output_filter)
        predict.check_dtypes(signature, arrays)
        if output_filter:
            sig = signature.signature_def
            feeds = [sig.inputs[a].name for a in signature.input_names]
            fetches = [sig.outputs[a].name for a in wanted]
            outputs = self._timed(servable, "Predict", deadline, lambda: servable.run(feeds, fetches, arrays), model)
        else:
            outputs = self._timed(servable, "Predict", deadline, lambda: signature.call(arrays), model)
        return key, dict(zip(wanted, outputs))

    def predict_arrays(self, servable: Servable, model: str, signature_name: str, inputs: dict[str, np.ndarray],
                       deadline: float | None = None) -> dict[str, np.ndarray]:
        """Predict on decoded arrays (the REST front end's JSON tensors)."""
        _, outputs = self._predict(servable, model, signature_name, inputs, (), deadline, predict.array_elements)
        return outputs

    def run_predict(self, request: messages.PredictRequest, deadline: float | None = None,
                    servable: Servable | None = None, limit: int | None = None) -> messages.PredictResponse:
        """``limit`` overrides ``max_request_elements`` (the warmup replay's records come with the model)."""
        spec = _model_spec(request)
        servable = servable or self.resolve(spec)
        key, outputs = self._predict(servable, spec.name, spec.signature_name, request.inputs,
                                     request.output_filter, deadline, limit=limit)
        response = messages.PredictResponse()
        _fill_spec(response.model_spec, spec.name, servable.version, key)
        for alias, array in outputs.items():
            to_tensor_proto(array, content=self.as_tensor_content, proto=response.outputs[alias])
        return response

    # ----- Classify / Regress / MultiInference ------------------------------------------------------
    def _run_examples(self, servable: Servable, model: str, api: str | None, input_proto, feeds: Sequence[str],
                      fetches: list[str], deadline: float | None) -> tuple[int, dict[str, np.ndarray]]:
        """``PerformOneShotTensorComputation``: every feed gets the serialized examples."""
        tensor = examples.serialized_examples(input_proto)
        outputs = self._timed(servable, api, deadline, lambda: servable.run(feeds, fetches, [tensor] * len(feeds)),
                              model)
        return len(tensor), dict(zip(fetches, outputs))

    def run_classify(self, request, deadline: float | None = None, servable: Servable | None = None):
        spec = _model_spec(request)
        servable = servable or self.resolve(spec)
        sig = examples.classification_signature(servable.signature_map.signature_def,
                                                spec.signature_name or DEFAULT_SIGNATURE, self.method_name_check)
        response = messages.ClassificationResponse()
        _fill_spec(response.model_spec, spec.name, servable.version, spec.signature_name)
        feed, fetches = examples.classify_tensors(sig)
        n, outputs = self._run_examples(servable, spec.name, "Classify", request.input, [feed], fetches, deadline)
        response.result.CopyFrom(examples.classification_result(sig, n, outputs))
        return response

    def run_regress(self, request, deadline: float | None = None, servable: Servable | None = None):
        spec = _model_spec(request)
        servable = servable or self.resolve(spec)
        sig = examples.regression_signature(servable.signature_map.signature_def,
                                            spec.signature_name or DEFAULT_SIGNATURE, self.method_name_check)
        response = messages.RegressionResponse()
        _fill_spec(response.model_spec, spec.name, servable.version, spec.signature_name)
        feed, fetches = examples.regress_tensors(sig)
        n, outputs = self._run_examples(servable, spec.name, "Regress", request.input, [feed], fetches, deadline)
        response.result.CopyFrom(examples.regression_result(sig, n, outputs))
        return response

    def run_multi_inference(self, request, deadline: float | None = None, servable: Servable | None = None):
        """``RunMultiInferenceWithServerCore``: the first task's ModelSpec picks the version; one run
        feeds every task's input and fetches every task's outputs."""
        first = request.tasks[0].model_spec if request.tasks and request.tasks[0].HasField("model_spec") \
            else messages.ModelSpec()
        servable = servable or self.resolve(first)
        signatures = servable.signature_map.signature_def
        model, seen, feeds, fetches = "", set(), set(), set()
        for task in request.tasks:
            if not task.model_spec.name:
                raise ServingError(Code.INVALID_ARGUMENT, "Found ModelSpec with an empty model name.")
            if not model:
                model = task.model_spec.name
            elif model != task.model_spec.name:
                raise ServingError(Code.INVALID_ARGUMENT, "All ModelSpecs in a MultiInferenceRequest must access "
                                   "the same model name.")
            key = task.model_spec.signature_name or DEFAULT_SIGNATURE
            if key in seen:
                raise ServingError(Code.INVALID_ARGUMENT, f"Duplicate evaluation of signature: {key}")
            seen.add(key)
            if key not in signatures:
                raise ServingError(Code.INVALID_ARGUMENT, f"Requested signature not found in model graph: {key}")
            if task.method_name == examples.CLASSIFY:
                feed, names = examples.classify_tensors(signatures[key])
            elif task.method_name == examples.REGRESS:
                feed, names = examples.regress_tensors(signatures[key])
            else:
                raise ServingError(Code.UNIMPLEMENTED, f"Unsupported signature method_name: {task.method_name}")
            feeds.add(feed)
            fetches.update(names)
        n, outputs = self._run_examples(servable, model, None, request.input, sorted(feeds),
                                        sorted(fetches), deadline)
        self.metrics.example_counts.observe(model, value=n)
        self.metrics.example_count_total.inc(model, amount=n)
        response = messages.MultiInferenceResponse()
        for task in request.tasks:
            sig = signatures[task.model_spec.signature_name or DEFAULT_SIGNATURE]
            result = response.results.add()
            if task.method_name == examples.CLASSIFY:
                result.classification_result.CopyFrom(examples.classification_result(sig, n, outputs))
            else:
                result.regression_result.CopyFrom(examples.regression_result(sig, n, outputs))
            _fill_spec(result.model_spec, task.model_spec.name, servable.version, task.model_spec.signature_name)
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
        _fill_spec(response.model_spec, servable.name, servable.version, None)
        response.metadata["signature_def"].Pack(servable.signature_map)
        return response

    def run_status(self, request) -> messages.GetModelStatusResponse:
        """``GetModelStatusImpl``: ``version_label`` is ignored, as TF Serving ignores it."""
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
